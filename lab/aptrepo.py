# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's signed apt repository: stand-ins for Docker's and NVIDIA's vendor repositories.

Neither download.docker.com nor nvidia.github.io can be reached here, so the vendor-repository
paths of the docker and nvidia_runtime roles install from this repository instead. It has the
layouts of the real ones, so the roles' deb822 sources are the production ones with another URL:

    linux/debian/gpg                                   Docker's armored key (gonka_docker_vendor_key_url)
    linux/debian/dists/trixie/{Release,InRelease}      suite trixie, component stable, amd64
    linux/debian/pool/stable/*.deb                     docker-ce, docker-ce-cli, containerd.io,
                                                       docker-compose-plugin
    libnvidia-container/gpgkey                         NVIDIA's armored key
    libnvidia-container/stable/deb/amd64/              a flat repository ("Suites: /"):
                                                       nvidia-container-toolkit, nvidia-driver

The Docker packages carry Docker's names and a real engine: docker-ce and docker-ce-cli are
Debian trixie's docker.io and docker-cli (26.1.5) repackaged under those names, without Debian's
"Conflicts: docker-ce" (downloaded once by a trixie container, cached); containerd.io and
docker-compose-plugin depend on Debian's containerd/runc and docker-compose (the Compose v2 CLI
plugin). A host thus gets Docker Engine and Compose v2 under the vendor names, as from Docker's
repository. nvidia-container-toolkit ships stand-ins of nvidia-ctk and nvidia-container-runtime, and
nvidia-driver a stand-in nvidia-smi that answers from outputs captured on an NVIDIA H200 (see
lab/apt/). Indexes are signed (InRelease, Release.gpg) with a key made once and cached.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "lab", "apt")
GPU_FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "gpu", "h200-x1")
CACHE = os.path.join(ROOT, ".cache", "lab")
REPO = os.path.join(CACHE, "apt-repo")
GNUPGHOME = os.path.join(CACHE, "apt-gnupg")
KEY_UID = "gonka lab apt repository <lab-apt@gonka.invalid>"
ARCH = "amd64"
DEBIAN_DEBS = os.path.join(CACHE, "apt-debian")
DOCKER_VERSION = "5:26.1.5-1~debian.13~trixie"
# vendor name: Debian package it is made from
REPACKAGED = {"docker-ce": "docker.io", "docker-ce-cli": "docker-cli"}
# Debian's relations that name the vendor packages, dropped; its dependencies renamed to the vendor's
DROPPED_FIELDS = ("Conflicts", "Breaks", "Replaces", "Recommends", "Suggests")
RENAMED_DEPENDS = {"containerd": "containerd.io"}

# name: (version, depends, {path in the package: source file}, where)
PACKAGES = {
    "containerd.io": ("1.7.24-1~debian.13~trixie", "containerd, runc", {}, "docker"),
    "docker-compose-plugin": ("2.26.1-1~debian.13~trixie", "docker-compose", {}, "docker"),
    "nvidia-container-toolkit": ("1.17.8-1", "python3, runc", {
        "usr/bin/nvidia-ctk": os.path.join(SOURCES, "nvidia-ctk.py"),
        "usr/bin/nvidia-container-runtime": os.path.join(SOURCES, "nvidia-container-runtime")}, "nvidia"),
    "nvidia-driver": ("580.159.04-1", "python3", dict(
        [("usr/bin/nvidia-smi", os.path.join(SOURCES, "nvidia-smi.py"))] +
        [("usr/share/nvidia-smi-standin/%s" % name, os.path.join(GPU_FIXTURES, name))
         for name in ("nvidia-smi.txt", "query-gpu.csv", "nvidia-smi-q.xml")]), "nvidia"),
}
DOCKER_DIR = os.path.join("linux", "debian")
NVIDIA_DIR = os.path.join("libnvidia-container", "stable", "deb", ARCH)


def log(message):
    print("lab: %s" % message, flush=True)


def gpg(*args, **kwargs):
    return subprocess.run(["gpg", "--batch", "--quiet", "--homedir", GNUPGHOME] + list(args),
                          check=True, text=True, stdout=subprocess.PIPE, **kwargs).stdout


def signing_key():
    """The armored public key; the key pair is made once and kept in the cache."""
    if not os.path.isdir(GNUPGHOME) or not gpg("--list-secret-keys").strip():
        os.makedirs(GNUPGHOME, mode=0o700, exist_ok=True)
        log("making the lab apt repository's signing key")
        gpg("--passphrase", "", "--quick-gen-key", KEY_UID, "ed25519", "sign", "never")
    return gpg("--armor", "--export", KEY_UID)


def build_deb(name, version, depends, files, directory):
    with tempfile.TemporaryDirectory() as tree:
        os.makedirs(os.path.join(tree, "DEBIAN"))
        for target, source in files.items():
            os.makedirs(os.path.dirname(os.path.join(tree, target)), exist_ok=True)
            if source.endswith(".py"):          # a program: the interpreter of the target host
                with open(source, encoding="utf-8") as handle, \
                        open(os.path.join(tree, target), "w", encoding="utf-8") as out:
                    out.write("#!/usr/bin/python3\n" + handle.read())
            else:
                shutil.copy(source, os.path.join(tree, target))
            os.chmod(os.path.join(tree, target), 0o755 if target.startswith("usr/bin/") else 0o644)
        with open(os.path.join(tree, "DEBIAN", "control"), "w", encoding="utf-8") as handle:
            handle.write("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: gonka.fleet lab <lab@gonka.invalid>\n"
                         "Depends: %s\nSection: admin\nPriority: optional\n"
                         "Description: gonka.fleet lab stand-in for %s\n" % (name, version, ARCH, depends, name))
        path = os.path.join(directory, "%s_%s_%s.deb" % (name, version.split(":")[-1], ARCH))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, path],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def debian_debs(image):
    """Debian trixie's docker.io and docker-cli .debs, downloaded once by a container of ``image``."""
    wanted = sorted(REPACKAGED.values())

    def present():
        files = sorted(os.listdir(DEBIAN_DEBS)) if os.path.isdir(DEBIAN_DEBS) else []
        return dict((name, os.path.join(DEBIAN_DEBS, file_name))
                    for name in wanted for file_name in files if file_name.startswith(name + "_"))

    if len(present()) < len(wanted):
        log("downloading %s from Debian trixie" % ", ".join(wanted))
        os.makedirs(DEBIAN_DEBS, exist_ok=True)
        subprocess.run(["docker", "run", "--rm", "-v", "%s:/out" % DEBIAN_DEBS, "-w", "/out", image, "sh", "-c",
                        "apt-get update -qq && apt-get download -qq %s" % " ".join(wanted)], check=True)
    found = present()
    if len(found) < len(wanted):
        raise SystemExit("lab: could not download %s from Debian" % ", ".join(wanted))
    return found


def read_control(text):
    """[(field, value)] of a control file; continuation lines stay in their field's value."""
    fields = []
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + "\n" + line)
        elif ":" in line:
            key, value = line.split(":", 1)
            fields.append((key, value.strip()))
    return fields


def repackage(source, name, version, directory):
    """``source`` (a Debian .deb) as package ``name`` ``version``: same files and maintainer scripts,
    without the relations that name the vendor packages, its dependencies renamed to the vendor's."""
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run(["dpkg-deb", "--raw-extract", source, tree], check=True)
        control_path = os.path.join(tree, "DEBIAN", "control")
        with open(control_path, encoding="utf-8") as handle:
            fields = read_control(handle.read())
        control = []
        for key, value in fields:
            if key in DROPPED_FIELDS or key in ("Source", "Installed-Size", "Built-Using"):
                continue
            if key == "Package":
                value = name
            elif key == "Version":
                value = version
            elif key == "Depends":
                value = ", ".join(RENAMED_DEPENDS.get(item.split()[0], item.strip()) for item in value.split(","))
            control.append("%s: %s" % (key, value))
        with open(control_path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(control) + "\n")
        path = os.path.join(directory, "%s_%s_%s.deb" % (name, version.split(":")[-1], ARCH))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, path],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def packages_index(debs, relative_to):
    entries = []
    for path in debs:
        control = subprocess.run(["dpkg-deb", "--field", path], check=True, text=True,
                                 stdout=subprocess.PIPE).stdout.strip()
        with open(path, "rb") as handle:
            data = handle.read()
        entries.append("%s\nFilename: %s\nSize: %d\nMD5sum: %s\nSHA256: %s\n" % (
            control, os.path.relpath(path, relative_to), len(data), hashlib.md5(data).hexdigest(),
            hashlib.sha256(data).hexdigest()))
    return "\n".join(entries)


def write_release(directory, index_files, fields):
    lines = ["%s: %s" % pair for pair in fields] + [
        "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()), "SHA256:"]
    for name in index_files:
        with open(os.path.join(directory, name), "rb") as handle:
            data = handle.read()
        lines.append(" %s %d %s" % (hashlib.sha256(data).hexdigest(), len(data), name))
    release = os.path.join(directory, "Release")
    with open(release, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    gpg("--yes", "--local-user", KEY_UID, "--clearsign", "--output", os.path.join(directory, "InRelease"), release)
    gpg("--yes", "--local-user", KEY_UID, "--armor", "--detach-sign", "--output",
        os.path.join(directory, "Release.gpg"), release)


def write_index(directory, relative_name, text):
    path = os.path.join(directory, relative_name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    with gzip.open(path + ".gz", "wt", encoding="utf-8") as handle:
        handle.write(text)
    return [relative_name, relative_name + ".gz"]


def build(image):
    """(Re)build the repository under .cache/lab/apt-repo (``image``: a trixie image that can
    download Debian's packages); returns its path."""
    key = signing_key()
    sources = debian_debs(image)
    shutil.rmtree(REPO, ignore_errors=True)
    docker_root = os.path.join(REPO, DOCKER_DIR)
    pool = os.path.join(docker_root, "pool", "stable")
    nvidia = os.path.join(REPO, NVIDIA_DIR)
    for directory in (pool, nvidia):
        os.makedirs(directory)
    debs = {"docker": [], "nvidia": []}
    for name, (version, depends, files, where) in sorted(PACKAGES.items()):
        debs[where].append(build_deb(name, version, depends, files, pool if where == "docker" else nvidia))
    for name, debian_name in sorted(REPACKAGED.items()):
        debs["docker"].append(repackage(sources[debian_name], name, DOCKER_VERSION, pool))

    suite = os.path.join(docker_root, "dists", "trixie")
    index = write_index(suite, "stable/binary-%s/Packages" % ARCH, packages_index(debs["docker"], docker_root))
    write_release(suite, index, [("Origin", "Docker"), ("Label", "Docker CE (gonka lab stand-in)"),
                                 ("Suite", "trixie"), ("Codename", "trixie"), ("Architectures", ARCH),
                                 ("Components", "stable")])
    index = write_index(nvidia, "Packages", packages_index(debs["nvidia"], nvidia))
    write_release(nvidia, index, [("Origin", "https://nvidia.github.io/libnvidia-container (gonka lab stand-in)"),
                                  ("Label", "libnvidia-container"), ("Architectures", ARCH)])

    for path in (os.path.join(docker_root, "gpg"), os.path.join(REPO, "libnvidia-container", "gpgkey")):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(key)
    log("apt repository with %d stand-in packages in %s" % (len(PACKAGES) + len(REPACKAGED), REPO))
    return REPO


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "gonka-lab/trixie:base")
