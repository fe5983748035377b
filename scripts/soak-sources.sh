#!/usr/bin/env bash
# The SHA-256 of the sources the soak tests judge: the run engine, its journal and runbook
# (Sources/FarmController/MoveDB, with the journal's crash hooks) and the soak tests themselves.
# `make soak` writes it to .ci/soak-passed when it passes; .ci/run runs `make soak` when the
# sources no longer hash to what is recorded there.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z Sources/FarmController/MoveDB Tests/IntegrationTests/CrashSweepTests.swift 'Tests/IntegrationTests/*SoakTests.swift' \
  | LC_ALL=C sort -z \
  | xargs -0 sha256sum \
  | sha256sum \
  | cut -d' ' -f1
