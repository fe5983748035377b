# osfarm — make demo runs the job on a local simulated farm; make test runs every test.
# Both install what is missing first (libssh2-1-dev, pkg-config, openssh-server/client).

SWIFT ?= swift
BIN := .build/debug

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Build everything (the tests start the real osfarm-agent binary), then run the tests.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	BIN=$(BIN) scripts/demo.sh

# Benchmarks against Ansible, pssh and parallel-ssh (not part of make test); see bench/README.md.
bench: deps
	$(SWIFT) build -c release
	BIN=.build/release bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf .build
