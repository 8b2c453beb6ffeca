# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet benchmarks (`make bench`): every figure is measured in one run of this script, on
this machine, and reported as min/median of repeated runs and as ratios between the compared ways.

    python bench/run.py [--sections registration,weights,fleet,noop,scale] [--repeat 3] [--quick]
    python bench/run.py --sections ''      rewrite docs/benchmarks.md from bench/results only

registration  gonka.fleet.inference_nodes vs one ansible.builtin.uri POST per node, against the
              Admin API simulator (tests/simulators/admin_api.py), 10/100/1000 nodes: a fresh
              registration and the re-run; wall time and HTTP requests the simulator served.
weights       one copy of a model repository each way - hf_model with either transfer from a host's
              hf_serve (peer mode) and from the Hub stand-in (tests/simulators/hub.py), the `hf
              download` CLI - against the limits measured in the same run (dd write, curl in
              parallel from the same hf_serve); then 2/4/8 hosts copying from each other at once
              (the model_cache tree, and the star for comparison): time and copies each uploaded.
noop          a no-change re-run of site.yml on a converged lab against the floor of any run (gather
              facts once and ping the same hosts), paired run by run: with the fast path (the
              default) and the full run (-e gonka_fast_path=false), each with its slowest tasks.
scale         the inventory check (validate.yml) and the registration (register.yml, fresh and re-run)
              over 10, 50 and 200 ML hosts on the controller (connection local), with Ansible's linear
              strategy and Mitogen's: the controller's seconds per host.
fleet         playbooks/site.yml on lab hosts (lab/lab.py) with 1, 2 and 4 ML hosts: fresh converge
              and re-run, seconds per host, with the ansible.cfg we ship (also with smart gathering
              and a fact cache) and with Ansible's defaults.

Raw results go to bench/results/<time>.json; docs/benchmarks.md shows, per table, the newest
run that measured it (named under the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
sys.path.insert(0, COLLECTIONS)

from ansible_collections.gonka.fleet.tests.simulators import hub  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gonka.fleet.tests.simulators.ports import free_port  # noqa: E402  pylint: disable=wrong-import-position

MODEL = "Qwen/Qwen3-32B-FP8"
ARGS = ["--quantization", "fp8", "--kv-cache-dtype", "fp8"]


def log(message):
    print("bench: %s" % message, flush=True)


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "runs": len(values)}


def ansible_env(config=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env["ANSIBLE_CONFIG"] = config or os.path.join(ROOT, "bench", "ansible-defaults.cfg")
    return env


def playbook(path, extra=(), env=None, inventory=None):
    """Seconds ansible-playbook took (it must succeed)."""
    command = [os.path.join(BIN, "ansible-playbook"), path] + list(extra)
    if inventory:
        command += ["-i", inventory]
    start = time.perf_counter()
    result = subprocess.run(command, env=env or ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit("bench: %s failed:\n%s" % (path, result.stdout[-4000:]))
    return seconds, result.stdout


# ---- registration ---------------------------------------------------------------------------
def nodes(count):
    return [{"id": "ml%04d" % index, "host": "10.%d.%d.%d" % (index // 65536, index // 256 % 256, index % 256),
             "inference_port": 5050, "poc_port": 8080, "max_concurrent": 500,
             "models": {MODEL: {"args": ARGS}}} for index in range(count)]


class Simulator(object):
    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.process = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "simulators", "admin_api.py"),
                                         "--port", str(self.port)], stdout=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                get_json(self.url + "/admin/v1/nodes")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("bench: the Admin API simulator did not start")

    def requests(self):
        return len(get_json(self.url + "/sim/requests"))

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def bench_registration(sizes, repeat):
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            vars_file = os.path.join(scratch, "nodes-%d.json" % size)
            for way, book in (("inference_nodes", "register_module.yml"), ("uri per node", "register_uri.yml")):
                times = {"fresh": [], "rerun": []}
                counts = {}
                runs = repeat if size <= 100 else 1
                for _run in range(runs):
                    sim = Simulator()
                    with open(vars_file, "w", encoding="utf-8") as handle:
                        json.dump({"bench_nodes": nodes(size), "bench_admin_url": sim.url}, handle)
                    path = os.path.join(ROOT, "bench", "playbooks", book)
                    for phase in ("fresh", "rerun"):
                        before = sim.requests()
                        seconds, _out = playbook(path, ["-e", "@" + vars_file])
                        times[phase].append(seconds)
                        counts[phase] = sim.requests() - before
                    sim.stop()
                for phase in ("fresh", "rerun"):
                    rows.append({"nodes": size, "way": way, "phase": phase, "seconds": summary(times[phase]),
                                 "requests": counts[phase]})
                    log("registration %5d nodes %-15s %-5s %6.1f s %5d requests" % (
                        size, way, phase, min(times[phase]), counts[phase]))
    return rows


# ---- weights --------------------------------------------------------------------------------
def start_module(module_args):
    """gonka.fleet.hf_model started as a process (as Ansible runs it on a host)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
    process = subprocess.Popen([sys.executable, "-m", "ansible_collections.gonka.fleet.plugins.modules.hf_model",
                                handle.name], env=dict(os.environ, PYTHONPATH=COLLECTIONS),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.spec = handle.name
    return process


def finish_module(process):
    """Its result, once it ended; the bench stops on a failure."""
    out = process.communicate()[0]
    os.remove(process.spec)
    answer = json.loads(out)
    if answer.get("failed"):
        raise SystemExit("bench: hf_model failed: %s" % answer.get("msg"))
    return answer


def run_module(module_args):
    """Seconds gonka.fleet.hf_model took as a process, and its result."""
    start = time.perf_counter()
    process = start_module(module_args)
    answer = finish_module(process)
    return time.perf_counter() - start, answer


def run_cli(endpoint, cache_dir):
    env = dict(os.environ, HF_ENDPOINT=endpoint, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    start = time.perf_counter()
    subprocess.run([os.path.join(BIN, "hf"), "download", MODEL, "--cache-dir", cache_dir], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _seconds(command, **kwargs):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def _parallel_curl(urls, targets):
    """Seconds for one curl per file, all at once (a C client: the network/serving limit)."""
    start = time.perf_counter()
    processes = [subprocess.Popen(["curl", "-sf", "-o", target, url]) for url, target in zip(urls, targets)]
    if any(process.wait() for process in processes):
        raise SystemExit("bench: curl failed")
    return time.perf_counter() - start


class CacheServer:
    """The cache server as the model_cache role runs it on a host (gonka.fleet.hf_serve): a process serving one HF_HOME."""

    def __init__(self, hf_home):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        # what the module gonka.fleet.hf_serve runs, in a process of its own
        code = ("import sys; from ansible_collections.gonka.fleet.plugins.module_utils.hf_serve import run; "
                "run(sys.argv[1], '127.0.0.1', int(sys.argv[2]), 3600)")
        self.process = subprocess.Popen([sys.executable, "-c", code, hf_home, str(self.port)], stdout=subprocess.PIPE,
                                        env=dict(os.environ, PYTHONPATH=COLLECTIONS))
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        """Stops it; returns the bytes it served."""
        request = urllib.request.Request(self.url + "/_gonka/stop", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            served = json.loads(response.read())["bytes_served"]
        self.process.wait(30)
        return served


def _fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


def bench_weights(repeat, shards, shard_mb, host_counts):
    """Throughput of every way (and the raw limits) on one repository, then the fan-out: N hosts
    copying from each other in peer mode, each a process as on the fleet."""
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_sources  # pylint: disable=import-outside-toplevel
    rows, fanout_rows, cleanup = [], [], []
    scratch = tempfile.mkdtemp(prefix="gonka-bench-", dir=os.environ.get("BENCH_DIR"))
    try:
        repo = hub.generate(os.path.join(scratch, "hub"), MODEL, shards=shards, shard_mb=shard_mb)
        main = repo["refs"]["main"]
        files = repo["commits"][main]
        size = sum(entry["size"] for entry in files.values())
        hub_server = hub.serve(0, [repo])
        endpoint = "http://127.0.0.1:%d" % hub_server.server_address[1]
        seed_home = os.path.join(scratch, "seed")
        run_module({"repo_id": MODEL, "hf_home": seed_home, "endpoint": endpoint})
        seed = CacheServer(seed_home)
        cleanup.append(seed.process)
        target = os.path.join(scratch, "target")
        ways = [
            ("limit: disk write (dd, 8 MiB blocks, fdatasync)", lambda: _seconds(
                ["dd", "if=/dev/zero", "of=" + target + ".dd", "bs=8M",
                 "count=%d" % max(1, size // (8 << 20)), "conv=fdatasync"])),
            ("limit: curl, one per file at once, from hf_serve to disk", lambda: _parallel_curl(
                ["%s/%s/resolve/%s/%s" % (seed.url, MODEL, main, name) for name in files],
                [os.path.join(os.makedirs(_fresh(target)) or target, name) for name in files])),
            ("limit: curl, one per file at once, from hf_serve to /dev/null", lambda: _parallel_curl(
                ["%s/%s/resolve/%s/%s" % (seed.url, MODEL, main, name) for name in files], ["/dev/null"] * len(files))),
            ("peer copy: hf_model transfer=gonka from hf_serve", lambda: run_module(
                {"repo_id": MODEL, "hf_home": _fresh(target), "endpoint": seed.url, "transfer": "gonka"})[0]),
            ("peer copy: the same, sha256 while writing", lambda: run_module(
                {"repo_id": MODEL, "hf_home": _fresh(target), "endpoint": seed.url, "transfer": "gonka",
                 "verify_checksums": True})[0]),
            ("peer copy, before: hf_model transfer=huggingface_hub from hf_serve", lambda: run_module(
                {"repo_id": MODEL, "hf_home": _fresh(target), "endpoint": seed.url})[0]),
            ("Hub: hf_model transfer=huggingface_hub", lambda: run_module(
                {"repo_id": MODEL, "hf_home": _fresh(target), "endpoint": endpoint})[0]),
            ("Hub: hf_model transfer=gonka", lambda: run_module(
                {"repo_id": MODEL, "hf_home": _fresh(target), "endpoint": endpoint, "transfer": "gonka"})[0]),
            ("Hub: hf download (CLI)", lambda: run_cli(endpoint, _fresh(target))),
        ]
        for way, measure in ways:
            values = []
            for _run in range(repeat):
                values.append(measure())
                _fresh(target)
                if os.path.exists(target + ".dd"):
                    os.remove(target + ".dd")
            rows.append({"way": way, "bytes": size, "seconds": summary(values),
                         "mb_per_s": size / 1e6 / statistics.median(values)})
            log("weights %-66s %.0f MB/s" % (way, rows[-1]["mb_per_s"]))
        seed.stop()

        for count in host_counts:
            # the tree the model_cache role uses, and the star it used before (the seed serves everyone)
            for fanout in sorted(set([2, max(count - 1, 2)])):
                hosts = ["host%d" % index for index in range(count)]
                hostvars = dict((host, {"gonka_ml_node_resources": {"models": [MODEL]}}) for host in hosts)
                placed = model_sources(hosts, hostvars, fanout)[MODEL]
                homes = dict((host, seed_home if host == hosts[0] else _fresh(os.path.join(scratch, host)))
                             for host in hosts)
                servers = dict((host, CacheServer(homes[host])) for host in sorted(set(placed.values())))
                try:
                    start = time.perf_counter()
                    copies = [start_module({"repo_id": MODEL, "hf_home": homes[host], "transfer": "gonka",
                                            "endpoint": servers[placed[host]].url, "source_wait": 120})
                              for host in hosts[1:]]
                    for copy in copies:
                        finish_module(copy)
                    seconds = time.perf_counter() - start
                    uploads = dict((host, source.stop() / float(size)) for host, source in servers.items())
                finally:
                    for source in servers.values():
                        source.process.kill()
                depth = max([_depth(placed, host) for host in hosts[1:]] or [0])
                fanout_rows.append({"hosts": count, "fanout": fanout, "seconds": seconds, "depth": depth,
                                    "max_copies_uploaded": max(uploads.values() or [0]),
                                    "copies_uploaded": uploads})
                log("weights fan-out %d hosts, at most %d per source: %.1f s, depth %d, most copies uploaded %.2f"
                    % (count, fanout, seconds, depth, fanout_rows[-1]["max_copies_uploaded"]))
                for host in hosts[1:]:
                    _fresh(homes[host])
        hub_server.shutdown()
    finally:
        for process in cleanup:
            process.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"throughput": rows, "fanout": fanout_rows}


def _depth(placed, host):
    depth = 0
    while host in placed:
        host, depth = placed[host], depth + 1
    return depth


# ---- fleet ----------------------------------------------------------------------------------
def lab_inventory(path, ml_hosts):
    with open(os.path.join(ROOT, "inventories", "lab", "hosts.yml"), encoding="utf-8") as handle:
        text = handle.read()
    import yaml  # pylint: disable=import-outside-toplevel
    data = yaml.safe_load(text)
    lab = data["all"]["children"]["lab"]
    lab["vars"]["gonka_lab_root"] = ROOT
    lab["children"]["ml_nodes"]["hosts"] = dict(
        ("ml%d" % index, {"ansible_host": "10.231.0.%d" % (10 + index), "gonka_private_address": "10.232.0.%d" % (10 + index)})
        for index in range(1, ml_hosts + 1))
    for group in ("lab_spares", "lab_outsiders"):
        lab["children"].pop(group, None)
    os.makedirs(os.path.join(os.path.dirname(path), "group_vars"), exist_ok=True)
    link = os.path.join(os.path.dirname(path), "group_vars", "lab.yml")
    if not os.path.exists(link):
        os.symlink(os.path.join(ROOT, "inventories", "lab", "group_vars", "lab.yml"), link)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)


# the configurations of the fleet table (their names are the rows' labels)
SHIPPED, DEFAULTS = "shipped ansible.cfg", "Ansible defaults"
COLD, WARM = SHIPPED + " + gathering smart (cache cold)", SHIPPED + " + fact cache (warm)"


def _changed_hosts(out):
    return len([line for line in out.splitlines() if " : ok=" in line and "changed=0" not in line])


def bench_fleet(ml_counts):
    """Per ML host count, on a fresh lab each: the shipped ansible.cfg (fresh, re-run, then re-runs
    with smart gathering and with a warm jsonfile fact cache) and Ansible's defaults (fresh, re-run)."""
    rows = []
    site = os.path.join(ROOT, "playbooks", "site.yml")
    configs = {SHIPPED: os.path.join(ROOT, "ansible.cfg"),
               DEFAULTS: os.path.join(ROOT, "bench", "ansible-defaults.cfg")}
    lab = [sys.executable, os.path.join(ROOT, "lab", "lab.py")]
    with tempfile.TemporaryDirectory() as scratch:
        for count in ml_counts:
            hosts = count + 1
            inventory = os.path.join(scratch, "fleet-%d" % count, "hosts.yml")
            lab_inventory(inventory, count)
            for name, config in configs.items():
                subprocess.run(lab + ["down", "--keep-images"], check=True, stdout=subprocess.DEVNULL)
                subprocess.run(lab + ["up", "--inventory", inventory], check=True, stdout=subprocess.DEVNULL)
                env = ansible_env(config)
                fresh, _out = playbook(site, env=env, inventory=inventory)
                rerun, out = playbook(site, env=env, inventory=inventory)
                runs = [(name, fresh, rerun, out)]
                if name == SHIPPED:
                    # the fact caching ansible.cfg documents: gathering=smart gathers once per run
                    # instead of once per play; with a warm jsonfile cache a re-run gathers nothing
                    cached = dict(env, ANSIBLE_GATHERING="smart", ANSIBLE_CACHE_PLUGIN="jsonfile",
                                  ANSIBLE_CACHE_PLUGIN_CONNECTION=os.path.join(scratch, "facts-%d" % count),
                                  ANSIBLE_CACHE_PLUGIN_TIMEOUT="3600")
                    smart, out = playbook(site, env=cached, inventory=inventory)
                    runs.append((COLD, None, smart, out))
                    warm, out = playbook(site, env=cached, inventory=inventory)
                    runs.append((WARM, None, warm, out))
                for label, fresh_s, rerun_s, out in runs:
                    row = {"ml_hosts": count, "config": label, "fresh_s": fresh_s, "rerun_s": rerun_s,
                           "rerun_per_host_s": rerun_s / hosts, "rerun_changed_hosts": _changed_hosts(out)}
                    rows.append(row)
                    log("fleet %d ML hosts, %-50s fresh %s, re-run %6.1f s (%.1f s/host), %d hosts changed" % (
                        count, label, "-" if fresh_s is None else "%6.1f s" % fresh_s, rerun_s, rerun_s / hosts,
                        row["rerun_changed_hosts"]))
        subprocess.run(lab + ["down", "--keep-images"], check=True, stdout=subprocess.DEVNULL)
    return rows


_PROFILE_LINE = re.compile(r"^(.*?) -+ (\d+\.\d+)s$")


def profile(out):
    """[(task, seconds)] from ansible.posix.profile_tasks' summary, slowest first."""
    found = []
    for line in out.splitlines():
        match = _PROFILE_LINE.match(line.strip())
        if match and not line.startswith("="):
            found.append((match.group(1).strip(), float(match.group(2))))
    return sorted(found, key=lambda item: -item[1])


def bench_noop(ml_hosts, repeat):
    """On a fresh lab converged once: a no-change run of site.yml against the bare floor of a run
    (gather facts once, ping), paired run by run, and the slowest tasks of the no-change run."""
    site = os.path.join(ROOT, "playbooks", "site.yml")
    floor = os.path.join(ROOT, "bench", "playbooks", "gather_ping.yml")
    lab = [sys.executable, os.path.join(ROOT, "lab", "lab.py")]
    result = {"ml_hosts": ml_hosts, "noop_s": [], "floor_s": [], "changed_hosts": [], "top_tasks": [],
              "full_s": [], "full_changed_hosts": [], "full_top_tasks": []}
    with tempfile.TemporaryDirectory() as scratch:
        inventory = os.path.join(scratch, "fleet", "hosts.yml")
        lab_inventory(inventory, ml_hosts)
        subprocess.run(lab + ["down", "--keep-images"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(lab + ["up", "--inventory", inventory], check=True, stdout=subprocess.DEVNULL)
        env = ansible_env(os.path.join(ROOT, "ansible.cfg"))
        playbook(site, env=env, inventory=inventory)
        profiled = dict(env, ANSIBLE_CALLBACKS_ENABLED="gonka.fleet.fleet_summary,ansible.posix.profile_tasks",
                        PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
        for _run in range(repeat):
            seconds, _out = playbook(floor, env=env, inventory=inventory)
            result["floor_s"].append(seconds)
            seconds, out = playbook(site, env=profiled, inventory=inventory)
            result["noop_s"].append(seconds)
            result["changed_hosts"].append(_changed_hosts(out))
            result["tasks"] = len(profile(out))
            result["top_tasks"] = profile(out)[:15]
            result["fast_hosts"] = out.count(": fast path - ")
            # the same re-run without the fast path: every task of every role
            seconds, out = playbook(site, extra=["-e", "gonka_fast_path=false"], env=profiled, inventory=inventory)
            result["full_s"].append(seconds)
            result["full_changed_hosts"].append(_changed_hosts(out))
            result["full_tasks"] = len(profile(out))
            result["full_top_tasks"] = profile(out)[:15]
            log("noop run %d: floor %.1f s, site.yml no-op %.1f s (fast path, %d hosts changed), full %.1f s (%d hosts changed)"
                % (_run + 1, result["floor_s"][-1], result["noop_s"][-1], result["changed_hosts"][-1], seconds,
                   result["full_changed_hosts"][-1]))
        subprocess.run(lab + ["down", "--keep-images"], check=True, stdout=subprocess.DEVNULL)
    result["ratio"] = statistics.median(result["noop_s"]) / statistics.median(result["floor_s"])
    result["full_ratio"] = statistics.median(result["full_s"]) / statistics.median(result["floor_s"])
    return result


# ---- scale ----------------------------------------------------------------------------------
MITOGEN = "mitogen==0.3.54"  # the newest release; it runs under ansible-core 2.19 (bench checks each run)


def _wait_http(url, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("bench: %s did not answer %s" % (what, url))


def _mitogen_strategies():
    """The strategy plugins of Mitogen, installed once under .build/ (None when pip cannot get it)."""
    target = os.path.join(ROOT, ".build", "mitogen")
    plugins = os.path.join(target, "ansible_mitogen", "plugins", "strategy")
    if not os.path.isdir(plugins):
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", target, MITOGEN],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        if result.returncode != 0:
            log("scale: %s not installed, runs without it only:\n%s" % (MITOGEN, result.stdout[-2000:]))
            return None
    return plugins


def scale_inventory(path, count, ports, state_dir):
    """One network node and `count` ML hosts, all on the controller (connection local): the
    controller does all of Ansible's per-host work, the hosts none of a real server's. Each ML host
    has its own loopback address (127.1.x.y); one ML node stand-in on 0.0.0.0 answers for all."""
    import yaml  # pylint: disable=import-outside-toplevel
    ml_hosts = dict(("ml%03d" % index, {"gonka_private_address": "127.1.%d.%d" % (index // 250, index % 250 + 1)})
                    for index in range(count))
    data = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "gonka_ml_node_gpus": 0, "gonka_ml_node_models": [MODEL],
                 "gonka_ml_node_inference_port": ports["inference"], "gonka_ml_node_poc_port": ports["poc"],
                 "gonka_registration_poll_interval": 1},
        "children": {
            "network_nodes": {"hosts": {"net1": {
                "gonka_private_address": "127.0.0.1", "gonka_network_node_dir": state_dir,
                "gonka_network_node_admin_port": ports["admin"], "gonka_network_node_api_port": ports["public"]}}},
            "ml_nodes": {"hosts": ml_hosts}}}}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)


def bench_scale(host_counts, repeat):
    """Controller seconds per host for the inventory check (validate.yml) and the registration
    (register.yml: fresh, then the no-change re-run) over `host_counts` ML hosts, against the api
    stand-in (tests/simulators/gonka_api.py) and one ML node stand-in, with Ansible's linear
    strategy and with Mitogen's."""
    rows = []
    strategies = {"linear": None, "mitogen_linear": _mitogen_strategies()}
    env = ansible_env(os.path.join(ROOT, "ansible.cfg"))
    sims = os.path.join(ROOT, "tests", "simulators")
    books = [("validate.yml", "inventory check"), ("register.yml", "registration fresh"),
             ("register.yml", "registration re-run")]
    with tempfile.TemporaryDirectory() as scratch:
        for count in host_counts:
            for strategy, plugins in strategies.items():
                if strategy != "linear" and plugins is None:
                    continue
                run_env = dict(env, ANSIBLE_STRATEGY=strategy)
                if plugins:
                    run_env["ANSIBLE_STRATEGY_PLUGINS"] = plugins
                times = dict((label, []) for _book, label in books)
                for _run in range(repeat if count <= 50 else 1):
                    state = tempfile.mkdtemp(dir=scratch)
                    ports = dict((name, free_port()) for name in ("admin", "public", "callback", "poc", "inference"))
                    api = subprocess.Popen(
                        [sys.executable, os.path.join(sims, "gonka_api.py")], stdout=subprocess.DEVNULL,
                        env=dict(os.environ, SIM_STATE_DIR=state, SIM_POLL_INTERVAL="1", SIM_EPOCH_SECONDS="86400",
                                 DAPI_API__ADMIN_SERVER_PORT=str(ports["admin"]),
                                 DAPI_API__PUBLIC_SERVER_PORT=str(ports["public"]),
                                 DAPI_API__ML_SERVER_PORT=str(ports["callback"])))
                    mlnode = subprocess.Popen(
                        [sys.executable, os.path.join(sims, "mlnode.py"), "--port", str(ports["poc"]),
                         "--inference-port", str(ports["inference"])], stdout=subprocess.DEVNULL,
                        env=dict(os.environ, HF_HOME=state))
                    try:
                        _wait_http("http://127.0.0.1:%d/admin/v1/nodes" % ports["admin"], "the api stand-in")
                        _wait_http("http://127.1.0.1:%d/api/v1/state" % ports["poc"], "the ML node stand-in")
                        inventory = os.path.join(state, "hosts.yml")
                        scale_inventory(inventory, count, ports, state)
                        for book, label in books:
                            seconds, _out = playbook(os.path.join(ROOT, "playbooks", book), env=run_env,
                                                     inventory=inventory)
                            times[label].append(seconds)
                        registered = get_json("http://127.0.0.1:%d/admin/v1/nodes" % ports["admin"])
                        if len(registered) != count:
                            raise SystemExit("bench: %d ML hosts, %d nodes registered" % (count, len(registered)))
                    finally:
                        for process in (api, mlnode):
                            process.terminate()
                            process.wait(10)
                for _book, label in books:
                    row = {"ml_hosts": count, "strategy": strategy, "play": label, "seconds": summary(times[label]),
                           "per_host_s": statistics.median(times[label]) / (count + 1)}
                    rows.append(row)
                    log("scale %3d ML hosts %-15s %-20s %6.1f s, %.3f s per host" % (
                        count, strategy, label, row["seconds"]["median"], row["per_host_s"]))
    return rows


# ---- report ---------------------------------------------------------------------------------
def machine():
    cores = os.cpu_count()
    with open("/proc/meminfo", encoding="utf-8") as handle:
        memory = int(handle.readline().split()[1]) // 1024 // 1024
    return "%s, %d cores, %d GiB RAM, Python %s" % (
        platform.platform(terse=True), cores, memory, platform.python_version())


SECTIONS = ("registration", "weights", "fleet", "noop", "scale")


def latest(results_dir):
    """{section: results of the newest run that measured it} over the raw files in results_dir."""
    found = {}
    for name in sorted(os.listdir(results_dir)):
        if name.endswith(".json"):
            with open(os.path.join(results_dir, name), encoding="utf-8") as handle:
                data = json.load(handle)
            for section in SECTIONS:
                if section in data:
                    found[section] = data
    return found


def _measured(data):
    return ["Measured in one run on: %s, %s. Raw data: `%s`." % (data["machine"], data["date"], data["raw"]), ""]


def markdown(found):
    """docs/benchmarks.md from {section: results}: each table comes from one run, named under it."""
    out = ["# Benchmarks", "",
           "Measured by `make bench` (`bench/run.py`). Times are min / median of the repeated runs; ratios",
           "compare medians of the same run. Each table comes from one run, named under its title;",
           "`bench/run.py --sections fleet` re-measures one table and keeps the others.", ""]
    if "registration" in found:
        registration = found["registration"]["registration"]
        out += ["## Registration: one reconcile vs one `uri` POST per node", ""] + _measured(found["registration"])
        out += ["Against the Admin API simulator on loopback. `requests` = HTTP requests the simulator served.", "",
                "| nodes | phase | inference_nodes s (min / median) | requests | uri per node s (min / median) | requests | time ratio uri / module |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for size in sorted(set(row["nodes"] for row in registration)):
            for phase in ("fresh", "rerun"):
                module, uri = [next(row for row in registration if row["nodes"] == size and row["phase"] == phase
                                    and row["way"] == way) for way in ("inference_nodes", "uri per node")]
                out.append("| %d | %s | %.1f / %.1f | %d | %.1f / %.1f | %d | %.1fx |" % (
                    size, phase, module["seconds"]["min"], module["seconds"]["median"], module["requests"],
                    uri["seconds"]["min"], uri["seconds"]["median"], uri["requests"],
                    uri["seconds"]["median"] / module["seconds"]["median"]))
        out.append("")
    if "weights" in found:
        weights = found["weights"]["weights"]
        out += ["## Weights: copy throughput against the machine's limits, and the fan-out", ""] + _measured(found["weights"])
        out += ["One generated repository (the Hub stand-in's), a fresh cache for every copy, loopback. Every copy",
                "runs as a process, as on a host. The limit is the lower of the disk's write rate (dd) and what a C",
                "client (curl, one per file at once) gets from the same hf_serve onto the same disk.", "",
                "| way | size MB | seconds (min / median) | MB/s (median) | ratio to the limit |",
                "| --- | --- | --- | --- | --- |"]
        by_way = dict((row["way"], row) for row in weights["throughput"])
        limit = min(row["mb_per_s"] for way, row in by_way.items()
                    if way.startswith("limit:") and "/dev/null" not in way)
        for row in weights["throughput"]:
            out.append("| %s | %.0f | %.2f / %.2f | %.0f | %.2f |" % (
                row["way"], row["bytes"] / 1e6, row["seconds"]["min"], row["seconds"]["median"], row["mb_per_s"],
                row["mb_per_s"] / limit))
        out += ["", "Fan-out (peer mode): the seed holds the model; the other hosts copy it at once, each from its",
                "source in the tree of `gonka.fleet.model_sources` (at most 2 per source), or, for comparison, all from",
                "the seed (a star, the fan-out before). Copies uploaded = bytes a host's hf_serve sent / model size;",
                "the Hub served one copy (the seed's) in every row. Here all hosts are processes on one machine and",
                "write to one disk, so N-1 copies take about N-1 times one copy whatever the shape; what the shape",
                "changes is the time per copy against one copy alone (1.00 = a deeper tree costs nothing) and the",
                "uploads. On a fleet each host has its own disk and NIC: the tree's time stays about one copy's,",
                "while the star's grows with the seed's N-1 uploads through one NIC.", "",
                "| hosts | most hosts per source | depth | seconds | seconds per copy / one copy alone | most copies one host uploaded |",
                "| --- | --- | --- | --- | --- | --- |"]
        single = next((row["seconds"] for row in weights["fanout"] if row["hosts"] == 2), None)
        for row in weights["fanout"]:
            out.append("| %d | %d | %d | %.1f | %s | %.2f |" % (
                row["hosts"], row["fanout"], row["depth"], row["seconds"],
                "%.2f" % (row["seconds"] / (row["hosts"] - 1) / single) if single else "-", row["max_copies_uploaded"]))
        out.append("")
    if "fleet" in found:
        fleet = found["fleet"]["fleet"]
        out += ["## Fleet convergence in the lab", ""] + _measured(found["fleet"])
        out += ["`playbooks/site.yml` on lab hosts (systemd containers on this machine), one network node and N ML",
                "hosts, a fresh lab per configuration. The fact-cache rows are further re-runs of the shipped",
                "configuration with `ANSIBLE_GATHERING=smart` and a jsonfile fact cache (the settings `ansible.cfg`",
                "documents, off by default): cold = the first such run, warm = the next. Each figure is one run",
                "(a converge takes minutes), so differences of a few percent are within noise. `forks` (20 shipped,",
                "5 by default) only matters above 5 hosts: the largest lab here has 5.",
                "", "| ML hosts | configuration | fresh s | re-run s | re-run s per host | hosts changed on re-run |",
                "| --- | --- | --- | --- | --- | --- |"]
        for row in fleet:
            out.append("| %d | %s | %s | %.0f | %.1f | %d |" % (
                row["ml_hosts"], row["config"], "-" if row["fresh_s"] is None else "%.0f" % row["fresh_s"],
                row["rerun_s"], row["rerun_per_host_s"], row["rerun_changed_hosts"]))
        out += ["", "| ML hosts | fresh: defaults / shipped | re-run: defaults / shipped | re-run: shipped / warm fact cache |",
                "| --- | --- | --- | --- |"]
        for count in sorted(set(row["ml_hosts"] for row in fleet)):
            by_config = dict((row["config"], row) for row in fleet if row["ml_hosts"] == count)
            shipped, defaults, warm = by_config[SHIPPED], by_config[DEFAULTS], by_config[WARM]
            out.append("| %d | %.2f | %.2f | %.2f |" % (
                count, defaults["fresh_s"] / shipped["fresh_s"], defaults["rerun_s"] / shipped["rerun_s"],
                shipped["rerun_s"] / warm["rerun_s"]))
        out.append("")
    if "noop" in found:
        noop = found["noop"]["noop"]
        out += ["## A no-change run of site.yml against the floor of a run", ""] + _measured(found["noop"])
        out += ["The lab with one network node and %d ML hosts, converged once; then, paired run by run, the" % noop["ml_hosts"],
                "floor (`bench/playbooks/gather_ping.yml`: connect, gather facts once, ping) and a no-change run of",
                "`playbooks/site.yml` with the shipped `ansible.cfg` (profile_tasks on): with the fast path (the default,",
                "roles/fast_path) and without it (`-e gonka_fast_path=false`: every task of every role).", ""]
        if "full_s" not in noop:      # a run from before the fast path
            noop = dict(noop, full_s=[], full_changed_hosts=[], full_top_tasks=[], full_ratio=float("nan"), full_tasks=0)
        out += ["| run | floor s | no-op, fast path s | ratio | hosts changed | no-op, full run s | ratio | hosts changed |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for index, floor_s in enumerate(noop["floor_s"]):
            full = noop["full_s"][index] if index < len(noop["full_s"]) else float("nan")
            full_changed = noop["full_changed_hosts"][index] if index < len(noop["full_changed_hosts"]) else -1
            out.append("| %d | %.1f | %.1f | %.1fx | %d | %.1f | %.1fx | %d |" % (
                index + 1, floor_s, noop["noop_s"][index], noop["noop_s"][index] / floor_s, noop["changed_hosts"][index],
                full, full / floor_s, full_changed))
        for label, ratio, tasks, top in (("fast path", noop["ratio"], noop["tasks"], noop["top_tasks"]),
                                         ("full run", noop["full_ratio"], noop["full_tasks"], noop["full_top_tasks"])):
            out += ["", "No-op, %s: median ratio %.1fx (%d tasks timed in the last run). Its slowest tasks:" % (label, ratio, tasks),
                    "", "| task | seconds (all hosts) |", "| --- | --- |"]
            out += ["| %s | %.2f |" % (task.replace("|", "/"), seconds) for task, seconds in top]
        out.append("")
    if "scale" in found:
        scale = found["scale"]["scale"]
        out += ["## Controller cost as the fleet grows", ""] + _measured(found["scale"])
        out += ["One network node and N ML hosts, every host on the controller (`ansible_connection: local`): the",
                "controller does Ansible's whole per-host work, the hosts none of a real server's, so this is the",
                "controller's cost alone. The api stand-in (`tests/simulators/gonka_api.py`) registers the nodes and",
                "polls one ML node stand-in that answers for every host's address. Shipped `ansible.cfg` (forks 20);",
                "Mitogen is %s. Seconds per host = median seconds / (N + 1)." % MITOGEN, "",
                "| ML hosts | play | linear s | s per host | mitogen_linear s | s per host | linear / mitogen |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for count in sorted(set(row["ml_hosts"] for row in scale)):
            for play in [row["play"] for row in scale if row["ml_hosts"] == count and row["strategy"] == "linear"]:
                by_strategy = dict((row["strategy"], row) for row in scale if row["ml_hosts"] == count and row["play"] == play)
                linear, mitogen = by_strategy["linear"], by_strategy.get("mitogen_linear")
                out.append("| %d | %s | %.1f | %.3f | %s | %s | %s |" % (
                    count, play, linear["seconds"]["median"], linear["per_host_s"],
                    "%.1f" % mitogen["seconds"]["median"] if mitogen else "-",
                    "%.3f" % mitogen["per_host_s"] if mitogen else "-",
                    "%.2f" % (linear["seconds"]["median"] / mitogen["seconds"]["median"]) if mitogen else "-"))
        out.append("")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description="gonka.fleet benchmarks")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="the tables to measure; the others are kept from the newest run that measured them")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    args = parser.parse_args(argv)
    sections = [name for name in args.sections.split(",") if name]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error("unknown section(s) %s; choose from %s" % (", ".join(unknown), ", ".join(SECTIONS)))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    raw = os.path.join("bench", "results", "%s.json" % stamp)
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d", time.gmtime()), "raw": raw}
    if "registration" in sections:
        results["registration"] = bench_registration([10, 50] if args.quick else [10, 100, 1000], args.repeat)
    if "weights" in sections:
        results["weights"] = bench_weights(args.repeat, 2 if args.quick else 8, 16 if args.quick else 256, [2, 4, 8])
    if "fleet" in sections:
        results["fleet"] = bench_fleet([1, 2] if args.quick else [1, 2, 4])
    if "noop" in sections:
        results["noop"] = bench_noop(2, 1 if args.quick else max(args.repeat, 2))
    if "scale" in sections:
        results["scale"] = bench_scale([10, 50] if args.quick else [10, 50, 200], 1 if args.quick else 2)
    results_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(results_dir, exist_ok=True)
    if sections:
        with open(os.path.join(ROOT, raw), "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
        log("wrote %s" % raw)
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown(latest(results_dir)) + "\n")
    log("wrote docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
