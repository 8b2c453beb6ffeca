# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hugging Face cache of one model repository, as gonka.fleet.hf_model sees it.

The cache layout is huggingface_hub's (``<cache>/models--org--name/{blobs,snapshots,refs}``):
``snapshots/<commit>/<path>`` links to ``blobs/<etag>``. A file counts as present only when its
link resolves and the blob has the size the Hub lists (and, when asked, the sha256 of an LFS file
or the git blob id of another). Next to the layout this keeps one file of its own per commit,
``gonka-manifests/<commit>.json`` (path -> size, sha256, blob id), so a snapshot can be verified
later without the network, and ``gonka-progress.json`` while a download runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import json
import os
import re
import shutil
import threading
import time

COMMIT = re.compile(r"^[0-9a-f]{40}$")
MANIFESTS = "gonka-manifests"
PROGRESS = "gonka-progress.json"
_BLOCK = 4 * 1024 * 1024


def storage_folder(cache_dir, repo_id):
    return os.path.join(cache_dir, "models--%s" % repo_id.replace("/", "--"))


def blob_name(sha256, blob_id):
    """The name huggingface_hub gives a file under blobs/: the sha256 of an LFS file, else its git blob id."""
    return sha256 or blob_id


def select(paths, allow_patterns=None, ignore_patterns=None):
    """The paths kept by huggingface_hub's allow/ignore pattern rules (fnmatch; a pattern ending with
    "/" means everything under that folder)."""
    def expand(patterns):
        return [pattern + "*" if pattern.endswith("/") else pattern for pattern in patterns or []]
    allow, ignore = expand(allow_patterns), expand(ignore_patterns)
    return sorted(path for path in paths
                  if (not allow or any(fnmatch.fnmatch(path, pattern) for pattern in allow))
                  and not any(fnmatch.fnmatch(path, pattern) for pattern in ignore))


def _digest(path, algorithm, prefix=b""):
    digest = hashlib.new(algorithm)
    digest.update(prefix)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def problem(storage, commit, path, expected, checksums):
    """Why ``path`` of ``commit`` is not usable, or None when it is."""
    link = os.path.join(storage, "snapshots", commit, path)
    if not os.path.exists(link):
        return "missing"
    size = os.path.getsize(link)
    if size != expected["size"]:
        return "size %d, expected %d" % (size, expected["size"])
    if checksums:
        if expected.get("sha256"):
            if _digest(link, "sha256") != expected["sha256"]:
                return "sha256 differs"
        elif expected.get("blob_id") and _digest(link, "sha1", b"blob %d\0" % size) != expected["blob_id"]:
            return "git blob id differs"
    return None


def problems(storage, commit, manifest, checksums):
    """{path: reason} of every file of ``manifest`` that is not usable."""
    found = {}
    for path, expected in sorted(manifest.items()):
        reason = problem(storage, commit, path, expected, checksums)
        if reason:
            found[path] = reason
    return found


def discard(storage, commit, path):
    """Remove the link of ``path`` and the blob it points to, so that a download fetches it again."""
    link = os.path.join(storage, "snapshots", commit, path)
    target = os.path.realpath(link)
    blobs = os.path.realpath(os.path.join(storage, "blobs"))
    if os.path.islink(link) or os.path.exists(link):
        os.remove(link)
    if target.startswith(blobs + os.sep) and os.path.exists(target):
        os.remove(target)


def remove_incomplete(storage, keep_resumable=False):
    """Remove what an interrupted download left (``*.incomplete`` blobs); returns their bytes. With
    ``keep_resumable``, ``<etag>.incomplete`` files (gonka.fleet's copier resumes them) stay and only
    huggingface_hub's process-unique ``<etag>.<id>.incomplete`` files go."""
    removed = 0
    blobs = os.path.join(storage, "blobs")
    for name in os.listdir(blobs) if os.path.isdir(blobs) else []:
        if name.endswith(".incomplete") and not (keep_resumable and name.count(".") == 1):
            path = os.path.join(blobs, name)
            removed += os.path.getsize(path)
            os.remove(path)
    return removed


def read_manifest(storage, commit):
    path = os.path.join(storage, MANIFESTS, "%s.json" % commit)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def write_manifest(storage, commit, manifest):
    directory = os.path.join(storage, MANIFESTS)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    temporary = os.path.join(directory, ".%s.json.tmp" % commit)
    with open(temporary, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    os.rename(temporary, os.path.join(directory, "%s.json" % commit))


def read_ref(storage, revision):
    if COMMIT.match(revision):
        return revision
    path = os.path.join(storage, "refs", revision)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip()


def write_ref(storage, revision, commit):
    """refs/<revision> -> commit, as huggingface_hub writes it: what an offline client (vLLM with
    HF_HUB_OFFLINE) reads to find the snapshot of a branch or tag."""
    if COMMIT.match(revision):
        return False
    path = os.path.join(storage, "refs", revision)
    if read_ref(storage, revision) == commit:
        return False
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write(commit)
    return True


def bytes_on_disk(storage):
    """Bytes of the blobs of a repository, finished or not."""
    total = 0
    blobs = os.path.join(storage, "blobs")
    for name in os.listdir(blobs) if os.path.isdir(blobs) else []:
        try:
            total += os.path.getsize(os.path.join(blobs, name))
        except OSError:
            pass
    return total


class Progress(object):
    """Writes ``gonka-progress.json`` every ``interval`` seconds while a download runs:
    done_bytes (bytes of the repository's blobs, finished or not, minus what was there before),
    total_bytes (what is being fetched), state (running, done, failed), the time, and the
    revision and commit being fetched (a host serving its copy in progress resolves the revision
    from it: ``refs/<revision>`` is written only once the snapshot is complete)."""

    def __init__(self, storage, total_bytes, interval=2.0, revision=None, commit=None):
        self.path = os.path.join(storage, PROGRESS)
        self.storage = storage
        self.total = total_bytes
        self.start = bytes_on_disk(storage)
        self.interval = interval
        self.revision = revision
        self.commit = commit
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.daemon = True

    def write(self, state):
        record = {"done_bytes": min(max(bytes_on_disk(self.storage) - self.start, 0), self.total),
                  "total_bytes": self.total, "state": state, "time": time.time(),
                  "revision": self.revision, "commit": self.commit}
        if state == "done":
            record["done_bytes"] = self.total
        temporary = self.path + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(record, handle)
        os.rename(temporary, self.path)

    def _run(self):
        while not self.stop.wait(self.interval):
            self.write("running")

    def __enter__(self):
        if not os.path.isdir(self.storage):
            os.makedirs(self.storage)
        self.write("running")
        self.thread.start()
        return self

    def __exit__(self, kind, value, traceback):
        self.stop.set()
        self.thread.join()
        self.write("failed" if kind else "done")
        return False


def remove_repository(storage):
    """Delete the repository's whole cache folder; returns the bytes it held."""
    if not os.path.isdir(storage):
        return 0
    removed = bytes_on_disk(storage)
    shutil.rmtree(storage)
    return removed
