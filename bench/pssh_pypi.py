#!/usr/bin/env python3
"""The fan-out with parallel-ssh from PyPI (pssh.clients.ParallelSSHClient, libssh2 through ssh2-python).

    .venv/bin/python bench/pssh_pypi.py HOSTS_FILE KEY [--pool N] [--user root] [--command true]

HOSTS_FILE has "ADDRESS PORT" per line (bench/inventory.py hosts D). Every server runs COMMAND
(the farm's key forces the osfarm agent instead), its stdin is closed at once (send_eof) so the agent
says hello and exits, and every output line is read. Exit 0 only when every server exited 0.

parallel-ssh has no known_hosts check: it neither reads D/known_hosts nor verifies the host key
(the other tools of the bench all check it strictly).
"""
import argparse
import sys

from pssh.clients import ParallelSSHClient
from pssh.config import HostConfig


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("hosts_file")
    parser.add_argument("key")
    parser.add_argument("--pool", type=int, default=None, help="concurrent connections (default: one per host)")
    parser.add_argument("--user", default="root")
    parser.add_argument("--command", default="true")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    hosts, configs = [], []
    with open(args.hosts_file) as handle:
        for line in handle:
            if not line.strip():
                continue
            address, port = line.split()
            hosts.append(address)
            configs.append(HostConfig(port=int(port), user=args.user, private_key=args.key))
    client = ParallelSSHClient(hosts, host_config=configs, pool_size=args.pool or len(hosts),
                               timeout=args.timeout, num_retries=1)
    output = client.run_command(args.command, stop_on_errors=False)
    for host_output in output:
        if host_output.exception is None:
            host_output.client.eagain(host_output.channel.send_eof)
    client.join(output)
    failed = 0
    for host_output in output:
        if host_output.exception is not None:
            failed += 1
            print(f"{host_output.host}: {host_output.exception!r}", file=sys.stderr)
            continue
        lines = list(host_output.stdout)
        if host_output.exit_code != 0 or not lines:
            failed += 1
            print(f"{host_output.host}: exit {host_output.exit_code}, {len(lines)} lines", file=sys.stderr)
    print(f"{len(hosts) - failed}/{len(hosts)} ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
