# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The download routes of the Hugging Face Hub, served from files: what huggingface_hub's
snapshot_download needs from an HF_ENDPOINT.

* GET /api/models/{repo}/revision/{rev}: ``{"id", "sha", "siblings": [{"rfilename"}]}``; unknown
  revision 404 ``X-Error-Code: RevisionNotFound``, unknown repository 401 ``X-Error-Code: RepoNotFound``.
* GET /api/models/{repo}/tree/{rev}: ``[{"type": "file", "path", "size", "oid", "lfs": {...}}]``.
* HEAD/GET /{repo}/resolve/{rev}/{path}: ``X-Repo-Commit``, ``ETag`` (git blob id), for LFS files
  ``X-Linked-Etag`` (sha256) and ``X-Linked-Size``; ``Range: bytes=N-`` answered with 206.

``RepoSource`` says where the files are. ``CacheSource`` serves a host's own Hugging Face cache
(what gonka.fleet.hf_model verified and described in its manifests; the layout is hf_cache's):
``run`` serves it until POST /_gonka/stop or a timeout - the module gonka.fleet.hf_serve, which
the peer mode of the model_cache role runs on each source host for the others to download from.

Bodies go out with sendfile. A host that is itself still copying a repository serves it too
(the model_cache role's fan-out tree): its manifest is written before its download starts, and a
file not finished yet is sent from its ``blobs/<etag>.incomplete`` as it grows, while the host's
``gonka-progress.json`` says the download is running (the client verifies every byte anyway).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import threading
import time

from ansible_collections.gonka.fleet.plugins.module_utils import hf_cache

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote, urlsplit
except ImportError:  # Python 2 targets never run it (sanity imports only)
    BaseHTTPRequestHandler = object
    ThreadingHTTPServer = None

CHUNK = 1024 * 1024
GROWTH_WAIT = 540           # seconds a growing file may stand still before the request is dropped
LIVE_PROGRESS = 30          # a progress record older than this: the copy is not running
_INFO = re.compile(r"^/api/models/(.+)/revision/([^/]+)$")
_TREE = re.compile(r"^/api/models/(.+)/tree/([^/]+)(/.*)?$")
_RESOLVE = re.compile(r"^/(.+)/resolve/([^/]+)/(.+)$")


class RepoSource(object):
    """Where repositories come from. ``files`` returns (commit, {path: entry}) or raises KeyError
    (unknown repository) / LookupError (unknown revision); an entry has ``size``, ``oid`` (git blob
    id), ``sha256`` (LFS files, else None) and ``data`` (the file to send)."""

    def files(self, repo_id, revision):
        raise NotImplementedError

    def authorized(self, headers):  # pylint: disable=unused-argument
        return True

    def served(self, repo_id, sent, whole_file):
        """Called after each file body (``sent`` bytes; ``whole_file`` False for a partial or cut one)."""

    def open(self, entry):
        """(file object with the entry's bytes, None) - or, for a file still being written, (its
        partial file, a callable that says whether the writer is still at work)."""
        return open(entry["data"], "rb"), None


class CacheSource(RepoSource):
    """A Hugging Face cache (``<hf_home>/hub``) with gonka.fleet.hf_model's manifests."""

    def __init__(self, hub_cache):
        self.hub_cache = hub_cache
        self.lock = threading.Lock()
        self.bytes_served = 0

    def files(self, repo_id, revision):
        storage = hf_cache.storage_folder(self.hub_cache, repo_id)
        if not os.path.isdir(storage):
            raise KeyError(repo_id)
        copy = self.copying(storage)
        if copy and copy.get("revision") == revision and not hf_cache.COMMIT.match(revision):
            commit = copy["commit"]                    # the ref moves once the copy is complete
        else:
            commit = hf_cache.read_ref(storage, revision)
        entries = hf_cache.read_manifest(storage, commit) if commit else None
        if entries is None:
            raise LookupError(revision)
        return commit, dict((path, {"size": entry["size"], "oid": entry.get("blob_id"), "sha256": entry.get("sha256"),
                                    "data": os.path.join(storage, "snapshots", commit, path), "storage": storage})
                            for path, entry in entries.items())

    @staticmethod
    def copying(storage):
        """The progress record of this host's own download of the repository while it runs (fresh), else None."""
        try:
            with open(os.path.join(storage, hf_cache.PROGRESS)) as handle:
                record = json.load(handle)
        except (OSError, IOError, ValueError):
            return None
        if record.get("state") == "running" and time.time() - record.get("time", 0) < LIVE_PROGRESS:
            return record
        return None

    def open(self, entry):
        deadline = time.time() + GROWTH_WAIT
        blob = os.path.join(entry["storage"], "blobs", hf_cache.blob_name(entry["sha256"], entry["oid"]))
        while True:
            if os.path.exists(entry["data"]):
                return open(entry["data"], "rb"), None
            # ours (hf_transfer) or huggingface_hub 2.x's process-unique name, the newest first
            partial = sorted(glob.glob(blob + ".incomplete") + glob.glob(blob + ".*.incomplete"),
                             key=lambda name: os.path.getmtime(name) if os.path.exists(name) else 0, reverse=True)
            for name in partial:
                try:
                    return open(name, "rb"), lambda: self.copying(entry["storage"]) is not None
                except (OSError, IOError):
                    pass                               # renamed or removed meanwhile
            if not self.copying(entry["storage"]) or time.time() > deadline:
                raise IOError("%s is not on this host and no copy of it is running" % entry["data"])
            time.sleep(0.2)

    def served(self, repo_id, sent, whole_file):
        with self.lock:
            self.bytes_served += sent


class HubRoutes(BaseHTTPRequestHandler):
    """The routes, over ``self.server.source`` (a RepoSource)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if getattr(self.server, "verbose", False):
            BaseHTTPRequestHandler.log_message(self, format, *args)

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _files(self, repo_id, revision):
        """(commit, entries), or None after answering the error the Hub gives."""
        source = self.server.source
        try:
            if not source.authorized(self.headers):
                raise KeyError(repo_id)
            return source.files(repo_id, unquote(revision))
        except KeyError:
            message = "Repository Not Found for url: %s" % self.path
            self.send_json(401, {"error": message}, {"X-Error-Code": "RepoNotFound", "X-Error-Message": message})
        except LookupError:
            message = "Invalid rev id: %s" % revision
            self.send_json(404, {"error": message}, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": message})
        return None

    def do_HEAD(self):  # noqa: N802
        self.resolve(head=True)

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        match = _INFO.match(path)
        if match:
            found = self._files(unquote(match.group(1)), match.group(2))
            if found:
                commit, entries = found
                self.send_json(200, {"id": unquote(match.group(1)), "sha": commit, "private": False,
                                     "siblings": [{"rfilename": name} for name in sorted(entries)]})
            return
        match = _TREE.match(path)
        if match:
            found = self._files(unquote(match.group(1)), match.group(2))
            if found:
                listing = []
                for name, entry in sorted(found[1].items()):
                    item = {"type": "file", "path": name, "size": entry["size"], "oid": entry["oid"]}
                    if entry.get("sha256"):
                        item["lfs"] = {"oid": entry["sha256"], "size": entry["size"], "pointerSize": 134}
                    listing.append(item)
                self.send_json(200, listing)
            return
        if path.startswith("/api/"):
            self.send_json(404, {"error": "Not Found"})
            return
        self.resolve(head=False)

    def cut_after(self):
        """Bytes after which the body is cut (a fault the Hub stand-in injects), or None."""
        return None

    def resolve(self, head):
        match = _RESOLVE.match(urlsplit(self.path).path)
        if not match:
            self.send_json(404, {"error": "Not Found"})
            return
        repo_id = unquote(match.group(1))
        found = self._files(repo_id, match.group(2))
        if not found:
            return
        commit, entries = found
        entry = entries.get(unquote(match.group(3)))
        if entry is None:
            self.send_json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
            return
        size = entry["size"]
        start = 0
        wanted = re.match(r"^bytes=(\d+)-$", self.headers.get("Range") or "")
        if wanted and not head:
            start = min(int(wanted.group(1)), size)
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", commit)
        self.send_header("ETag", '"%s"' % entry["oid"])
        if entry.get("sha256"):
            self.send_header("X-Linked-Etag", '"%s"' % entry["sha256"])
            self.send_header("X-Linked-Size", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(size - start))
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.end_headers()
        if head:
            return
        cut = self.cut_after()
        source = self.server.source
        try:
            data, writing = source.open(entry)
        except (OSError, IOError):
            self.close_connection = True               # headers are out: the client sees a short body
            return
        with data:
            if cut is not None:
                self.send_cut(repo_id, data, start, cut)
                return
            sent = self.send_body(data, start, size - start, writing)
        source.served(repo_id, sent, start == 0 and sent == size)
        if sent < size - start:
            self.close_connection = True

    def send_body(self, data, start, length, writing):
        """sendfile ``length`` bytes of ``data`` from ``start``; a growing file is followed while
        ``writing()`` holds, for at most GROWTH_WAIT seconds without a new byte."""
        sent, still = 0, time.time()
        while sent < length:
            available = os.fstat(data.fileno()).st_size - start - sent
            if available <= 0:
                if writing is None or not writing() or time.time() - still > GROWTH_WAIT:
                    break
                time.sleep(0.05)
                continue
            try:
                count = self.connection.sendfile(data, start + sent, min(available, length - sent))
            except (OSError, IOError):
                break                                  # the client went away
            if not count:
                break
            sent += count
            still = time.time()
        return sent

    def send_cut(self, repo_id, data, start, cut):
        """Send ``cut`` bytes and drop the connection (a fault the Hub stand-in injects)."""
        data.seek(start)
        sent = 0
        for block in iter(lambda: data.read(CHUNK), b""):
            block = block[:max(cut - sent, 0)]
            self.wfile.write(block)
            sent += len(block)
            if sent >= cut:
                break
        self.wfile.flush()
        if sent < cut:                                 # the file ended first: nothing was cut
            self.server.source.served(repo_id, sent, start == 0)
            return
        self.server.source.served(repo_id, sent, False)
        self.cut_done()
        self.close_connection = True

    def cut_done(self):
        """Called after a cut body, before the connection closes."""


class CacheServerHandler(HubRoutes):
    def do_POST(self):  # noqa: N802
        if urlsplit(self.path).path == "/_gonka/stop":
            self.send_json(200, {"stopping": True, "bytes_served": self.server.source.bytes_served})
            threading.Thread(target=self.server.shutdown).start()
            return
        self.send_json(404, {"error": "Not Found"})


def serve(source, handler=HubRoutes, host="127.0.0.1", port=0):
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.source = source
    return server


def run(hf_home, bind, port, timeout):
    """Serve ``<hf_home>/hub`` on bind:port until POST /_gonka/stop or ``timeout`` seconds:
    (bytes of file bodies served, "request" or "timeout")."""
    server = serve(CacheSource(os.path.join(hf_home, "hub")), CacheServerHandler, bind, port)
    timed_out = threading.Event()

    def expire():
        timed_out.set()
        server.shutdown()

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        server.server_close()
    return server.source.bytes_served, "timeout" if timed_out.is_set() else "request"
