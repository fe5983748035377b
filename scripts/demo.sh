#!/usr/bin/env bash
# make demo: the real job on a local simulated farm. One deployment controller and three
# front-ends, each a real sshd on its own loopback address with the agent behind it and a
# simulated Windows OutSystems server under it; an old and a new database server. osfarm moves
# the farm from the old to the new database as it would a real farm, then the simulator's own
# view of the servers (not osfarm's) confirms every server names the new database and runs.
set -euo pipefail

bin="${BIN:-.build/debug}"
farm="$(mktemp -d -t osfarm-demo.XXXXXX)"
cleanup() { "$bin/osfarm-sim" farm down --dir "$farm" --remove >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== a simulated farm in $farm"
"$bin/osfarm-sim" farm up --dir "$farm" --front-ends 3 --profile fast
old="$("$bin/osfarm-sim" farm database --dir "$farm" old)"
new="$("$bin/osfarm-sim" farm database --dir "$farm" new)"
echo
echo "== osfarm check -i $farm/inventory.yaml"
"$bin/osfarm" check -i "$farm/inventory.yaml"
echo
echo "== the restore left the runtime user orphaned on $new (its login has another SID there)"
"$bin/osfarm-sim" fault --dir "$farm" --server dc1 --login-fault orphaned=OSRUNTIME
echo "== osfarm check -i $farm/inventory.yaml --limit dc1 --database $new   (the login check: finding and DBA fix)"
"$bin/osfarm" check -i "$farm/inventory.yaml" --limit dc1 --database "$new" || echo "(exit $?: a login is refused; nothing was stopped)"
echo "== the DBA runs the fix (ALTER USER ... WITH LOGIN = ...)"
"$bin/osfarm-sim" fault --dir "$farm" --server dc1 --login-fix OSRUNTIME
echo
echo "== osfarm move-db run -i $farm/inventory.yaml --to $new --expect-from $old --db-restored --yes"
"$bin/osfarm" move-db run -i "$farm/inventory.yaml" --to "$new" --expect-from "$old" --db-restored --yes \
  --state-dir "$farm/runs" --report "$farm/change-record.md"
echo
echo "== the farm as the simulator sees it"
"$bin/osfarm-sim" farm status --dir "$farm" --expect-database "$new"
echo
echo "the change record osfarm wrote (removed with the demo farm):"
sed -n '1,16p' "$farm/change-record.md"
