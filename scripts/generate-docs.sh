#!/usr/bin/env bash
# Generates osfarm's shell completions and man page from the argument parser itself (the CLI's
# own --generate-completion-script and --experimental-dump-help), and lints the page with mandoc.
# make test runs it, so they always match the CLI; deploy/jumphost/install-osfarm.sh installs them.
#   scripts/generate-docs.sh [OSFARM-BINARY] [OUTPUT-DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
osfarm="${1:-.build/debug/osfarm}"
out="${2:-.build/docs}"
mkdir -p "$out/completions"

"$osfarm" --generate-completion-script bash > "$out/completions/osfarm.bash"
"$osfarm" --generate-completion-script zsh > "$out/completions/_osfarm"
"$osfarm" --generate-completion-script fish > "$out/completions/osfarm.fish"
for file in "$out/completions/osfarm.bash" "$out/completions/_osfarm" "$out/completions/osfarm.fish"; do
  grep -q "move-db" "$file" || { echo "generate-docs: $file does not know move-db" >&2; exit 1; }
done
bash -n "$out/completions/osfarm.bash"

"$osfarm" --experimental-dump-help | python3 scripts/man-from-toolinfo.py "$(date -u '+%B %-d, %Y')" > "$out/osfarm.1"
if command -v mandoc >/dev/null 2>&1; then
  mandoc -T lint -W error "$out/osfarm.1"
  rendered="$(mandoc -T ascii "$out/osfarm.1")"
  case "$rendered" in *rollback*) ;; *) echo "generate-docs: the man page lacks rollback" >&2; exit 1 ;; esac
  plain="$(printf '%s' "$rendered" | sed 's/.\x08//g')"
  for heading in EXAMPLES ENVIRONMENT "EXIT STATUS"; do
    case "$plain" in *"$heading"*) ;; *) echo "generate-docs: the man page lacks $heading" >&2; exit 1 ;; esac
  done
fi
echo "completions and man page: $out"
