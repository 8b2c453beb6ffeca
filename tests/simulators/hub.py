# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the Hugging Face Hub: the routes huggingface_hub's download path uses
(HF_ENDPOINT points at it), serving generated model repositories. The routes are the
collection's own (plugins/module_utils/hf_serve.py, which the model_cache role's peer mode runs
on each source host through the module gonka.fleet.hf_serve); this adds generated repositories, tokens, byte counts and faults.

What the routes reproduce (as huggingface_hub's HfApi.repo_info, list_repo_tree and
hf_hub_download call them; the Hub's own API):

* GET /api/models/{repo}/revision/{revision}: ``{"id", "sha", "siblings": [{"rfilename"}]}``; an
  unknown revision is 404 with ``X-Error-Code: RevisionNotFound``, an unknown repository 401 with
  ``X-Error-Code: RepoNotFound`` (what the Hub answers for a missing or private repo).
* GET /api/models/{repo}/tree/{revision}?recursive=true: ``[{"type": "file", "oid", "size", "path",
  "lfs": {"oid": sha256, "size", "pointerSize"}}]`` (lfs only for the large files), plus
  ``{"type": "directory"}`` entries; one page (the Hub pages by 1000 entries).
* HEAD and GET /{repo}/resolve/{revision}/{path}: ``X-Repo-Commit``, ``ETag`` (the git blob id), and for
  LFS files ``X-Linked-Etag`` (the sha256) and ``X-Linked-Size``; GET honours ``Range: bytes=N-``
  with 206. No Xet headers, so clients download over plain HTTP.
* A bearer token is required when the server is started with one (gated/private repos): 401 otherwise.

Test routes: GET /sim/stats (bytes and files served per repo; ``?client=ADDRESS``, repeatable: only
what those client addresses were served, for a fleet that shares the Hub with others), POST /sim/reset, POST /sim/faults
``{"cut_after_bytes": N}`` (the next file GET sends N bytes and drops the connection) or
``{"stall_after_bytes": N}`` (the next file GET sends N bytes, then holds the connection until
/sim/reset or 60 s - a download that can be killed midway); with ``"file": NAME`` only a GET of
that file takes the fault.

Repositories are generated (deterministic bytes from a seed) into a directory: each has two
commits, ``main`` (and the tag ``v2``) and an older one (tag ``v1``) whose config differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import threading
from urllib.parse import parse_qs, urlsplit

# in the lab too: the repository is mounted as ansible_collections/gonka/fleet on PYTHONPATH
from ansible_collections.gonka.fleet.plugins.module_utils import hf_serve

LFS_THRESHOLD = 1024 * 1024  # files above 1 MiB are LFS files here (the Hub: 10 MB, or binary)
CHUNK = 1024 * 1024


def git_blob_id(data_path):
    digest = hashlib.sha1()  # nosec - git's object id, not a security hash
    digest.update(b"blob %d\0" % os.path.getsize(data_path))
    with open(data_path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(data_path):
    digest = hashlib.sha256()
    with open(data_path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _commit_id(repo_id, number):
    return hashlib.sha1(("%s commit %d" % (repo_id, number)).encode()).hexdigest()  # nosec - an id


def generate(directory, repo_id, shards=2, shard_mb=8):
    """Write a model repository with two commits under ``directory``; returns its description."""
    root = os.path.join(directory, repo_id.replace("/", "--"))
    description_path = os.path.join(root, "repo.json")
    if os.path.exists(description_path):
        with open(description_path, encoding="utf-8") as handle:
            return json.load(handle)
    commits = {}
    for number in (1, 2):
        files = {
            "config.json": json.dumps({"architectures": ["Qwen3ForCausalLM"], "generated_by": "gonka.fleet hub stand-in",
                                       "commit": number}, indent=2).encode(),
            "generation_config.json": b'{"do_sample": true}\n',
            "tokenizer.json": json.dumps({"vocab": ["tok%d" % i for i in range(2000)]}).encode(),
        }
        for shard in range(1, shards + 1):
            # the weights are the same in both commits (as on the Hub: an LFS blob shared by commits)
            files["model-%05d-of-%05d.safetensors" % (shard, shards)] = ("weights", shard)
        commit = _commit_id(repo_id, number)
        entries = {}
        for name, content in sorted(files.items()):
            blob_dir = os.path.join(root, "data", commit)
            os.makedirs(blob_dir, exist_ok=True)
            path = os.path.join(blob_dir, name)
            with open(path, "wb") as handle:
                if isinstance(content, tuple):
                    rng = random.Random("%s/%s" % (repo_id, content[1]))
                    for _block in range(shard_mb):
                        handle.write(rng.randbytes(CHUNK))
                else:
                    handle.write(content)
            size = os.path.getsize(path)
            entry = {"path": name, "size": size, "oid": git_blob_id(path), "data": path}
            if size > LFS_THRESHOLD:
                entry["lfs"] = {"oid": sha256_of(path), "size": size, "pointerSize": 134}
            entries[name] = entry
        commits[commit] = entries
    description = {"id": repo_id, "commits": commits,
                   "refs": {"main": _commit_id(repo_id, 2), "v2": _commit_id(repo_id, 2), "v1": _commit_id(repo_id, 1)}}
    with open(description_path, "w", encoding="utf-8") as handle:
        json.dump(description, handle)
    return description


class Hub(hf_serve.RepoSource):
    """Generated repositories (``generate``), an optional bearer token, byte counts and faults."""

    def __init__(self, repos, token=None):
        self.repos = dict((repo["id"], repo) for repo in repos)
        self.token = token
        self.lock = threading.Lock()
        self.faults = {}
        self.release = threading.Event()
        self.client = threading.local()      # the address of the request each handler thread serves
        self.reset()

    def reset(self):
        self.release.set()
        self.release = threading.Event()
        with self.lock:
            self.bytes_served = {}
            self.files_served = {}
            self.by_client = {}                # client address -> {"bytes_served": {}, "files_served": {}}
            self.requests = []

    def authorized(self, headers):
        return not self.token or headers.get("Authorization") == "Bearer %s" % self.token

    def files(self, repo_id, revision):
        repo = self.repos[repo_id]
        commit = revision if revision in repo["commits"] else repo["refs"].get(revision)
        if commit is None:
            raise LookupError(revision)
        return commit, dict((path, {"size": entry["size"], "oid": entry["oid"],
                                    "sha256": (entry.get("lfs") or {}).get("oid"), "data": entry["data"]})
                            for path, entry in repo["commits"][commit].items())

    def served(self, repo_id, sent, whole_file):
        address = getattr(self.client, "address", None)
        with self.lock:
            client = self.by_client.setdefault(address, {"bytes_served": {}, "files_served": {}})
            for bytes_served, files_served in ((self.bytes_served, self.files_served),
                                               (client["bytes_served"], client["files_served"])):
                bytes_served[repo_id] = bytes_served.get(repo_id, 0) + sent
                if whole_file:
                    files_served[repo_id] = files_served.get(repo_id, 0) + 1

    def stats(self, clients):
        """bytes_served and files_served per repo: in all, or to the given client addresses only."""
        with self.lock:
            if not clients:
                return {"bytes_served": dict(self.bytes_served), "files_served": dict(self.files_served),
                        "requests": list(self.requests)}
            result = {"bytes_served": {}, "files_served": {}}
            for address in clients:
                for key, counts in self.by_client.get(address, {}).items():
                    for repo_id, count in counts.items():
                        result[key][repo_id] = result[key].get(repo_id, 0) + count
            return result


class HubHandler(hf_serve.HubRoutes):
    def _record(self):
        hub = self.server.source
        with hub.lock:
            hub.requests.append([self.command, urlsplit(self.path).path])

    def do_HEAD(self):  # noqa: N802
        self._record()
        hf_serve.HubRoutes.do_HEAD(self)

    def do_GET(self):  # noqa: N802
        hub = self.server.source
        url = urlsplit(self.path)
        if url.path == "/sim/stats":
            return self.send_json(200, hub.stats(parse_qs(url.query).get("client", [])))
        self._record()
        hub.client.address = self.client_address[0]
        return hf_serve.HubRoutes.do_GET(self)

    def do_POST(self):  # noqa: N802
        hub = self.server.source
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path == "/sim/reset":
            hub.reset()
            return self.send_json(200, {"reset": True})
        if path == "/sim/faults":
            with hub.lock:
                hub.faults = json.loads(body or b"{}")
            return self.send_json(200, hub.faults)
        return self.send_json(404, {"error": "Not Found"})

    def cut_after(self):
        hub = self.server.source
        with hub.lock:
            if hub.faults.get("file") and not urlsplit(self.path).path.endswith("/" + hub.faults["file"]):
                self._release = None
                return None
            cut = hub.faults.pop("cut_after_bytes", None)
            stall = hub.faults.pop("stall_after_bytes", None)
            self._release = hub.release if stall is not None else None
        return stall if stall is not None else cut

    def cut_done(self):
        if self._release is not None:
            self._release.wait(60)


def serve(port, repos, host="127.0.0.1", token=None):
    server = hf_serve.serve(Hub(repos, token), HubHandler, host, port)
    server.hub = server.source
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description="Hugging Face Hub stand-in")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SIM_HUB_PORT", "8090")))
    parser.add_argument("--host", default="0.0.0.0")  # nosec - a container's own port
    parser.add_argument("--dir", default=os.environ.get("SIM_HUB_DIR", "/srv/hub"))
    parser.add_argument("--repo", action="append", default=None)
    parser.add_argument("--shards", type=int, default=int(os.environ.get("SIM_HUB_SHARDS", "2")))
    parser.add_argument("--shard-mb", type=int, default=int(os.environ.get("SIM_HUB_SHARD_MB", "8")))
    parser.add_argument("--token", default=os.environ.get("SIM_HUB_TOKEN") or None)
    args = parser.parse_args(argv)
    repos = [generate(args.dir, repo_id, args.shards, args.shard_mb)
             for repo_id in (args.repo or os.environ.get("SIM_HUB_REPOS", "Qwen/Qwen3-32B-FP8").split(","))]
    server = serve(args.port, repos, args.host, args.token)
    print("hub stand-in on :%d serving %s" % (server.server_address[1], ", ".join(r["id"] for r in repos)), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
