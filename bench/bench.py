#!/usr/bin/env python3
"""make bench: osfarm against the tools operators would use instead (Ansible, Debian's pssh,
parallel-ssh from PyPI) and against plain OpenSSH, on farms of real sshd servers simulated by
osfarm-sim. bench/run.sh installs the peers, then runs this file; bench/README.md explains every
column of the table it prints and writes to bench/results/. Part 4 (downtime) measures osfarm alone:
the farm's downtime on the realistic profile against its bound (issue 11, item 8).

Standard library only. Every figure is taken from outside the tool: wall time from a monotonic
clock around the whole process, controller CPU (user + system) and peak RSS from the kernel's
accounting of the finished process tree (os.wait4), SSH connections and remote sessions from each
simulated server's own sshd log (LogLevel DEBUG1).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv")
PLAYBOOK = os.path.join(HERE, "ansible", "movedb.yml")

FANOUT_TOOLS = ["osfarm", "ansible-raw", "ansible-command", "pssh-debian", "parallel-ssh-pypi", "ssh-floor"]
TOOL_LABELS = {
    "osfarm": "osfarm check",
    "osfarm-n": "osfarm check --concurrency N",
    "ansible-raw": "ansible -m raw",
    "ansible-command": "ansible -m command",
    "pssh-debian": "parallel-ssh -p N (Debian pssh)",
    "parallel-ssh-pypi": "parallel-ssh (PyPI)",
    "ssh-floor": "floor: N × ssh HOST true",
    "osfarm-job": "osfarm move-db run",
    "playbook": "ansible-playbook movedb.yml",
}
ACCEPTED = "Accepted publickey for "
SESSION = "Starting session: "


def log(message):
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def parse_sizes(text):
    return [int(x) for x in text.split(",") if x.strip()]


def parse_runs(text, sizes):
    """'5' for every size, or '4:5,16:5,64:3,128:2'."""
    if ":" not in text:
        return {size: int(text) for size in sizes}
    table = dict((int(k), int(v)) for k, v in (part.split(":") for part in text.split(",")))
    return {size: table.get(size, min(table.values())) for size in sizes}


class Measured:
    """One run of one command: wall seconds, controller CPU seconds, peak RSS KiB, exit code, and the
    CPU seconds the whole machine spent meanwhile (the simulated servers run on the same cores)."""

    def __init__(self, wall, cpu, rss_kib, exit_code, started, machine_cpu=None, machine_samples=None):
        self.wall, self.cpu, self.rss_kib, self.exit_code, self.started = wall, cpu, rss_kib, exit_code, started
        self.machine_cpu = machine_cpu
        # (time.time(), machine CPU seconds) every 0.05 s while the command ran.
        self.machine_samples = machine_samples or []

    def machine_busy_between(self, start, end):
        """How busy all cores were from `start` to `end` (epoch seconds), from the samples; None
        when fewer than two samples fall in it."""
        inside = [(t, c) for t, c in self.machine_samples if start <= t <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return None
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]) / (os.cpu_count() or 1)


def machine_cpu_seconds():
    """CPU seconds spent by every process since boot, all cores (/proc/stat: all but idle and iowait)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def measure(argv, env, log_path, timeout, cwd=None):
    """Runs argv in its own session, stdin empty, both outputs to log_path; waits for it with
    os.wait4, whose rusage covers the process and every descendant it waited for (ru_maxrss: the
    largest single process among them, not a sum)."""
    with open(log_path, "ab") as out:
        out.write(("$ " + " ".join(argv) + "\n").encode())
        out.flush()
        started = time.time()
        busy0 = machine_cpu_seconds()
        t0 = time.monotonic()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=cwd,
                                   start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        samples, done = [], threading.Event()

        def sample():  # the machine's CPU over the run, to say how busy it was in any part of it
            while not done.is_set():
                busy = machine_cpu_seconds()
                if busy is not None:
                    samples.append((time.time(), busy))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall = time.monotonic() - t0
        busy1 = machine_cpu_seconds()
        process.returncode = os.waitstatus_to_exitcode(status)
        # Whatever the command left behind in its own process group goes too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        code = process.returncode if not killed else "timeout"
        out.write(f"# exit {code}, {wall:.3f} s\n".encode())
    machine = busy1 - busy0 if busy0 is not None and busy1 is not None else None
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, code, started, machine, samples)


class Workspace:
    """A temporary folder for farms, inventories, logs and a snapshot of the binaries (so a rebuild
    of .build while the bench runs cannot change or break them); removed at the end, farms down."""

    def __init__(self, bin_dir, keep):
        self.root = tempfile.mkdtemp(prefix="osfarm-perf.", dir="/tmp")
        self.keep = keep
        self.farms = []
        self.control_dirs = []
        self.bin = os.path.join(self.root, "bin")
        os.makedirs(self.bin)
        for name in ("osfarm", "osfarm-agent", "osfarm-sim"):
            source = os.path.join(bin_dir, name)
            if not os.access(source, os.X_OK):
                sys.exit(f"bench: {source} is missing; build first (swift build -c release)")
            shutil.copy2(source, self.bin)
        self.logs = os.path.join(self.root, "logs")
        os.makedirs(self.logs)
        self.counter = 0

    def tool(self, name):
        return os.path.join(self.bin, name)

    def next_id(self):
        self.counter += 1
        return self.counter

    def control_dir(self):
        path = os.path.join(self.root, f"cp{self.next_id()}")
        os.makedirs(path)
        self.control_dirs.append(path)
        return path

    def close_control_masters(self, path):
        """Ansible leaves one ControlPersist master per server behind; end each through its socket."""
        if not os.path.isdir(path):
            return
        sockets = [os.path.join(path, name) for name in os.listdir(path)]
        processes = [subprocess.Popen(["ssh", "-o", f"ControlPath={s}", "-O", "exit", "bench"], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for s in sockets]
        for process in processes:
            process.wait()

    def cleanup(self):
        for path in self.control_dirs:
            self.close_control_masters(path)
        for farm in list(self.farms):
            farm.down()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


class Farm:
    """A farm of osfarm-sim: 1 deployment controller + (servers - 1) front-ends, each a real sshd."""

    def __init__(self, work, servers, port, simulated=True, profile="instant"):
        self.work = work
        self.servers = servers
        self.dir = os.path.join(work.root, f"farm{work.next_id()}-{servers}")
        self.port = port
        self.simulated = simulated
        self.profile = profile
        self.record = None
        self.inventories = {}

    def up(self):
        argv = [self.work.tool("osfarm-sim"), "farm", "up", "--dir", self.dir, "--front-ends", str(self.servers - 1),
                "--port", str(self.port)]
        argv += ["--profile", self.profile] if self.simulated else ["--no-simulation"]
        self.work.farms.append(self)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "farm.json")) as handle:
            self.record = json.load(handle)
        self.add_bench_key()
        return self

    def down(self):
        if self in self.work.farms:
            self.work.farms.remove(self)
            subprocess.run([self.work.tool("osfarm-sim"), "farm", "down", "--dir", self.dir, "--remove"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def client_key(self):
        return self.record["clientKey"]

    @property
    def known_hosts(self):
        return self.record["knownHosts"]

    @property
    def bench_key(self):
        return os.path.join(self.dir, "bench", "id_ed25519")

    def add_bench_key(self):
        """A second Ed25519 key for Ansible, without the forced command (Ansible needs a shell and
        Python on the server) but with the same environment= options the osfarm key has, so the
        simulated Windows programs know which server they run on."""
        os.makedirs(os.path.dirname(self.bench_key), exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "osfarm perf ansible", "-f", self.bench_key],
                       check=True)
        with open(self.bench_key + ".pub") as handle:
            public = handle.read().strip()
        for server in self.record["servers"]:
            path = os.path.join(server["directory"], "ssh", "authorized_keys")
            with open(path) as handle:
                first = handle.readline()
            options = ",".join(re.findall(r'environment="[^"]*"', first))
            with open(path, "a") as handle:
                handle.write((options + " " if options else "") + public + "\n")

    def inventory(self, kind, count=None, key=None):
        count = count or self.servers
        name = f"{kind}-{count}" + ("-bench" if key == "bench" else "")
        if name not in self.inventories:
            extension = {"ansible": "yml", "osfarm": "yaml"}.get(kind, "txt")
            path = os.path.join(self.dir, f"inventory-{name}.{extension}")
            argv = [sys.executable, os.path.join(HERE, "inventory.py"), kind, self.dir, "--count", str(count)]
            if kind == "ansible":
                argv += ["--key", self.bench_key if key == "bench" else self.client_key]
            with open(path, "w") as handle:
                subprocess.run(argv, check=True, stdout=handle)
            self.inventories[name] = path
        return self.inventories[name]

    def sshd_logs(self, count=None):
        return [os.path.join(s["directory"], "ssh", "sshd.log") for s in self.record["servers"][:count or self.servers]]

    def log_offsets(self, count=None):
        return {path: os.path.getsize(path) if os.path.exists(path) else 0 for path in self.sshd_logs(count)}

    @staticmethod
    def log_counts(offsets):
        """SSH connections (authenticated) and sessions (each one remote command or subsystem)
        that the sshd logs show since the offsets."""
        connections = sessions = 0
        for path, offset in offsets.items():
            with open(path, "rb") as handle:
                handle.seek(offset)
                for line in handle.read().decode(errors="replace").splitlines():
                    if line.startswith(ACCEPTED):
                        connections += 1
                    elif line.startswith(SESSION):
                        sessions += 1
        return connections, sessions


def base_env(work):
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)  # the key files given, never an ssh-agent
    env.setdefault("LANG", "C.UTF-8")
    if "UTF-8" not in env.get("LC_ALL", "UTF-8"):
        env["LC_ALL"] = "C.UTF-8"
    env.update({
        "ANSIBLE_HOME": os.path.join(work.root, "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(work.root, "ansible-local-tmp"),
        "ANSIBLE_REMOTE_TMP": os.path.join(work.root, "ansible-remote-tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_TIMEOUT": "60",
    })
    return env


class Bench:
    def __init__(self, args):
        self.args = args
        bin_dir = args.bin if os.path.isabs(args.bin) else os.path.join(REPO, args.bin)
        self.work = Workspace(bin_dir, args.keep)
        self.env = base_env(self.work)
        self.port = args.port
        self.rows = []          # the table
        self.raw = {"fanout": {}, "job": {}, "job_cost": {}, "downtime": {}, "overhead": {}}
        self.failed_logs = []
        self.started = datetime.datetime.now().astimezone()

    def next_port(self):
        self.port += 1
        return self.port

    def venv(self, name):
        return os.path.join(VENV, "bin", name)

    # ---------------------------------------------------------------- fan-out

    def fanout_argv(self, tool, farm, n):
        agent = self.work.tool("osfarm-agent")
        ssh_options = ["-O", "BatchMode=yes", "-O", "IdentitiesOnly=yes", "-O", "StrictHostKeyChecking=yes",
                       "-O", f"UserKnownHostsFile={farm.known_hosts}", "-O", "GlobalKnownHostsFile=/dev/null",
                       "-O", f"IdentityFile={farm.client_key}"]
        if tool == "osfarm":
            return [self.work.tool("osfarm"), "check", "-i", farm.inventory("osfarm", n)]
        if tool == "osfarm-n":  # optional: osfarm without its default cap of 32 connections at once
            return [self.work.tool("osfarm"), "check", "-i", farm.inventory("osfarm", n), "--concurrency", str(n)]
        if tool == "ansible-raw":
            return [self.venv("ansible"), "all", "-i", farm.inventory("ansible", n, key="bench"), "-f", str(n),
                    "-m", "raw", "-a", f"{agent} serve </dev/null"]
        if tool == "ansible-command":
            return [self.venv("ansible"), "all", "-i", farm.inventory("ansible", n, key="bench"), "-f", str(n),
                    "-m", "command", "-a", json.dumps({"cmd": f"{agent} serve", "stdin": " "})]
        if tool == "pssh-debian":
            return ["/usr/bin/parallel-ssh", "-h", farm.inventory("pssh", n), "-p", str(n), "-t", "300"] + ssh_options + ["true"]
        if tool == "parallel-ssh-pypi":
            return [self.venv("python"), os.path.join(HERE, "pssh_pypi.py"), farm.inventory("hosts", n), farm.client_key,
                    "--pool", str(n)]
        if tool == "ssh-floor":
            return ["bash", os.path.join(HERE, "floor.sh"), farm.inventory("hosts", n), farm.client_key, farm.known_hosts]
        raise ValueError(tool)

    def run_tool(self, tool, argv, farm, n, label, timeout):
        control = None
        env = self.env
        if tool.startswith("ansible") or tool == "playbook":
            control = self.work.control_dir()
            env = dict(self.env, ANSIBLE_SSH_CONTROL_PATH_DIR=control, ANSIBLE_FORKS=str(n))
        log_path = os.path.join(self.work.logs, f"{label}.log")
        offsets = farm.log_offsets(n)
        result = measure(argv, env, log_path, timeout, cwd=self.work.root)
        if control:
            self.work.close_control_masters(control)
        time.sleep(0.1)  # let the sshd processes write their last lines
        result.connections, result.sessions = Farm.log_counts(offsets)
        result.log = log_path
        return result

    def fanout(self):
        sizes = self.args.sizes
        runs = self.args.runs
        farm = Farm(self.work, max(sizes), self.next_port(), simulated=False).up()
        log(f"fan-out farm: {max(sizes)} servers (plain sshd + agent) in {farm.dir}")
        tools = [t for t in FANOUT_TOOLS + ["osfarm-n"] if t in self.args.tools]
        for index, n in enumerate(sizes):
            results = {tool: [] for tool in tools}
            if index == 0:
                for tool in tools:  # warm-up: page cache, Python bytecode; not counted
                    self.run_tool(tool, self.fanout_argv(tool, farm, n), farm, n, f"warmup-{tool}-{n}", 600)
            for r in range(runs[n]):
                order = tools[r % len(tools):] + tools[:r % len(tools)]
                round_results = {}
                for tool in order:
                    result = self.run_tool(tool, self.fanout_argv(tool, farm, n), farm, n, f"fanout-{n}-{tool}-{r}",
                                           self.args.timeout)
                    result.round = r
                    round_results[tool] = result
                    results[tool].append(result)
                    if result.exit_code != 0:
                        self.failed_logs.append(result.log)
                log(f"fan-out {n:>3} round {r + 1}/{runs[n]}: " + ", ".join(
                    f"{tool} {round_results[tool].wall:.2f}s" + ("" if round_results[tool].exit_code == 0 else f" (exit {round_results[tool].exit_code})")
                    for tool in tools))
            self.raw["fanout"][n] = {tool: [vars(x) for x in results[tool]] for tool in tools}
            for tool in tools:
                self.rows.append(self.row("fan-out", n, tool, results[tool], results.get("osfarm"), n))
        farm.down()

    # ---------------------------------------------------------------- whole job

    def job_farm(self, servers, profile):
        return Farm(self.work, servers, self.next_port(), simulated=True, profile=profile).up()

    def job_argv(self, tool, farm, new_db, run_id):
        parallel = str(self.args.parallel)
        if tool == "osfarm-job":
            return [self.work.tool("osfarm"), "move-db", "run", "--yes", "-i", farm.record["inventory"], "--to", new_db,
                    "--db-restored", "--state-dir", os.path.join(farm.dir, "runs"), "--parallel", parallel,
                    "--no-apply-settings"]
        return [self.venv("ansible-playbook"), "-i", farm.inventory("ansible", key="bench"), "-f", str(farm.servers),
                PLAYBOOK, "-e", f"apply_parallel={parallel}", "-e", f"run_id={run_id}"]

    def one_job(self, tool, servers, profile, label):
        farm = self.job_farm(servers, profile)
        new_db = subprocess.run([self.work.tool("osfarm-sim"), "farm", "database", "--dir", farm.dir, "new"],
                                check=True, capture_output=True, text=True).stdout.strip()
        result = self.run_tool(tool, self.job_argv(tool, farm, new_db, label), farm, servers, label, self.args.job_timeout)
        status = subprocess.run([self.work.tool("osfarm-sim"), "farm", "status", "--dir", farm.dir, "--expect-database", new_db],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(result.log, "a") as handle:
            handle.write(status.stdout)
        result.verified = status.returncode == 0 and result.exit_code == 0
        if not result.verified:
            self.failed_logs.append(result.log)
        if tool == "osfarm-job":
            result.critical = critical_path(farm, os.path.join(farm.dir, "runs"), result, self.args.parallel)
        farm.down()
        return result

    def job(self):
        servers = self.args.job_front_ends + 1
        for profile in self.args.job_profiles:
            runs = self.args.job_runs.get(profile, 1)
            results = {"osfarm-job": [], "playbook": []}
            for r in range(runs):
                order = ["osfarm-job", "playbook"] if r % 2 == 0 else ["playbook", "osfarm-job"]
                for tool in order:
                    result = self.one_job(tool, servers, profile, f"job-{profile}-{tool}-{r}")
                    result.round = r
                    results[tool].append(result)
                    log(f"whole job {profile} round {r + 1}/{runs}: {tool} {result.wall:.1f}s "
                        + ("verified" if result.verified else f"NOT COUNTED (exit {result.exit_code}; farm status not on the new DB or run failed)"))
            self.raw["job"][profile] = {tool: [job_record(x) for x in results[tool]] for tool in results}
            for tool in ("osfarm-job", "playbook"):
                self.rows.append(self.row(f"whole job ({profile}, --parallel {self.args.parallel})", servers, tool,
                                          results[tool], results["osfarm-job"], servers, job=True))
            if profile == "instant":
                self.raw["job_cost"][servers] = {"osfarm-job": [job_record(x) for x in results["osfarm-job"]],
                                                 "playbook": [job_record(x) for x in results["playbook"]]}

    def job_cost(self):
        """Controller cost of the whole job at each size (instant profile, one run each; the size
        of the comparison above is taken from it)."""
        tools = ["osfarm-job"] + (["playbook"] if self.args.job_cost_playbook else [])
        for n in self.args.job_cost_sizes:
            if n in self.raw["job_cost"]:
                continue
            results = {}
            for tool in tools:
                if tool == "playbook" and n > self.args.job_cost_playbook:
                    continue
                result = self.one_job(tool, n, "instant", f"jobcost-{n}-{tool}")
                result.round = 0
                results[tool] = [result]
                log(f"whole job cost {n:>3} servers: {tool} {result.wall:.1f}s, controller CPU {result.cpu:.2f}s, "
                    f"peak RSS {result.rss_kib / 1024:.0f} MiB " + ("verified" if result.verified else "NOT COUNTED"))
            self.raw["job_cost"][n] = {tool: [job_record(x) for x in rs] for tool, rs in results.items()}
            for tool, rs in results.items():
                self.rows.append(self.row(f"whole job cost (instant, --parallel {self.args.parallel})", n, tool, rs,
                                          results.get("osfarm-job"), n, job=True))

    # ---------------------------------------------------------------- downtime against its bound

    def downtime(self):
        """Issue 11, item 8: the farm's downtime measured against its bound, on the realistic profile,
        one fresh farm per run, Apply Settings left out (--no-apply-settings: it runs after the last
        front-end and is not part of the bound)."""
        args = self.args
        for front_ends in args.downtime_front_ends:
            runs = []
            for r in range(args.downtime_runs):
                label = f"downtime-{front_ends}-{r}"
                farm, runs_dir, result, verified = self.move_on_fresh_farm(
                    front_ends, args.downtime_profile, args.downtime_parallel, label, args.downtime_slowdown)
                figures = downtime_figures(farm, runs_dir, result.started) if verified else None
                self.keep_downtime_files(farm, runs_dir, label)
                if figures is None:
                    self.failed_logs.append(result.log)
                record = {"wall": result.wall, "exit_code": result.exit_code, "verified": verified, "log": os.path.basename(result.log),
                          "connections": result.connections, "sessions": result.sessions, "figures": figures}
                runs.append(record)
                if figures:
                    log(f"downtime 1 DC + {front_ends} FE run {r + 1}/{args.downtime_runs}: measured {figures['measured']:.1f} s, "
                        f"bound {figures['bound']:.1f} s ({figures['measured'] / figures['bound']:.3f}×), wall {result.wall:.1f} s")
                else:
                    log(f"downtime 1 DC + {front_ends} FE run {r + 1}/{args.downtime_runs}: NOT COUNTED (exit {result.exit_code}"
                        + ("" if verified else "; farm status not on the new DB or run failed") + ")")
                farm.down()
            self.raw["downtime"][str(front_ends)] = {"profile": args.downtime_profile, "parallel": args.downtime_parallel,
                                                     "slowdown": args.downtime_slowdown, "runs": runs}

    # ---------------------------------------------------------------- overhead over the critical path

    def overhead(self):
        """Issue 20, part 4: osfarm's overhead over the simulated critical path on the fast profile,
        1 DC + 7 front-ends at --parallel 3 (the Configuration Tool's turns and the pipelining
        around them matter), osfarm alone, one fresh farm per run; the controller's own share (the
        wall time no remote step was in flight: start-up, connecting, preflight, gaps) apart from
        the time spent inside remote steps beyond their simulated durations."""
        args = self.args
        runs = []
        for r in range(args.overhead_runs):
            label = f"overhead-{args.overhead_front_ends}-{r}"
            farm, runs_dir, result, verified = self.move_on_fresh_farm(
                args.overhead_front_ends, args.overhead_profile, args.overhead_parallel, label)
            critical = critical_path(farm, runs_dir, result, args.overhead_parallel) if verified else None
            figures = downtime_figures(farm, runs_dir, result.started) if verified else None
            self.keep_downtime_files(farm, runs_dir, label)
            if critical is None:
                self.failed_logs.append(result.log)
            machine_busy = (result.machine_cpu / result.wall / (os.cpu_count() or 1)
                            if getattr(result, "machine_cpu", None) and result.wall > 0 else None)
            # Before the first step: start-up, connecting and the preflight, all servers at once.
            busy_before = result.machine_busy_between(result.started, result.started + critical["before"]) if critical else None
            runs.append({"wall": result.wall, "exit_code": result.exit_code, "verified": verified, "cpu": result.cpu,
                         "log": os.path.basename(result.log), "critical": critical, "figures": figures, "machine_busy": machine_busy,
                         "machine_busy_before_steps": busy_before})
            if critical:
                log(f"overhead 1 DC + {args.overhead_front_ends} FE {args.overhead_profile} run {r + 1}/{args.overhead_runs}: wall "
                    f"{result.wall:.1f} s, critical path {critical['simulated']:.1f} s, overhead {critical['overhead']:.1f} s "
                    f"({critical['overhead'] / critical['simulated'] * 100:.0f}%), controller's own {critical['controller_overhead']:.1f} s")
            else:
                log(f"overhead run {r + 1}/{args.overhead_runs}: NOT COUNTED (exit {result.exit_code}"
                    + ("" if verified else "; farm status not on the new DB or run failed") + ")")
            farm.down()
        self.raw["overhead"] = {"front_ends": args.overhead_front_ends, "profile": args.overhead_profile,
                                "parallel": args.overhead_parallel, "runs": runs}

    def move_on_fresh_farm(self, front_ends, profile, parallel, label, slowdown=1):
        """A fresh simulated farm of 1 DC + front_ends, moved by osfarm alone (Apply Settings left
        out); verified when the run exits 0 and farm status finds every server on the new database.
        Returns the farm (still up), its runs folder, the run's result and whether it verified."""
        args = self.args
        farm = Farm(self.work, front_ends + 1, self.next_port(), simulated=True, profile=profile).up()
        if slowdown != 1:
            for server in farm.record["servers"]:
                subprocess.run([self.work.tool("osfarm-sim"), "fault", "--dir", farm.dir, "--server", server["name"],
                                "--slowdown", str(slowdown)], check=True, stdout=subprocess.DEVNULL)
        new_db = subprocess.run([self.work.tool("osfarm-sim"), "farm", "database", "--dir", farm.dir, "new"],
                                check=True, capture_output=True, text=True).stdout.strip()
        runs_dir = os.path.join(farm.dir, "runs")
        argv = [self.work.tool("osfarm"), "move-db", "run", "--yes", "-i", farm.record["inventory"], "--to", new_db,
                "--db-restored", "--state-dir", runs_dir, "--parallel", str(parallel), "--no-apply-settings"]
        result = self.run_tool("osfarm-job", argv, farm, farm.servers, label, args.job_timeout)
        status = subprocess.run([self.work.tool("osfarm-sim"), "farm", "status", "--dir", farm.dir, "--expect-database", new_db],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(result.log, "a") as handle:
            handle.write(status.stdout)
        return farm, runs_dir, result, status.returncode == 0 and result.exit_code == 0

    def keep_downtime_files(self, farm, runs_dir, label):
        """The run's journal and every server's delays.jsonl, kept in bench/results/downtime-DATE/
        (the farm is removed): what lies between measured and bound can be traced afterwards."""
        folder = os.path.join(self.work.logs, "downtime", label)
        os.makedirs(folder, exist_ok=True)
        journal = journal_path(runs_dir)
        if journal and os.path.exists(journal):
            shutil.copy(journal, os.path.join(folder, "journal.jsonl"))
        for server in farm.record["servers"]:
            delays = os.path.join(server["directory"], "delays.jsonl")
            if os.path.exists(delays):
                shutil.copy(delays, os.path.join(folder, f"{server['name']}.delays.jsonl"))

    # ---------------------------------------------------------------- the table

    def row(self, kind, n, tool, results, osfarm_results, servers, job=False):
        good = [r for r in results if (r.verified if job else r.exit_code == 0)]
        bad = [r for r in results if r not in good]
        row = {"job": kind, "servers": n, "tool": tool, "label": TOOL_LABELS[tool], "runs": len(good),
               "failed": len(bad)}
        if bad:
            row["failed_wall_median"] = statistics.median(r.wall for r in bad)
            row["failed_exits"] = sorted({str(r.exit_code) for r in bad})
            row["failed_logs"] = [os.path.basename(r.log) for r in bad]
        if not good:
            return row
        walls = [r.wall for r in good]
        row["wall_median"] = statistics.median(walls)
        row["wall_min"], row["wall_max"] = min(walls), max(walls)
        if osfarm_results and tool not in ("osfarm", "osfarm-job"):
            by_round = {r.round: r for r in osfarm_results if (r.verified if job else r.exit_code == 0)}
            ratios = [r.wall / by_round[r.round].wall for r in good if r.round in by_round]
            if ratios:
                row["ratio"] = statistics.median(ratios)
        row["cpu_per_server_ms"] = statistics.median(r.cpu for r in good) / servers * 1000
        row["cpu_total_s"] = statistics.median(r.cpu for r in good)
        row["rss_mib"] = max(r.rss_kib for r in good) / 1024
        row["connections_per_server"] = statistics.median(r.connections for r in good) / servers
        row["sessions_per_server"] = statistics.median(r.sessions for r in good) / servers
        critical = [r.critical for r in good if getattr(r, "critical", None)]
        if critical:
            row["critical_path_s"] = statistics.median(c["simulated"] for c in critical)
            row["overhead_s"] = statistics.median(c["overhead"] for c in critical)
            row["busy_s"] = statistics.median(c["busy"] for c in critical)
            row["controller_overhead_s"] = statistics.median(c["controller_overhead"] for c in critical)
            row["before_steps_s"] = statistics.median(c["before"] for c in critical)
        machine = [r.machine_cpu / r.wall / (os.cpu_count() or 1) for r in good if getattr(r, "machine_cpu", None) and r.wall > 0]
        if machine:
            row["machine_busy"] = statistics.median(machine)
            # What the rest of the machine (the servers: sshd, their shells, the agents) spent while
            # the tool ran, and the shortest wall time that allows on these cores.
            outside = [r.machine_cpu - r.cpu for r in good if getattr(r, "machine_cpu", None)]
            row["outside_cpu_s"] = statistics.median(outside)
            row["outside_floor_s"] = row["outside_cpu_s"] / (os.cpu_count() or 1)
        return row


def job_record(result):
    record = {k: v for k, v in vars(result).items() if k != "critical"}
    if getattr(result, "critical", None):
        record["critical"] = result.critical
    return record


def critical_path(farm, runs_dir, result, parallel):
    """Where the whole job's wall time went, from osfarm's journal and the simulator's own record of
    the durations it imposed (each server's delays.jsonl: service pending states and
    initialisation, iisreset, Configuration Tool runs).

    simulated: the simulated durations along the DC-then-FE path, the shortest the runbook's rules
      allow: the longest stop phase of any server, then the deployment controller's apply, then the
      front-ends' phase. Each server's share is the union of its delay intervals (a service
      initialises while the next one starts). The front-ends' phase is the longer of two lower
      bounds: their applies scheduled `parallel` at a time in the order osfarm started them
      (`lanes`), and their Configuration Tool runs one after another, as the runbook's turns make
      them, after the shortest preparation and before the shortest finish of any front-end
      (`turns`: iisreset /start before the run, the services' start and initialisation after it).
    simulated_without_turns: the same with the lanes alone (the figure before 2026-12-06, which left
      the turns out and so counted part of the simulated Configuration Tool runs as overhead).
    overhead = wall - simulated: everything else (connecting, preflight, the agent's and the
      emulated programs' own work, polling, verification, the gaps between steps).
    busy: the time at least one of osfarm's remote steps was in flight (from the journal);
      wall - busy is what the controller adds around the remote steps."""
    try:
        run = sorted(os.listdir(runs_dir))[-1]
        entries = [json.loads(line) for line in open(os.path.join(runs_dir, run, "journal.jsonl")) if line.strip()]
    except (OSError, IndexError, ValueError):
        return None

    def seconds(stamp):
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    open_steps, intervals = {}, []
    gate, apply_started = None, {}
    for entry in entries:
        key = (entry.get("server"), entry.get("step"))
        if entry.get("step") == "gate" and gate is None:
            gate = seconds(entry["time"])
        if entry.get("step") in ("run", "preflight"):
            continue
        if entry.get("event") == "started":
            open_steps[key] = seconds(entry["time"])
            if gate is not None and entry.get("server") and entry["server"] not in apply_started:
                apply_started[entry["server"]] = seconds(entry["time"])
        elif key in open_steps:
            intervals.append((open_steps.pop(key), seconds(entry["time"])))
    if not intervals or gate is None:
        return None
    busy = union_length(intervals)
    first = min(start for start, _ in intervals)

    stop_phase, applies, turns, controller = [], {}, {}, None
    for server in farm.record["servers"]:
        delays = []
        try:
            with open(os.path.join(server["directory"], "delays.jsonl")) as handle:
                delays = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            pass
        recent = [d for d in delays if d["start"] >= result.started - 1]
        spans = [(d["start"], d["start"] + d["seconds"]) for d in recent]
        stop_phase.append(union_length([s for s in spans if s[0] < gate]))
        applying = [s for s in spans if s[0] >= gate]
        applies[server["name"]] = union_length(applying)
        runs = [(d["start"], d["start"] + d["seconds"]) for d in recent if d["start"] >= gate and d["what"].startswith("ConfigurationTool")]
        if runs:
            turns[server["name"]] = (union_length([s for s in applying if s[0] < runs[0][0]]), union_length(runs),
                                     union_length([s for s in applying if s[0] >= runs[-1][1]]))
        if server["role"] == "deployment-controller":
            controller = server["name"]
    front_ends = sorted((name for name in applies if name != controller), key=lambda name: apply_started.get(name, float("inf")))
    lanes = [0.0] * max(1, parallel)
    for name in front_ends:
        lanes[lanes.index(min(lanes))] += applies[name]
    taking_turns = [turns[name] for name in front_ends if name in turns]
    in_turn = (min(t[0] for t in taking_turns) + sum(t[1] for t in taking_turns) + min(t[2] for t in taking_turns)) if taking_turns else 0
    before_front_ends = max(stop_phase, default=0) + applies.get(controller, 0)
    simulated = before_front_ends + max(max(lanes), in_turn)
    return {"busy": busy, "controller_overhead": result.wall - busy, "simulated": simulated,
            "simulated_without_turns": before_front_ends + max(lanes),
            "overhead": result.wall - simulated, "before": first - result.started}


def union_length(spans):
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(spans):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


# -------------------------------------------------------------------- downtime against its bound

APPLY_STEPS = ("backup", "repoint", "start-iis", "configuration-tool", "start-services", "wait-ready", "verify", "platform-proof")
# A front-end's apply after its Configuration Tool run: start, readiness, and the two checks (the
# hooks, if any, come after platform-proof and are not part of the downtime).
TAIL_STEPS = ("start-services", "wait-ready", "verify", "platform-proof")
DOWNTIME_GOAL = 1.10


def journal_path(runs_dir):
    try:
        return os.path.join(runs_dir, sorted(os.listdir(runs_dir))[-1], "journal.jsonl")
    except (OSError, IndexError):
        return None


def journal_seconds(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def downtime_figures(farm, runs_dir, started):
    """The farm's downtime against its bound (issue 11, item 8), from osfarm's journal and the
    simulator's own record of the durations it imposed.

    measured: from the deployment controller's `backup` started to the last front-end's `verify`
      or `platform-proof` finished (whichever ends later), both from the journal.
    bound: the deployment controller's apply (its `backup` started to its last apply step
      finished), plus the front-ends' Configuration Tool runs one after the other (the simulated
      durations each server records in delays.jsonl; the journal's when a server recorded none),
      plus the last front-end's start-services, wait-ready, verify and platform-proof (journal).
    between: measured - bound, split exactly into what lies on the path and not in the bound:
      lead_in (the deployment controller done → the first Configuration Tool run starts: the
      front-ends' phase starting, the first front-end's backup, repoint, start-iis), ct_overhead
      (the Configuration Tool steps' journal durations - their simulated durations: the agent
      starting the tool, its database checks, its exit), handoffs (one run ends → the next starts),
      after_last_ct (the last run ends → measured end, less the last front-end's tail steps: the
      gaps between those steps, and the wait when the last to finish was not the last to run the tool)."""
    path = journal_path(runs_dir)
    try:
        with open(path) as handle:
            entries = [json.loads(line) for line in handle if line.strip()]
    except (OSError, TypeError, ValueError):
        return None
    opened, spans = {}, {}
    for entry in entries:
        server, step = entry.get("server"), entry.get("step")
        if not server or step not in APPLY_STEPS:
            continue
        at = journal_seconds(entry["time"])
        if entry.get("event") == "started":
            opened[(server, step)] = at
        elif entry.get("event") == "finished" and (server, step) in opened:
            begin = opened.pop((server, step))
            spans[(server, step)] = {"start": begin, "end": at, "seconds": at - begin}
    controller = next((s["name"] for s in farm.record["servers"] if s["role"] == "deployment-controller"), None)
    front_ends = [s["name"] for s in farm.record["servers"] if s["name"] != controller]
    if (controller, "backup") not in spans or not front_ends:
        return None
    dc_start = spans[(controller, "backup")]["start"]
    dc_end = max(span["end"] for (server, _), span in spans.items() if server == controller)
    fe_end = {}
    for name in front_ends:
        ends = [spans[(name, step)]["end"] for step in ("verify", "platform-proof") if (name, step) in spans]
        if not ends or (name, "configuration-tool") not in spans:
            return None
        fe_end[name] = max(ends)
    last = max(fe_end, key=fe_end.get)
    end = fe_end[last]

    simulated = {}
    by_name = {s["name"]: s for s in farm.record["servers"]}
    for name in front_ends:
        try:
            with open(os.path.join(by_name[name]["directory"], "delays.jsonl")) as handle:
                delays = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            delays = []
        runs = [d["seconds"] for d in delays if d.get("what") == "ConfigurationTool.com" and d["start"] >= started - 1]
        if runs:
            simulated[name] = sum(runs)
    tool = {name: spans[(name, "configuration-tool")]["seconds"] for name in front_ends}
    ct_in_turn = sum(simulated.get(name, tool[name]) for name in front_ends)
    tail = {step: spans[(last, step)]["seconds"] for step in TAIL_STEPS if (last, step) in spans}
    dc_apply = dc_end - dc_start
    bound = dc_apply + ct_in_turn + sum(tail.values())
    measured = end - dc_start

    order = sorted(front_ends, key=lambda name: spans[(name, "configuration-tool")]["start"])
    cts = [spans[(name, "configuration-tool")] for name in order]
    first = order[0]
    handoffs = [cts[i + 1]["start"] - cts[i]["end"] for i in range(len(cts) - 1)]
    # A hand-off is late when the next front-end was not ready for its turn (its start-iis ended after the turn came free).
    late = [max(0.0, spans[(order[i + 1], "start-iis")]["end"] - cts[i]["end"]) for i in range(len(cts) - 1)
            if (order[i + 1], "start-iis") in spans]
    between = {
        "lead_in": cts[0]["start"] - dc_end,
        "ct_overhead": sum(tool.values()) - ct_in_turn,
        "handoffs": sum(handoffs),
        "after_last_ct": end - cts[-1]["end"] - sum(tail.values()),
    }
    lead_in_detail = {"front_ends_phase_start": spans[(first, "backup")]["start"] - dc_end if (first, "backup") in spans else None}
    for step in ("backup", "repoint", "start-iis"):
        if (first, step) in spans:
            lead_in_detail[step] = spans[(first, step)]["seconds"]
    if (first, "start-iis") in spans:
        lead_in_detail["wait_for_turn"] = cts[0]["start"] - spans[(first, "start-iis")]["end"]
    dc_steps = {step: spans[(controller, step)]["seconds"] for step in APPLY_STEPS if (controller, step) in spans}
    return {"measured": measured, "bound": bound, "dc_apply": dc_apply, "dc_steps": dc_steps,
            "ct_in_turn": ct_in_turn, "ct_simulated": simulated, "ct_journal": tool, "ct_journal_total": sum(tool.values()),
            "ct_order": order, "last_front_end": last, "tail": tail, "between": between, "lead_in_detail": lead_in_detail,
            "handoffs": handoffs, "late_handoffs": late, "controller": controller}


# -------------------------------------------------------------------- report

def fmt(value, spec, missing="–"):
    return missing if value is None else format(value, spec)


def versions(bench):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
        except OSError:
            return "?"
    ansible = out([bench.venv("ansible"), "--version"]).splitlines()
    pypi = out([bench.venv("python"), "-c",
                "import importlib.metadata as m; print(m.version('parallel-ssh'), m.version('ssh2-python'))"]).split()
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {
        "osfarm": out([bench.work.tool("osfarm"), "--version"]),
        "ansible-core": ansible[0].replace("ansible [core ", "").rstrip("]") if ansible else "?",
        "pssh (Debian)": out(["dpkg-query", "-W", "-f", "${Version}", "pssh"]),
        "parallel-ssh (PyPI)": f"{pypi[0]} (ssh2-python {pypi[1]})" if len(pypi) == 2 else "?",
        "OpenSSH": ssh,
        "Python": platform.python_version(),
    }


def machine():
    cores = os.cpu_count()
    memory = "?"
    model = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": cores, "memory": memory, "cpu": model, "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "?") if hasattr(platform, "freedesktop_os_release") else "?"}


def goals(rows):
    """The issue's goals, each PASS, FAIL or not measured."""
    def find(job_prefix, n, tool):
        for row in rows:
            if row["job"].startswith(job_prefix) and row["servers"] == n and row["tool"] == tool:
                return row
        return None

    lines = []

    def verdict(name, ok, detail):
        lines.append(f"- {'not measured' if ok is None else ('PASS' if ok else 'FAIL')}: {name} ({detail})")

    def osfarm_failed(prefix, n, tool):
        """When every osfarm run failed there is no ratio: the goal is failed, not unmeasured."""
        row = find(prefix, n, tool)
        if row and row["runs"] == 0 and row["failed"]:
            return f"osfarm failed all {row['failed']} runs (exit {'/'.join(row['failed_exits'])}), median {row['failed_wall_median']:.1f} s"
        return None

    def against(name, prefix, n, tool, peer, test, detail):
        peer_row = find(prefix, n, peer)
        failed = osfarm_failed(prefix, n, tool)
        if failed:
            verdict(name, False, failed + (f"; {peer} median {peer_row['wall_median']:.1f} s" if peer_row and "wall_median" in peer_row else ""))
        elif not peer_row or "ratio" not in peer_row:
            verdict(name, None, "–")
        else:
            verdict(name, test(peer_row["ratio"]), detail(peer_row["ratio"]))

    against("fan-out at 64: osfarm ≥ 3× faster than ansible -m raw", "fan-out", 64, "osfarm", "ansible-raw",
            lambda r: r >= 3, lambda r: f"{r:.2f}×")
    against("fan-out at 64: osfarm ≥ 1.5× faster than Debian pssh", "fan-out", 64, "osfarm", "pssh-debian",
            lambda r: r >= 1.5, lambda r: f"{r:.2f}×")
    against("fan-out at 64: osfarm within 1.2× of the plain-ssh floor", "fan-out", 64, "osfarm", "ssh-floor",
            lambda r: 1 / r <= 1.2, lambda r: f"osfarm / floor = {1 / r:.2f}")
    playbook = next((r for r in rows if r["job"].startswith("whole job (instant") and r["tool"] == "playbook"), None)
    against(f"whole job 1 DC + {playbook['servers'] - 1 if playbook else '?'} FE instant: osfarm ≥ 10× faster than the playbook",
            "whole job (instant", playbook["servers"] if playbook else 16, "osfarm-job", "playbook",
            lambda r: r >= 10, lambda r: f"{r:.1f}×")
    # Issue 20's goals.
    check128 = find("fan-out", 128, "osfarm")
    failed_check = osfarm_failed("fan-out", 128, "osfarm")
    if failed_check:
        verdict("fan-out at 128: osfarm check ≤ 2 ms of controller CPU per server", False, failed_check)
    else:
        verdict("fan-out at 128: osfarm check ≤ 2 ms of controller CPU per server",
                None if not check128 or "cpu_per_server_ms" not in check128 else check128["cpu_per_server_ms"] <= 2.0,
                f"{fmt(check128 and check128.get('cpu_per_server_ms'), '.2f')} ms/server")
    against("fan-out at 128: osfarm ≥ 2× faster than parallel-ssh (PyPI)", "fan-out", 128, "osfarm", "parallel-ssh-pypi",
            lambda r: r >= 2, lambda r: f"{r:.2f}×")
    against(f"whole job 1 DC + {playbook['servers'] - 1 if playbook else '?'} FE instant: osfarm ≥ 20× faster than the playbook",
            "whole job (instant", playbook["servers"] if playbook else 16, "osfarm-job", "playbook",
            lambda r: r >= 20, lambda r: f"{r:.1f}×")
    fast = next((r for r in rows if r["job"].startswith("whole job (fast") and r["tool"] == "osfarm-job"), None)
    if fast and fast.get("critical_path_s"):
        share = fast["overhead_s"] / fast["critical_path_s"]
        verdict(f"whole job 1 DC + {fast['servers'] - 1} FE fast: osfarm's overhead < 10% of the critical path", share < 0.10,
                f"wall {fast['wall_median']:.1f} s, simulated critical path {fast['critical_path_s']:.1f} s, overhead "
                f"{fast['overhead_s']:.1f} s = {share * 100:.0f}%; of it the controller around the remote steps "
                f"{fast['controller_overhead_s']:.1f} s = {fast['controller_overhead_s'] / fast['critical_path_s'] * 100:.0f}%")
    else:
        verdict("whole job fast: osfarm's overhead < 10% of the critical path", False if fast and fast.get("failed") else None, "–")
    for prefixes, tool, name in ((("fan-out",), "osfarm", "fan-out"), (("whole job (instant", "whole job cost"), "osfarm-job", "whole job")):
        def at(n):
            return next((r for r in rows if r["job"].startswith(prefixes) and r["servers"] == n and r["tool"] == tool
                         and "cpu_per_server_ms" in r), None)
        at16, at128 = at(16), at(128)
        failed128 = osfarm_failed(prefixes[-1], 128, tool)
        if failed128 and tool == "osfarm-job":
            verdict(f"{name}: controller CPU per server at 128 within 1.5× of that at 16, and peak RSS < 64 MB at 128", False,
                    failed128 + ": the job did not complete")
            continue
        if failed128 and at16:
            # The check did its work on most servers: its controller cost is still that of a 128-server fan-out.
            row128 = find(prefixes[-1], 128, tool)
            if row128 and "failed_cpu_per_server_ms" in row128:
                ratio = row128["failed_cpu_per_server_ms"] / at16["cpu_per_server_ms"]
                verdict(f"{name}: controller CPU per server at 128 within 1.5× of that at 16", ratio <= 1.5,
                        f"{at16['cpu_per_server_ms']:.1f} → {row128['failed_cpu_per_server_ms']:.1f} ms/server, {ratio:.2f}×, "
                        "from runs in which some servers failed")
                verdict(f"{name}: osfarm peak RSS < 64 MB at 128", row128["failed_rss_mib"] * 1.048576 < 64,
                        f"{row128['failed_rss_mib']:.1f} MiB, from runs in which some servers failed")
                continue
        ratio = at128["cpu_per_server_ms"] / at16["cpu_per_server_ms"] if at16 and at128 else None
        verdict(f"{name}: controller CPU per server at 128 within 1.5× of that at 16", None if ratio is None else ratio <= 1.5,
                f"{fmt(at16 and at16['cpu_per_server_ms'], '.1f')} → {fmt(at128 and at128['cpu_per_server_ms'], '.1f')} ms/server"
                + (f", {ratio:.2f}×" if ratio else ""))
        verdict(f"{name}: osfarm peak RSS < 64 MB at 128", None if not at128 else at128["rss_mib"] * 1.048576 < 64,
                f"{fmt(at128 and at128['rss_mib'], '.1f')} MiB")
    osfarm_rows = [r for r in rows if r["tool"] in ("osfarm", "osfarm-job") and "connections_per_server" in r]
    one = all(r["connections_per_server"] == 1 and r["sessions_per_server"] == 1 for r in osfarm_rows)
    verdict("osfarm: one SSH connection and one agent process per server per run", None if not osfarm_rows else one,
            ", ".join(sorted({f"{r['connections_per_server']:g}/{r['sessions_per_server']:g}" for r in osfarm_rows})) + " connections/sessions per server")
    return lines


def enrich(rows, raw):
    """For rows with failed runs, the controller cost of those runs (from the raw figures): a run
    that failed on some servers still says what the controller spent."""
    for row in rows:
        if not row.get("failed"):
            continue
        if row["job"] == "fan-out":
            runs = raw.get("fanout", {}).get(str(row["servers"]), raw.get("fanout", {}).get(row["servers"], {})).get(row["tool"], [])
            bad = [r for r in runs if r.get("exit_code") != 0]
        else:
            if row["job"].startswith("whole job ("):  # "whole job (PROFILE, --parallel N)"
                runs = raw.get("job", {}).get(row["job"][len("whole job ("):].split(",")[0], {})
            else:
                runs = raw.get("job_cost", {}).get(str(row["servers"]), raw.get("job_cost", {}).get(row["servers"], {}))
            bad = [r for r in runs.get(row["tool"], []) if not r.get("verified")]
        if bad:
            row["failed_cpu_per_server_ms"] = statistics.median(r["cpu"] for r in bad) / row["servers"] * 1000
            row["failed_rss_mib"] = max(r["rss_kib"] for r in bad) / 1024
            row["failed_connections_per_server"] = statistics.median(r["connections"] for r in bad) / row["servers"]
            row["failed_sessions_per_server"] = statistics.median(r["sessions"] for r in bad) / row["servers"]
    return rows


def downtime_counted(raw):
    """Per size: (front-ends, its record, the runs counted), in size order."""
    out = []
    for key, record in sorted(raw.get("downtime", {}).items(), key=lambda item: int(item[0])):
        out.append((int(key), record, [r for r in record["runs"] if r.get("verified") and r.get("figures")]))
    return out


def downtime_table(raw):
    sizes = downtime_counted(raw)
    if not sizes:
        return []
    lines = ["Downtime against its bound (osfarm move-db run --no-apply-settings; bench/README.md, part 4):", "",
             "| servers | profile, --parallel | runs | measured s | bound s | measured / bound | bound = DC apply + Configuration Tool runs in turn + last FE's start to platform-proof | between bound and measured | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for front_ends, record, good in sizes:
        setting = record["profile"] + (f" × {record['slowdown']:g}" if record.get("slowdown", 1) != 1 else "") + f", {record['parallel']}"
        failed = len(record["runs"]) - len(good)
        note = f"; {failed} run(s) not counted" if failed else ""
        if not good:
            lines.append(f"| 1 DC + {front_ends} FE | {setting} | 0{note} | – | – | – | – | – | – |")
            continue

        def med(get):
            return statistics.median(get(r["figures"]) for r in good)
        measured, bound = med(lambda f: f["measured"]), med(lambda f: f["bound"])
        ratio = med(lambda f: f["measured"] / f["bound"])
        parts = (f"{med(lambda f: f['dc_apply']):.1f} + {med(lambda f: f['ct_in_turn']):.1f} ({front_ends} runs, simulated) + "
                 f"{med(lambda f: sum(f['tail'].values())):.1f}")
        b = {k: med(lambda f, k=k: f["between"][k]) for k in ("lead_in", "ct_overhead", "handoffs", "after_last_ct")}
        lead = good[0]["figures"]["lead_in_detail"]
        lead_text = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in lead.items() if v is not None)
        late = max((max(r["figures"]["late_handoffs"], default=0) for r in good), default=0)
        between = (f"{measured - bound:+.1f} s: lead-in {b['lead_in']:.1f} (DC done → first FE's Configuration Tool; first run: {lead_text}), "
                   f"Configuration Tool steps over their simulated time {b['ct_overhead']:.1f}, hand-offs between runs {b['handoffs']:.1f}"
                   + (f" (a front-end not ready for its turn: up to {late:.1f})" if late > 0.05 else " (every front-end ready for its turn)")
                   + f", after the last run {b['after_last_ct']:.1f}")
        walls = [r["wall"] for r in good]
        lines.append(f"| 1 DC + {front_ends} FE | {setting} | {len(good)}{note} | {measured:.1f} | {bound:.1f} | {ratio:.3f} | {parts} | {between} "
                     f"| {statistics.median(walls):.1f} |")
    return lines + [""]


def overhead_counted(raw):
    record = raw.get("overhead") or {}
    return record, [r for r in record.get("runs", []) if r.get("verified") and r.get("critical") and r["critical"]["simulated"] > 0]


def overhead_table(raw):
    record, good = overhead_counted(raw)
    if not record:
        return []
    setting = f"1 DC + {record['front_ends']} FE, {record['profile']}, --parallel {record['parallel']}"
    lines = [f"Overhead over the simulated critical path (osfarm move-db run --no-apply-settings, {setting}; bench/README.md, part 5):", "",
             "| run | wall s | simulated critical path s | overhead s (% of the path) | the controller's own s (% of the path) | "
             "inside remote steps s (% of the path) | the path without the turns s (overhead %) | first step at s | downtime / bound (lead-in, Configuration Tool over simulated, "
             "hand-offs, after the last run, s) | controller CPU s | all cores busy (before the first step) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    failed = len(record["runs"]) - len(good)
    for index, run in enumerate(record["runs"], 1):
        c, f = run.get("critical"), run.get("figures")
        if run not in good:
            lines.append(f"| {index} | {run['wall']:.1f} | not counted (exit {run['exit_code']}) | – | – | – | – | – | – | {run['cpu']:.2f} | – |")
            continue
        path = c["simulated"]
        inside = c["overhead"] - c["controller_overhead"]
        split = (f"{f['measured'] / f['bound']:.3f} ({f['between']['lead_in']:.1f}, {f['between']['ct_overhead']:.1f}, "
                 f"{f['between']['handoffs']:.1f}, {f['between']['after_last_ct']:.1f})" if f else "–")
        busy = f"{run['machine_busy'] * 100:.0f}%" if run.get("machine_busy") is not None else "–"
        if run.get("machine_busy_before_steps") is not None:
            busy += f" ({run['machine_busy_before_steps'] * 100:.0f}%)"
        plain = c.get("simulated_without_turns")
        without = f"{plain:.1f} ({(run['wall'] - plain) / plain * 100:.0f}%)" if plain else "–"
        lines.append(f"| {index} | {run['wall']:.1f} | {path:.1f} | {c['overhead']:.1f} ({c['overhead'] / path * 100:.0f}%) | "
                     f"{c['controller_overhead']:.1f} ({c['controller_overhead'] / path * 100:.0f}%) | {inside:.1f} ({inside / path * 100:.0f}%) | "
                     f"{without} | {c['before']:.1f} | {split} | {run['cpu']:.2f} | {busy} |")
    if good:
        def med(get):
            return statistics.median(get(r) for r in good)
        path = med(lambda r: r["critical"]["simulated"])
        lines.append(f"| median of {len(good)} | {med(lambda r: r['wall']):.1f} | {path:.1f} | "
                     f"{med(lambda r: r['critical']['overhead']):.1f} ({med(lambda r: r['critical']['overhead'] / r['critical']['simulated']) * 100:.0f}%) | "
                     f"{med(lambda r: r['critical']['controller_overhead']):.1f} "
                     f"({med(lambda r: r['critical']['controller_overhead'] / r['critical']['simulated']) * 100:.0f}%) | | | | | | |")
    return lines + ([f"", f"{failed} run(s) not counted."] if failed else []) + [""]


def overhead_goals(raw):
    record, good = overhead_counted(raw)
    if not record:
        return []
    name = (f"overhead 1 DC + {record['front_ends']} FE, {record['profile']}, --parallel {record['parallel']}: "
            "osfarm's overhead < 10% of the simulated critical path")
    if not good:
        return [f"- FAIL: {name} (no run counted: {len(record['runs'])} failed)"]
    shares = [r["critical"]["overhead"] / r["critical"]["simulated"] for r in good]
    own = statistics.median(r["critical"]["controller_overhead"] / r["critical"]["simulated"] for r in good)
    share = statistics.median(shares)
    return [f"- {'PASS' if share < 0.10 else 'FAIL'}: {name} (median of {len(good)} runs {share * 100:.0f}%, "
            f"from {min(shares) * 100:.0f}% to {max(shares) * 100:.0f}%; the controller's own share {own * 100:.0f}%)"]


def downtime_goals(raw):
    lines = []
    for front_ends, record, good in downtime_counted(raw):
        name = (f"downtime 1 DC + {front_ends} FE, {record['profile']}"
                + (f" × {record['slowdown']:g}" if record.get("slowdown", 1) != 1 else "")
                + f", --parallel {record['parallel']}: measured within 10% of the bound")
        if not good:
            lines.append(f"- FAIL: {name} (no run counted: {len(record['runs'])} failed)")
            continue
        ratios = [r["figures"]["measured"] / r["figures"]["bound"] for r in good]
        ratio = statistics.median(ratios)
        measured = statistics.median(r["figures"]["measured"] for r in good)
        bound = statistics.median(r["figures"]["bound"] for r in good)
        lines.append(f"- {'PASS' if ratio <= DOWNTIME_GOAL else 'FAIL'}: {name} (measured {measured:.1f} s, bound {bound:.1f} s, "
                     f"{ratio:.3f}×" + (f", median of {len(good)} runs, highest {max(ratios):.3f}×" if len(good) > 1 else "") + ")")
    return lines


def markdown(bench, rows, info, raw=None):
    head = ["job", "servers", "tool", "runs", "wall median s (min–max)", "× osfarm", "controller CPU ms/server",
            "peak RSS MiB", "SSH conn./server", "sessions/server", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for row in rows:
        notes = []
        if row.get("failed"):
            notes.append(f"{row['failed']} run(s) failed (exit {'/'.join(row['failed_exits'])}, "
                         f"median {row['failed_wall_median']:.1f} s), not counted"
                         + (f"; in those: CPU {row['failed_cpu_per_server_ms']:.1f} ms/server, peak RSS {row['failed_rss_mib']:.1f} MiB, "
                            f"{row['failed_connections_per_server']:.2g} conn. and {row['failed_sessions_per_server']:.3g} sessions/server"
                            if "failed_cpu_per_server_ms" in row else ""))
        if "critical_path_s" in row:
            path = row["critical_path_s"]
            notes.append(f"simulated critical path {path:.1f} s, overhead {row['overhead_s']:.1f} s"
                         + (f" ({row['overhead_s'] / path * 100:.0f}% of the path)" if path > 0 else "")
                         + f"; remote steps in flight {row['busy_s']:.1f} s, controller around them {row['controller_overhead_s']:.1f} s"
                         f" ({row['controller_overhead_s'] / row['wall_median'] * 100:.0f}% of the wall time); first step at {row['before_steps_s']:.1f} s"
                         + (f"; all cores {row['machine_busy'] * 100:.0f}% busy" if "machine_busy" in row else ""))
        if row["job"] == "fan-out" and "outside_cpu_s" in row:
            notes.append(f"all cores {row['machine_busy'] * 100:.0f}% busy; outside the tool {row['outside_cpu_s']:.1f} CPU s, "
                         f"at least {row['outside_floor_s']:.2f} s on {os.cpu_count() or 1} cores")
        if row["tool"] == "parallel-ssh-pypi":
            notes.append("no known_hosts check")
        if row["tool"] in ("ansible-raw", "ansible-command", "playbook"):
            notes.append("key without forced command")
        wall = (f"{row['wall_median']:.2f} ({row['wall_min']:.2f}–{row['wall_max']:.2f})" if "wall_median" in row else "–")
        lines.append("| " + " | ".join([
            row["job"], str(row["servers"]), row["label"], str(row["runs"]), wall,
            fmt(row.get("ratio"), ".2f") if row["tool"] not in ("osfarm", "osfarm-job") else ("1" if row["runs"] else "–"),
            fmt(row.get("cpu_per_server_ms"), ".1f"), fmt(row.get("rss_mib"), ".1f"),
            fmt(row.get("connections_per_server"), ".2g"), fmt(row.get("sessions_per_server"), ".3g"),
            "; ".join(notes)]) + " |")
    text = [f"# osfarm benchmark, {info['date']}", "",
            f"Machine: {info['machine']['cores']} cores ({info['machine']['cpu']}), {info['machine']['memory']}, "
            f"{info['machine']['os']}, Linux {info['machine']['kernel']}; load average at start {info['load']}.",
            "Versions: " + "; ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".",
            f"Binaries: {info['bin']}. Runs interleaved tool by tool; '× osfarm' is the median of the same-round "
            "ratios tool / osfarm (above 1: osfarm is faster). See bench/README.md for every column.", ""]
    if not rows:
        lines = ["(no fan-out, whole-job or cost runs: skipped)"]
    raw = raw or {}
    return "\n".join(text + lines + [""] + downtime_table(raw) + overhead_table(raw) + ["Goals:", ""] + goals(rows)
                     + downtime_goals(raw) + overhead_goals(raw)) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("BIN", ".build/release"),
                        help="folder with osfarm, osfarm-agent, osfarm-sim (default .build/release, or $BIN)")
    parser.add_argument("--sizes", default="4,16,64,128", help="fan-out sizes (servers)")
    parser.add_argument("--runs", default="4:5,16:5,64:3,128:2", help="runs per fan-out size: N or SIZE:N,...")
    parser.add_argument("--tools", default=",".join(FANOUT_TOOLS),
                        help="fan-out tools (default: all but osfarm-n, osfarm check --concurrency N)")
    parser.add_argument("--job-front-ends", type=int, default=15)
    parser.add_argument("--job-profiles", default="instant,fast")
    parser.add_argument("--job-runs", default="instant:1,fast:1", help="whole-job runs per profile, PROFILE:N,...")
    parser.add_argument("--parallel", type=int, default=4, help="osfarm --parallel and the playbook's serial")
    parser.add_argument("--job-cost-sizes", default="4,16,64,128", help="whole-job cost sizes (osfarm, instant)")
    parser.add_argument("--job-cost-playbook", type=int, default=4,
                        help="also run the playbook for the cost at sizes up to this (0: never)")
    parser.add_argument("--downtime-front-ends", default="3,7",
                        help="downtime against its bound: farms of 1 DC + N front-ends, comma list (default 3,7)")
    parser.add_argument("--downtime-profile", default="realistic", help="the simulation profile of the downtime part")
    parser.add_argument("--downtime-parallel", type=int, default=3, help="osfarm --parallel in the downtime part")
    parser.add_argument("--downtime-runs", type=int, default=1, help="runs per size in the downtime part")
    parser.add_argument("--downtime-slowdown", type=float, default=1,
                        help="scale every simulated duration of the downtime part by this factor (osfarm-sim fault --slowdown; 1: as the profile says)")
    parser.add_argument("--overhead-front-ends", type=int, default=7,
                        help="overhead over the critical path (part 5): a farm of 1 DC + N front-ends (default 7)")
    parser.add_argument("--overhead-profile", default="fast", help="the simulation profile of part 5 (default fast)")
    parser.add_argument("--overhead-parallel", type=int, default=3, help="osfarm --parallel in part 5 (default 3)")
    parser.add_argument("--overhead-runs", type=int, default=3, help="runs of part 5, each on a fresh farm (default 3)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: fanout, job, cost, downtime, overhead")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "2400")),
                        help="farms use ports from this one up")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one fan-out run")
    parser.add_argument("--job-timeout", type=float, default=1800, help="seconds for one whole-job run")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder (farms are still taken down)")
    parser.add_argument("--render", metavar="JSON", help="print the table again from a results JSON, run nothing")
    args = parser.parse_args()
    if args.render:
        with open(args.render) as handle:
            saved = json.load(handle)
        print(markdown(None, enrich(saved["rows"], saved["raw"]), saved["info"], saved["raw"]))
        return
    args.sizes = parse_sizes(args.sizes)
    args.runs = parse_runs(args.runs, args.sizes)
    args.tools = args.tools.split(",")
    args.job_profiles = [p for p in args.job_profiles.split(",") if p]
    if ":" in args.job_runs:
        args.job_runs = {k: int(v) for k, v in (part.split(":") for part in args.job_runs.split(","))}
    else:
        args.job_runs = {p: int(args.job_runs) for p in args.job_profiles}
    args.job_cost_sizes = parse_sizes(args.job_cost_sizes)
    args.downtime_front_ends = parse_sizes(args.downtime_front_ends)
    if args.downtime_slowdown <= 0:
        parser.error("--downtime-slowdown must be above 0")
    skip = set(args.skip.split(",")) - {""}
    parts = {"fanout", "job", "cost", "downtime", "overhead"}
    if skip - parts:
        parser.error(f"--skip takes fanout, job, cost, downtime, overhead, not {','.join(sorted(skip - parts))}")
    if "overhead" not in skip and args.overhead_profile == "instant":
        parser.error("--overhead-profile instant has no simulated critical path to measure an overhead over: use fast or realistic")

    bench = Bench(args)

    def on_signal(number, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    peak_load = [0.0]
    stop_sampling = threading.Event()

    def sample_load():  # the machine is not ours alone: say how busy it was
        while not stop_sampling.wait(5):
            try:
                peak_load[0] = max(peak_load[0], float(open("/proc/loadavg").read().split()[0]))
            except (OSError, ValueError):
                pass

    threading.Thread(target=sample_load, daemon=True).start()
    try:
        log(f"work folder {bench.work.root}; binaries from {args.bin}")
        if "fanout" not in skip:
            bench.fanout()
        if "job" not in skip:
            bench.job()
        if "cost" not in skip:
            bench.job_cost()
        if "downtime" not in skip:
            bench.downtime()
        if "overhead" not in skip:
            bench.overhead()
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
    finally:
        stop_sampling.set()
        minutes = (datetime.datetime.now().astimezone() - bench.started).total_seconds() / 60
        info = {"date": bench.started.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
                "load": " ".join(load) + f"; highest 1-minute load average during the bench {peak_load[0]:.1f}; took {minutes:.0f} min",
                "versions": versions(bench), "bin": args.bin}
        raw = json.loads(json.dumps(bench.raw, default=str))
        report = markdown(bench, enrich(bench.rows, raw), info, raw)
        os.makedirs(args.out, exist_ok=True)
        stamp = bench.started.strftime("%Y%m%d-%H%M%S")
        path = os.path.join(args.out, f"bench-{stamp}.md")
        with open(path, "w") as handle:
            handle.write(report)
        shutil.copyfile(path, os.path.join(args.out, "latest.md"))
        with open(os.path.join(args.out, f"bench-{stamp}.json"), "w") as handle:
            json.dump({"info": info, "rows": bench.rows, "raw": bench.raw}, handle, indent=1, default=str)
        downtime_files = os.path.join(bench.work.logs, "downtime")
        if os.path.isdir(downtime_files):
            shutil.copytree(downtime_files, os.path.join(args.out, f"downtime-{stamp}"))
        if bench.failed_logs:
            keep = os.path.join(args.out, f"failed-{stamp}")
            os.makedirs(keep, exist_ok=True)
            for log_path in bench.failed_logs:
                shutil.copy(log_path, keep)
        bench.work.cleanup()
        print(report)
        log(f"written to {path}" + (f"; logs of failed runs in {keep}" if bench.failed_logs else ""))


if __name__ == "__main__":
    main()
