#!/usr/bin/env python3
"""Inventories for one simulated farm (osfarm-sim farm up --dir D), for every tool of the bench.

    python3 bench/inventory.py ansible D --key KEY [--count N] > hosts.yml
    python3 bench/inventory.py osfarm  D [--count N]            > inventory.yaml
    python3 bench/inventory.py pssh    D [--count N]            > hosts.txt   (Debian parallel-ssh -h)
    python3 bench/inventory.py hosts   D [--count N]            > ADDRESS PORT per line

--count takes the first N servers of D/farm.json (the deployment controller first), so one farm of
128 servers serves every fan-out size. Every tool gets the same user, the same addresses and ports
and the same verified known_hosts file (D/known_hosts, written by osfarm-sim from each sshd's own
host key); host-key checking is strict for every tool that has it.
"""
import argparse
import json
import os
import sys


def load_farm(directory):
    with open(os.path.join(directory, "farm.json")) as handle:
        return json.load(handle)


def servers(farm, count):
    chosen = farm["servers"] if count is None else farm["servers"][:count]
    if count is not None and len(chosen) < count:
        sys.exit(f"the farm has {len(farm['servers'])} servers, not {count}")
    return chosen


def ssh_options(farm):
    """OpenSSH options shared by ssh, Ansible and Debian's parallel-ssh: strict host keys against
    the farm's verified known_hosts, the one identity given, never a prompt."""
    return [
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={farm['knownHosts']}",
        "-o", "GlobalKnownHostsFile=/dev/null",
    ]


def ansible_inventory(farm, count, key, python):
    chosen = servers(farm, count)
    dc = [s for s in chosen if s["role"] == "deployment-controller"]
    fe = [s for s in chosen if s["role"] != "deployment-controller"]

    def host(s):
        return {
            "ansible_host": s["address"],
            "ansible_port": s["port"],
            # Where the simulated server's C: tree is, and its own address (readiness ports).
            "sim_root": s["directory"],
            "sim_address": s["address"],
        }

    inventory = {
        "all": {
            "vars": {
                "ansible_user": farm.get("user", "root"),
                "ansible_ssh_private_key_file": key,
                "ansible_ssh_common_args": " ".join(ssh_options(farm)),
                "ansible_python_interpreter": python,
                "farm_dir": farm["directory"],
            },
            "children": {
                "dc": {"hosts": {s["name"]: host(s) for s in dc}},
                "fe": {"hosts": {s["name"]: host(s) for s in fe}},
            },
        }
    }
    if "newDatabase" in farm:
        inventory["all"]["vars"]["old_db"] = farm["oldDatabase"]["name"]
        inventory["all"]["vars"]["new_db"] = farm["newDatabase"]["name"]
        inventory["all"]["vars"]["new_db_address"] = farm["newDatabase"]["address"]
        inventory["all"]["vars"]["new_db_port"] = farm["newDatabase"]["port"]
    # JSON is YAML; Ansible's yaml inventory plugin reads it from a .yml file.
    return json.dumps(inventory, indent=1) + "\n"


def osfarm_inventory(farm, count):
    """The inventory osfarm-sim wrote, cut to the first N servers."""
    with open(farm["inventory"]) as handle:
        text = handle.read()
    head, _, _ = text.partition("servers:\n")
    lines = [head + "servers:"]
    for s in servers(farm, count):
        lines += [f"  - name: {s['name']}", f"    host: {s['address']}", f"    role: {s['role']}",
                  "    tags: [simulated]"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["ansible", "osfarm", "pssh", "hosts"])
    parser.add_argument("farm_dir")
    parser.add_argument("--count", type=int)
    parser.add_argument("--key", help="the private key Ansible uses (default: the farm's client key)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the servers' Python, for Ansible modules")
    args = parser.parse_args()
    farm = load_farm(args.farm_dir)
    if args.kind == "ansible":
        sys.stdout.write(ansible_inventory(farm, args.count, args.key or farm["clientKey"], args.python))
    elif args.kind == "osfarm":
        sys.stdout.write(osfarm_inventory(farm, args.count))
    elif args.kind == "pssh":
        user = farm.get("user", "root")
        sys.stdout.write("".join(f"{s['address']}:{s['port']} {user}\n" for s in servers(farm, args.count)))
    else:
        sys.stdout.write("".join(f"{s['address']} {s['port']}\n" for s in servers(farm, args.count)))


if __name__ == "__main__":
    main()
