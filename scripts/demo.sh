#!/usr/bin/env bash
# make demo: a local simulated farm (1 deployment controller + 3 front-ends, each a real sshd on
# its own loopback address), then osfarm run against it as against a real farm, then tear-down.
set -euo pipefail

bin="${BIN:-.build/debug}"
farm="$(mktemp -d -t osfarm-demo.XXXXXX)"
cleanup() { "$bin/osfarm-sim" farm down --dir "$farm" --remove >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== bringing up a simulated farm in $farm"
"$bin/osfarm-sim" farm up --dir "$farm" --front-ends 3
echo
echo "== osfarm check -i $farm/inventory.yaml"
"$bin/osfarm" check -i "$farm/inventory.yaml"
