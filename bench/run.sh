#!/usr/bin/env bash
# make bench: install the peers if missing, then run bench/bench.py (arguments are passed on).
#   Debian: pssh (its CLI is /usr/bin/parallel-ssh), openssh-client/-server, python3-venv
#   PyPI, in bench/.venv (git-ignored): ansible-core and parallel-ssh, pinned in bench/requirements.txt
# BIN (default .build/release) names the folder with osfarm, osfarm-agent and osfarm-sim; the bench
# copies them to its work folder first, so a rebuild while it runs changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
[ -x /usr/bin/parallel-ssh ] || missing+=(pssh)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=bench/.venv
stamp="$venv/.requirements.sha256"
want="$(sha256sum bench/requirements.txt | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bench: installing bench/requirements.txt into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
  echo "$want" >"$stamp"
fi

exec "$venv/bin/python" bench/bench.py --bin "${BIN:-.build/release}" "$@"
