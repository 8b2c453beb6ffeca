# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab: Gonka hosts as systemd containers on this machine, and the stand-in images.

    lab.py up --inventory inventories/lab/hosts.yml   create what the inventory lists
    lab.py images                                     build the stand-in images and their archive
    lab.py check-images                               run the stand-ins and probe every port they promise
    lab.py status --inventory ...                     one line per host
    lab.py down [--keep-images]                       remove every container, volume, network and image it made
    lab.py down --inventory ...                       remove the hosts of that inventory only (the lab's servers stay)

The inventory is the only description of the topology: every host gets a container named
after it, on the "public" network at its ``ansible_host`` and, when it has a
``gonka_private_address``, on the "private" network at that address. Hosts are fresh
Debian trixie servers (systemd, sshd, python3); the controller reaches them over SSH with
the key in .build/lab/ssh/. Everything made here carries the label gonka.lab=1.

Several inventories can be up at once (molecule scenarios side by side): their hosts have their
own names and addresses, and they share the lab's servers (apt repository, Hub, seed), which
``up`` starts only when they are not running. ``up`` and ``down`` take a lock, so two of them
never build images or start servers at the same time.

Needs a Docker engine (lab/engine.sh) and the base image (lab/base-image.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

import aptrepo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, ".build", "lab")
LOCK = os.path.join(ROOT, ".build", "lab.lock")
CACHE = os.path.join(ROOT, ".cache", "lab")
IMAGES_DIR = os.path.join(ROOT, "lab", "images")
SIMULATORS = os.path.join(ROOT, "tests", "simulators")
SSH_KEY = os.path.join(STATE, "ssh", "id_ed25519")
ARCHIVE = os.path.join(CACHE, "images", "gonka-standins.tar")
LABEL = "gonka.lab=1"
BASE_IMAGE = "gonka-lab/trixie:base"
HOST_IMAGE = "gonka-lab/trixie:host"
NETWORKS = {"public": ("gonka-lab-public", "10.231.0.0/24"), "private": ("gonka-lab-private", "10.232.0.0/24")}
# Docker flags that make a container a systemd host here (shared/ENVIRONMENT.md: no --privileged).
HOST_FLAGS = ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--cap-add", "MKNOD",
              "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
              "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock"]
WAIT_SECONDS = 90
# The addresses of the lab's own servers live once, in the lab inventory's group variables (the
# playbooks read them there): gonka_lab_<name>_address.
with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "lab.yml"), encoding="utf-8") as _handle:
    _LAB_VARS = yaml.safe_load(_handle)
# The signed apt repository (lab/aptrepo.py) that stands in for Docker's and NVIDIA's, served on the
# public network at this address.
APT_CONTAINER = "gonka-lab-apt"
APT_ADDRESS = _LAB_VARS["gonka_lab_apt_address"]
# The Hugging Face Hub stand-in (tests/simulators/hub.py on the collection's hf_serve.py routes),
# serving generated repositories of the models the lab runs, on the public network.
# A seed node's public API (another api stand-in): the network nodes register as participants
# through it, as a real host does through node2.gonka.ai:8000.
SEED_CONTAINER = "gonka-lab-seed"
SEED_ADDRESS = _LAB_VARS["gonka_lab_seed_api_address"]
SEED_PORT = 8000
SEED_PARTICIPANT_DELAY = 40
# The seed's chain node (the node stand-in with the lab's genesis): its RPC is the height network
# nodes are compared with (status.yml's block lag).
SEED_NODE_CONTAINER = "gonka-lab-seed-node"
SEED_NODE_ADDRESS = _LAB_VARS["gonka_lab_seed_node_address"]
HUB_CONTAINER = "gonka-lab-hub"
HUB_ADDRESS = _LAB_VARS["gonka_lab_hub_address"]
HUB_REPOS = ["Qwen/Qwen3-32B-FP8"]
HUB_SHARD_MB = 16
HUB_DATA = os.path.join(CACHE, "hub")
# huggingface_hub and its dependencies as wheels for the lab hosts' Python (Debian trixie: 3.13),
# installed by the model_cache role without an index, as on an air-gapped site.
WHEELS = os.path.join(CACHE, "wheels")
WHEEL_TARGET = ["--python-version", "3.13", "--implementation", "cp", "--only-binary=:all:",
                "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
                "--platform", "manylinux2014_x86_64"]


def log(message):
    print("lab: %s" % message, flush=True)


def docker(*args, check=True, capture=True):
    result = subprocess.run(["docker"] + list(args), check=False, text=True,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        raise SystemExit("lab: docker %s failed: %s" % (" ".join(args), (result.stderr or "").strip()))
    return result


@contextlib.contextmanager
def locked():
    """One ``up`` or ``down`` at a time on this machine (scenarios that run side by side)."""
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    with open(LOCK, "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def running(name):
    """Whether the container ``name`` exists and runs."""
    state = docker("container", "inspect", "--format", "{{.State.Running}}", name, check=False)
    return state.returncode == 0 and state.stdout.strip() == "true"


def exists(kind, name):
    return docker(kind, "inspect", name, check=False).returncode == 0


# ---- inventory ------------------------------------------------------------------------
def read_inventory(path):
    """[(name, public address, private address or None)] of every host in a YAML inventory."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    hosts = {}

    def walk(group):
        for name, hostvars in ((group or {}).get("hosts") or {}).items():
            merged = hosts.setdefault(name, {})
            merged.update(hostvars or {})
        for child in ((group or {}).get("children") or {}).values():
            walk(child)

    for group in data.values():
        walk(group)
    result = []
    for name, hostvars in hosts.items():
        public = hostvars.get("ansible_host")
        private = hostvars.get("gonka_private_address")
        for kind, address in (("public", public), ("private", private)):
            if address is None and kind == "private":
                continue
            subnet = ipaddress.ip_network(NETWORKS[kind][1])
            if address is None or ipaddress.ip_address(address) not in subnet:
                raise SystemExit("lab: %s: %s address %r is not in the lab's %s network %s"
                                 % (name, kind, address, kind, subnet))
        result.append((name, public, private))
    return result


# ---- images -----------------------------------------------------------------------------
def releases():
    """The release catalog the roles deploy from (roles/release/vars/main.yml) and its default release."""
    with open(os.path.join(ROOT, "roles", "release", "vars", "main.yml"), encoding="utf-8") as handle:
        catalog = yaml.safe_load(handle)["_gonka_release_catalog_shipped"]
    with open(os.path.join(ROOT, "roles", "release", "defaults", "main.yml"), encoding="utf-8") as handle:
        default = str(yaml.safe_load(handle)["gonka_release"])
    return catalog, default


def _tag(image):
    """The local tag of a catalog image: without its digest (a local image cannot carry upstream's)."""
    return image.split("@", 1)[0]


def read_catalog():
    """One build per stand-in and release: dicts with image (tag), key, release, dockerfile, files, args.
    A tag two releases share (explorer:latest) is built once; differing build inputs for one tag fail."""
    with open(os.path.join(IMAGES_DIR, "standins.yml"), encoding="utf-8") as handle:
        standins = yaml.safe_load(handle)["standins"]
    catalog, _default = releases()
    builds = {}
    for name, entry in catalog.items():
        for item in standins:
            image = entry["images"].get(item["image"])
            if not image:
                continue
            args = {}
            for arg, value in (item.get("args") or {}).items():
                if isinstance(value, dict) and "image" in value:
                    value = _tag(entry["images"][value["image"]])
                elif isinstance(value, dict) and "service" in value:
                    value = "true" if value["service"] in entry["services"] else "false"
                elif isinstance(value, dict):
                    value = entry[value["release"]]
                args[arg] = value
            build = {"image": _tag(image), "key": item["image"], "release": str(name), "dockerfile": item["dockerfile"],
                     "files": item.get("files") or [], "args": args}
            other = builds.setdefault(build["image"], build)
            if (other["dockerfile"], other["files"], other["args"]) != (build["dockerfile"], build["files"], args):
                raise SystemExit("lab: releases %s and %s build %s differently" % (other["release"], name, build["image"]))
    return list(builds.values())


def release_images(release):
    """Local tag of each image of ``release``, by catalog key."""
    catalog, _default = releases()
    return dict((key, _tag(image)) for key, image in catalog[release]["images"].items() if image)


def _context(name, files):
    """A small build context in .build/lab/context/NAME; returns (path, content hash)."""
    context = os.path.join(STATE, "context", name)
    shutil.rmtree(context, ignore_errors=True)
    os.makedirs(context)
    digest = hashlib.sha256()
    for source in files:
        target = os.path.join(context, "Dockerfile" if source.endswith(".Dockerfile") else os.path.basename(source))
        shutil.copyfile(source, target)
        with open(source, "rb") as handle:
            digest.update(os.path.basename(source).encode() + b"\0" + handle.read())
    return context, digest.hexdigest()[:16]


def _source(file_name):
    for directory in (IMAGES_DIR, SIMULATORS):
        path = os.path.join(directory, file_name)
        if os.path.exists(path):
            return path
    raise SystemExit("lab: no file %s in lab/images or tests/simulators" % file_name)


def build(tag, dockerfile, files, base_hash, build_args=()):
    """Build ``tag`` unless an image with the same inputs exists; returns its input hash."""
    context, digest = _context(tag.replace("/", "_").replace(":", "_"),
                               [_source(dockerfile)] + [_source(f) for f in files])
    digest = hashlib.sha256((digest + base_hash + repr(build_args)).encode()).hexdigest()[:16]
    inspect = docker("image", "inspect", "--format", '{{ index .Config.Labels "gonka.lab.hash" }}', tag, check=False)
    if inspect.returncode == 0 and inspect.stdout.strip() == digest:
        return digest
    log("building %s" % tag)
    args = ["build", "--quiet", "--label", LABEL, "--label", "gonka.lab.hash=%s" % digest, "-t", tag]
    for arg in build_args:
        args += ["--build-arg", arg]
    docker(*(args + [context]))
    return digest


def base_hash():
    if not exists("image", BASE_IMAGE):
        raise SystemExit("lab: no base image %s: run lab/base-image.sh first" % BASE_IMAGE)
    return docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE).stdout.strip()


def images():
    """Build the host image and every stand-in, and export the stand-ins into one archive."""
    base = base_hash()
    build(HOST_IMAGE, "host.Dockerfile", [], base, ["BASE=%s" % BASE_IMAGE])
    hashes = []
    for item in read_catalog():
        args = ["BASE=%s" % BASE_IMAGE] + ["%s=%s" % pair for pair in (item.get("args") or {}).items()]
        hashes.append(build(item["image"], item["dockerfile"], item.get("files") or [], base, args))
    tags = [item["image"] for item in read_catalog()]
    stamp = hashlib.sha256(" ".join(hashes + tags).encode()).hexdigest()
    stamp_file = ARCHIVE + ".inputs"
    if os.path.exists(ARCHIVE) and os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
        log("image archive %s is up to date" % ARCHIVE)
        return
    os.makedirs(os.path.dirname(ARCHIVE), exist_ok=True)
    log("exporting %d stand-in images to %s" % (len(tags), ARCHIVE))
    docker(*(["save", "-o", ARCHIVE + ".part"] + tags))
    os.replace(ARCHIVE + ".part", ARCHIVE)
    with open(stamp_file, "w", encoding="utf-8") as handle:
        handle.write(stamp)


# ---- hosts ------------------------------------------------------------------------------
def ssh_key():
    if not os.path.exists(SSH_KEY):
        os.makedirs(os.path.dirname(SSH_KEY), exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gonka-lab", "-f", SSH_KEY], check=True)
    with open(SSH_KEY + ".pub", encoding="utf-8") as handle:
        return handle.read()


def networks():
    for name, subnet in NETWORKS.values():
        if not exists("network", name):
            log("creating network %s (%s)" % (name, subnet))
            docker("network", "create", "--label", LABEL, "--subnet", subnet, name)


def start_host(name, public, private, public_key):
    if running(name):
        return False
    if exists("container", name):
        docker("rm", "-f", name)
    log("starting host %s (public %s%s)" % (name, public, ", private %s" % private if private else ""))
    docker(*(["run", "-d", "--name", name, "--hostname", name, "--label", LABEL] + HOST_FLAGS +
             ["-v", "gonka-lab-%s-docker:/var/lib/docker" % name,
              "--network", NETWORKS["public"][0], "--ip", public, HOST_IMAGE]))
    if private:
        docker("network", "connect", "--ip", private, NETWORKS["private"][0], name)
    subprocess.run(["docker", "exec", "-i", name, "sh", "-c",
                    "mkdir -p -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys"],
                   input=public_key, text=True, check=True)
    return True


def wait_for_ssh(hosts):
    deadline = time.time() + WAIT_SECONDS
    pending = dict((name, public) for name, public, _private in hosts)
    while pending and time.time() < deadline:
        for name, address in list(pending.items()):
            try:
                with socket.create_connection((address, 22), timeout=1) as conn:
                    if conn.recv(4).startswith(b"SSH"):
                        del pending[name]
            except OSError:
                pass
        if pending:
            time.sleep(1)
    if pending:
        raise SystemExit("lab: no SSH answer from %s within %d s" % (", ".join(sorted(pending)), WAIT_SECONDS))


def apt_repository():
    """Build the stand-in vendor repository and serve it at http://APT_ADDRESS/ (plain HTTP, signed indexes)."""
    if running(APT_CONTAINER):
        return
    repo = aptrepo.build(BASE_IMAGE)
    if exists("container", APT_CONTAINER):
        docker("rm", "-f", APT_CONTAINER)
    docker("run", "-d", "--name", APT_CONTAINER, "--label", LABEL, "--network", NETWORKS["public"][0],
           "--ip", APT_ADDRESS, "-v", "%s:/srv:ro" % repo, BASE_IMAGE,
           "python3", "-m", "http.server", "80", "--directory", "/srv")
    _wait_http("http://%s/linux/debian/gpg" % APT_ADDRESS, "the apt repository")
    log("apt repository (Docker and NVIDIA stand-ins) at http://%s/" % APT_ADDRESS)


def _wait_http(url, what):
    deadline = time.time() + WAIT_SECONDS
    while True:
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit("lab: %s did not answer at %s" % (what, url))
        time.sleep(0.5)


def hub():
    """Serve generated model repositories at http://HUB_ADDRESS/ (the model_cache role's endpoint)."""
    if running(HUB_CONTAINER):
        return
    if exists("container", HUB_CONTAINER):
        docker("rm", "-f", HUB_CONTAINER)
    os.makedirs(HUB_DATA, exist_ok=True)
    # the repository as a collection on PYTHONPATH: hub.py imports the collection's hf_serve and hf_cache
    sources = ["-v", "%s:/sim/ansible_collections/gonka/fleet:ro" % ROOT, "-e", "PYTHONPATH=/sim"]
    repos = sum((["--repo", repo] for repo in HUB_REPOS), [])
    docker(*(["run", "-d", "--name", HUB_CONTAINER, "--label", LABEL, "--network", NETWORKS["public"][0],
              "--ip", HUB_ADDRESS, "-v", "%s:/srv/hub" % HUB_DATA] + sources +
             [BASE_IMAGE, "python3", "/sim/ansible_collections/gonka/fleet/tests/simulators/hub.py",
              "--port", "80", "--dir", "/srv/hub", "--shard-mb", str(HUB_SHARD_MB)] + repos))
    _wait_http("http://%s/api/models/%s/revision/main" % (HUB_ADDRESS, HUB_REPOS[0]), "the Hub stand-in")
    log("Hub stand-in (%s) at http://%s/" % (", ".join(HUB_REPOS), HUB_ADDRESS))


def wheels():
    """Download the model_cache role's packages as wheels for the lab hosts (once)."""
    with open(os.path.join(ROOT, "roles", "model_cache", "defaults", "main.yml"), encoding="utf-8") as handle:
        packages = yaml.safe_load(handle)["gonka_model_cache_packages"]
    stamp = os.path.join(WHEELS, ".packages")
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == "\n".join(packages):
        return
    log("downloading wheels of %s for the lab hosts" % ", ".join(packages))
    shutil.rmtree(WHEELS, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", WHEELS] + WHEEL_TARGET + packages,
                   check=True)
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write("\n".join(packages))


def seed():
    """The seed node's public API at http://SEED_ADDRESS:SEED_PORT/ (the api stand-in image)."""
    if running(SEED_CONTAINER) and running(SEED_NODE_CONTAINER):
        return
    if exists("container", SEED_CONTAINER):
        docker("rm", "-f", SEED_CONTAINER)
    image = release_images(releases()[1])["api"]
    docker("run", "-d", "--name", SEED_CONTAINER, "--label", LABEL, "--network", NETWORKS["public"][0],
           "--ip", SEED_ADDRESS, "-e", "DAPI_API__PUBLIC_SERVER_PORT=%d" % SEED_PORT, "-e", "SIM_STATE_DIR=/tmp/dapi",
           # the seed lists a new account later than the CLI's own 30 s wait (docs/conformance.md R4.2)
           "-e", "SIM_PARTICIPANT_DELAY=%d" % SEED_PARTICIPANT_DELAY, image)
    _wait_http("http://%s:%d/v1/epochs/current/participants" % (SEED_ADDRESS, SEED_PORT), "the seed API")
    log("seed node API (api stand-in) at http://%s:%d/" % (SEED_ADDRESS, SEED_PORT))
    if exists("container", SEED_NODE_CONTAINER):
        docker("rm", "-f", SEED_NODE_CONTAINER)
    docker("run", "-d", "--name", SEED_NODE_CONTAINER, "--label", LABEL, "--network", NETWORKS["public"][0],
           "--ip", SEED_NODE_ADDRESS, "-e", "SIM_SYNC_SECONDS=0",
           "-v", "%s:/root/genesis.json:ro" % os.path.join(ROOT, "lab", "files", "genesis.json"),
           release_images(releases()[1])["node"])
    _wait_http("http://%s:26657/status" % SEED_NODE_ADDRESS, "the seed's chain node")
    log("seed chain node (node stand-in) RPC at http://%s:26657/" % SEED_NODE_ADDRESS)


def up(inventory):
    hosts = read_inventory(inventory)
    with locked():
        images()
        wheels()
        networks()
        apt_repository()
        hub()
        seed()
        public_key = ssh_key()
        for name, public, private in hosts:
            start_host(name, public, private, public_key)
    wait_for_ssh(hosts)
    log("%d hosts answer on SSH: %s" % (len(hosts), ", ".join(name for name, _p, _q in hosts)))


def _get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def _container_ip(name, network):
    return docker("container", "inspect", "--format",
                  "{{ (index .NetworkSettings.Networks \"%s\").IPAddress }}" % network, name).stdout.strip()


def check_images():
    """Start the network node's stand-ins (as the compose file names them) and an ML node on a
    scratch network, and probe each port they promise from this machine."""
    with locked():
        images()
    for release in releases()[0]:
        check_release(str(release))


def check_release(release):
    """check_images for the stand-ins of one release."""
    images_of = release_images(release)
    network = "gonka-lab-check"
    names = [name for name in ("tmkms", "node", "api", "bridge", "explorer", "proxy", "mlnode") if name in images_of]
    docker("rm", "-f", *names, check=False)
    if exists("network", network):
        docker("network", "rm", network)
    docker("network", "create", "--label", LABEL, network)
    commands = {"node": ["sh", "./init-docker.sh"]}
    environments = {"bridge": ["-e", "JWT_SECRET_PATH=/data/jwt/jwt.hex", "-e", "GETH_DATA_DIR=/data/geth"]}
    probes = [("api", 9200, "/admin/v1/nodes", "[]"), ("api", 9000, "/v1/governance/models", "models"),
              ("api", 9100, "/health", "ok"),
              ("node", 26657, "/status", "catching_up"), ("explorer", 5173, "/", "explorer"),
              ("proxy", 80, "/health", "healthy"), ("proxy", 80, "/v1/epochs/current/participants", "participants"),
              ("proxy", 80, "/api/v1/epochs/current/participants", "participants"),
              ("proxy", 80, "/v2/participants/x", "explorer"),
              ("proxy", 80, "/chain-rpc/status", "latest_block_height"),
              ("mlnode", 8080, "/api/v1/state", "STOPPED"), ("mlnode", 5000, "/v1/models", "list")]
    failures = []
    try:
        for name in names:
            docker(*(["run", "-d", "--name", name, "--label", LABEL, "--network", network]
                     + environments.get(name, []) + [images_of[name]] + commands.get(name, [])))
        for name, port, path, expected in probes:
            url = "http://%s:%d%s" % (_container_ip(name, network), port, path)
            deadline, answer = time.time() + 30, None
            while time.time() < deadline:
                try:
                    answer = _get(url)
                    break
                except OSError:
                    time.sleep(0.5)
            if not answer or answer[0] != 200 or expected not in answer[1]:
                failures.append("%s %s -> %s" % (name, url, answer))
        if docker("exec", "tmkms", "test", "-s", "/root/.tmkms/secrets/priv_validator_key.softsign",
                  check=False).returncode:
            failures.append("tmkms made no consensus key")
        if "bridge" in names and docker("exec", "bridge", "test", "-s", "/data/jwt/jwt.hex", check=False).returncode:
            failures.append("bridge made no JWT secret")
    finally:
        docker("rm", "-f", *names, check=False)
        docker("network", "rm", network, check=False)
    if failures:
        raise SystemExit("lab: stand-in images of release %s failed their probes:\n  %s"
                         % (release, "\n  ".join(failures)))
    log("stand-in images of release %s answer on every promised port (%d probes)" % (release, len(probes) + 1))


def status(inventory):
    print("%-10s %-14s %-14s %s" % ("host", "public", "private", "systemd"))
    for name, public, private in read_inventory(inventory):
        state = docker("exec", name, "systemctl", "is-system-running", check=False)
        print("%-10s %-14s %-14s %s" % (name, public, private or "-", (state.stdout or "absent").strip()))


def down_hosts(inventory):
    """Remove the hosts of ``inventory`` and their Docker volumes. The lab's servers, networks, key
    and images stay while hosts of another inventory run; with the last host, the servers go too
    (the images stay), so that the next ``up`` starts them fresh (the seed forgets its accounts)."""
    names = [name for name, _public, _private in read_inventory(inventory)]
    with locked():
        present = [name for name in names if exists("container", name)]
        if present:
            log("removing hosts %s" % ", ".join(present))
            docker(*(["rm", "-f", "-v"] + present))
        for name in names:
            volume = "gonka-lab-%s-docker" % name
            if exists("volume", volume):
                docker("volume", "rm", "-f", volume)
        if not docker("ps", "-aq", "--filter", "label=%s" % LABEL, "--filter", "ancestor=%s" % HOST_IMAGE).stdout.split():
            log("no lab host left: removing the lab's servers and networks too")
            _down(keep_images=True)


def down(keep_images=False):
    with locked():
        _down(keep_images)


def _drop_test_rules():
    """Remove the controller's iptables rules that a lab test added and could not remove itself (a run
    killed in the middle of verify-midplay leaves ml2 cut off from this machine for the next lab)."""
    try:
        listing = subprocess.run(["iptables", "-S"], check=False, text=True, capture_output=True)
    except OSError:         # no iptables: no rule of ours either
        return
    for rule in listing.stdout.splitlines():
        if rule.startswith("-A ") and '--comment "gonka-lab' in rule:
            log("removing a test's firewall rule left behind: %s" % rule)
            subprocess.run(["iptables", "-D"] + shlex.split(rule)[1:], check=False)


def _down(keep_images):
    _drop_test_rules()
    # the ACME CA and DNS server of verify-acme.yml, should a killed test have left them running
    subprocess.run(["bash", os.path.join(ROOT, "lab", "acme.sh"), "stop"], check=False,
                   env=dict(os.environ, LAB_STATE=STATE))
    containers = docker("ps", "-aq", "--filter", "label=%s" % LABEL).stdout.split()
    if containers:
        log("removing %d host containers" % len(containers))
        docker(*(["rm", "-f", "-v"] + containers))
    for volume in docker("volume", "ls", "-q", "--filter", "name=gonka-lab-").stdout.split():
        docker("volume", "rm", "-f", volume)
    for name, _subnet in NETWORKS.values():
        if exists("network", name):
            docker("network", "rm", name)
    shutil.rmtree(STATE, ignore_errors=True)
    if keep_images:
        log("removed the hosts; kept the images")
        return
    for _attempt in range(3):       # a parent (nginx) goes only once its child (proxy) is gone
        images_made = docker("images", "-q", "--filter", "label=%s" % LABEL).stdout.split()
        if not images_made:
            break
        docker(*(["rmi", "-f"] + sorted(set(images_made))), check=False)
    if exists("image", BASE_IMAGE):
        docker("rmi", "-f", BASE_IMAGE, check=False)
    log("removed the lab (the debootstrap and image archive caches stay in %s)" % CACHE)


def main(argv=None):
    parser = argparse.ArgumentParser(description="The gonka.fleet lab")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("up", "status"):
        sub.add_parser(command).add_argument("--inventory", default=os.path.join(ROOT, "inventories/lab/hosts.yml"))
    sub.add_parser("images")
    sub.add_parser("check-images")
    down_parser = sub.add_parser("down")
    down_parser.add_argument("--keep-images", action="store_true", help="keep the base, host and stand-in images")
    down_parser.add_argument("--inventory", help="remove only this inventory's hosts (molecule's destroy)")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(args.inventory)
    elif args.command == "status":
        status(args.inventory)
    elif args.command == "images":
        images()
    elif args.command == "check-images":
        check_images()
    elif args.inventory:
        down_hosts(args.inventory)
    else:
        down(args.keep_images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
