#!/usr/bin/env bash
# Installs osfarm on a Debian jump host from a built checkout: the binary, the systemd units and
# their wrapper, the example hooks, the shell completions and the man page (both generated from
# the CLI itself), and the README. Run as root from the repository after `swift build -c release`.
#   deploy/jumphost/install-osfarm.sh [PREFIX]     (default /usr/local)
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix="${1:-/usr/local}"
binary=.build/release/osfarm
[ -x "$binary" ] || { echo "build first: swift build -c release" >&2; exit 1; }

docs="$(mktemp -d)"
trap 'rm -rf "$docs"' EXIT
scripts/generate-docs.sh "$binary" "$docs"

install -D -m 0755 "$binary" "$prefix/bin/osfarm"
install -D -m 0755 deploy/jumphost/move-db-from-env "$prefix/libexec/osfarm/move-db-from-env"
install -D -m 0755 deploy/jumphost/hooks/haproxy-server "$prefix/libexec/osfarm/hooks/haproxy-server"
install -D -m 0644 "$docs/osfarm.1" "$prefix/share/man/man1/osfarm.1"
install -D -m 0644 "$docs/completions/osfarm.bash" "$prefix/share/bash-completion/completions/osfarm"
install -D -m 0644 "$docs/completions/_osfarm" "$prefix/share/zsh/site-functions/_osfarm"
install -D -m 0644 "$docs/completions/osfarm.fish" "$prefix/share/fish/vendor_completions.d/osfarm.fish"
install -D -m 0644 README.md "$prefix/share/doc/osfarm/README.md"
install -D -m 0644 deploy/jumphost/osfarm-move-db@.service /etc/systemd/system/osfarm-move-db@.service
install -D -m 0644 deploy/jumphost/osfarm-move-db@.timer /etc/systemd/system/osfarm-move-db@.timer
install -D -m 0644 deploy/jumphost/osfarm.logrotate /etc/logrotate.d/osfarm
command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload 2>/dev/null || true
echo "osfarm installed under $prefix (man osfarm; completions for bash, zsh and fish)"
