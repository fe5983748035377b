#!/usr/bin/env bash
# The floor of the fan-out: N concurrent plain OpenSSH connections, one per server, all started at
# once, each `ssh -o BatchMode=yes HOST true` with stdin closed. The farm's key forces the osfarm
# agent, so each runs the agent, which says hello and exits: the least any SSH tool can do for one
# round trip to the agent. Strict host-key checking against the farm's known_hosts.
#   bench/floor.sh HOSTS_FILE KEY KNOWN_HOSTS [USER]     (HOSTS_FILE: "ADDRESS PORT" per line)
set -u
hosts="$1" key="$2" known="$3" user="${4:-root}"
pids=()
while read -r address port; do
  [ -n "$address" ] || continue
  ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
      -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null \
      -i "$key" -l "$user" -p "$port" "$address" true </dev/null >/dev/null &
  pids+=("$!")
done <"$hosts"
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ] || { echo "floor: $failed of ${#pids[@]} connections failed" >&2; exit 1; }
