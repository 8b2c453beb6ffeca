# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy the files of one commit from an HF_ENDPOINT (another host's hf_serve, or any server with the
Hub's ``resolve`` route and ``Range: bytes=N-``) straight into a Hugging Face cache.

What it does that huggingface_hub's snapshot_download does not:

* **Resume across processes.** A file's bytes go to ``blobs/<etag>.incomplete`` and stay there
  when the transfer is interrupted (huggingface_hub 2.x writes a process-unique temporary file and
  starts every file from zero). The next transfer hashes the bytes already there (read once) and
  asks for the rest with ``Range: bytes=N-``.
* **Verified while written.** The size and the sha256 (LFS files) or git blob id (others) are
  computed over the bytes as they are written, never by reading the file again; a file whose
  digest differs is removed and fetched once more from zero (the resumed prefix may have been
  the bad part), then the error names it.
* **Large buffers.** Each file is one stream read with ``readinto`` into an 8 MiB buffer and
  written from it, ``workers`` files at once; the serving side (hf_serve) answers with sendfile.

The cache layout is huggingface_hub's: ``snapshots/<commit>/<path>`` is a relative link to
``blobs/<etag>``; a blob another commit already holds is linked, not fetched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import threading
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import quote, urljoin, urlsplit
from ansible.module_utils.urls import open_url
from ansible_collections.gonka.fleet.plugins.module_utils import hf_cache

BUFFER = 8 * 1024 * 1024
READ_TIMEOUT = 600          # a peer may hold a request while its own copy of the file grows
ATTEMPTS = 3                # tries in a row that bring no byte before a file is given up


class TransferError(Exception):
    """A file could not be fetched or did not verify; the message names it."""


def etag(entry):
    """The blob name of a manifest entry (hf_cache.blob_name)."""
    return hf_cache.blob_name(entry.get("sha256"), entry["blob_id"])


def _hasher(entry):
    if entry.get("sha256"):
        return hashlib.sha256(), entry["sha256"]
    if entry.get("blob_id"):
        digest = hashlib.sha1()  # nosec - git's object id, not a security hash
        digest.update(b"blob %d\0" % entry["size"])
        return digest, entry["blob_id"]
    return None, None


def _hash_prefix(path, digest, buffer):
    """Feed the bytes already in ``path`` to ``digest``; returns how many there were."""
    done = 0
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                return done
            if digest is not None:
                digest.update(view[:count])
            done += count


def link(storage, commit, path, blob):
    """snapshots/<commit>/<path> -> ../../blobs/<blob> (relative, as huggingface_hub links)."""
    destination = os.path.join(storage, "snapshots", commit, path)
    folder = os.path.dirname(destination)
    try:
        os.makedirs(folder)
    except OSError:                                    # there already (another worker made it)
        if not os.path.isdir(folder):
            raise
    target = os.path.relpath(os.path.join(storage, "blobs", blob), folder)
    if os.path.islink(destination) or os.path.exists(destination):
        if os.path.islink(destination) and os.readlink(destination) == target:
            return
        os.remove(destination)
    os.symlink(target, destination)


class Transfer(object):
    """Fetch ``manifest`` ({path: {size, sha256, blob_id}}) of ``repo_id``@``commit`` from
    ``endpoint`` into ``storage`` (``<cache>/models--org--name``)."""

    def __init__(self, endpoint, repo_id, commit, storage, token=None, workers=8, verify=True):
        self.endpoint = endpoint.rstrip("/")
        self.repo_id = repo_id
        self.commit = commit
        self.storage = storage
        self.headers = {"Authorization": "Bearer %s" % token} if token else {}
        self.workers = max(1, workers)
        self.verify = verify
        self.lock = threading.Lock()
        self.fetched = 0        # bytes received by this transfer
        self.resumed = 0        # bytes found on disk and not fetched again
        self.errors = {}

    def url(self, path):
        return "%s/%s/resolve/%s/%s" % (self.endpoint, self.repo_id, self.commit, quote(path))

    def run(self, manifest):
        """Fetch every file of ``manifest``, ``workers`` at once, in path order (the order a peer
        that serves its own growing copy fetches them too). Raises TransferError naming each
        file that failed."""
        blobs = os.path.join(self.storage, "blobs")
        if not os.path.isdir(blobs):
            os.makedirs(blobs)
        queue = sorted(manifest)
        queue.reverse()
        threads = [threading.Thread(target=self._worker, args=(queue, manifest)) for dummy in range(self.workers)]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise TransferError("; ".join("%s: %s" % item for item in sorted(self.errors.items())))
        return {"fetched_bytes": self.fetched, "resumed_bytes": self.resumed}

    def _worker(self, queue, manifest):
        buffer = bytearray(BUFFER)
        while True:
            with self.lock:
                if not queue:
                    return
                path = queue.pop()
            try:
                self.fetch(path, manifest[path], buffer)
            except Exception as exc:  # pylint: disable=broad-except  # reported per file
                with self.lock:
                    self.errors[path] = str(exc)

    def fetch(self, path, entry, buffer):
        blob = etag(entry)
        final = os.path.join(self.storage, "blobs", blob)
        if os.path.exists(final) and os.path.getsize(final) == entry["size"]:
            link(self.storage, self.commit, path, blob)   # shared with a commit already cached
            return
        partial = final + ".incomplete"
        for fresh in (False, True):
            if fresh and os.path.exists(partial):
                os.remove(partial)
            digest, expected = self._receive(path, entry, partial, buffer)
            if not self.verify or digest is None or digest.hexdigest() == expected:
                os.rename(partial, final)
                link(self.storage, self.commit, path, blob)
                return
        os.remove(partial)
        raise TransferError("digest differs from the manifest's %s (fetched twice)" % expected)

    def _receive(self, path, entry, partial, buffer):
        """Bring ``partial`` to the full size; returns (digest over all of it, expected digest)."""
        size = entry["size"]
        view = memoryview(buffer)
        digest, expected = _hasher(entry) if self.verify else (None, None)
        have = 0
        if os.path.exists(partial):
            # read once to hash what is there; without checksums only its size counts
            have = _hash_prefix(partial, digest, buffer) if digest is not None else os.path.getsize(partial)
        if have > size:
            os.remove(partial)
            have = 0
            digest, expected = _hasher(entry) if self.verify else (None, None)
        with self.lock:
            self.resumed += have
        idle = 0
        while have < size:
            headers = dict(self.headers)
            if have:
                headers["Range"] = "bytes=%d-" % have
            got, error = 0, None
            try:
                response = self.open(self.url(path), headers)
                if have and response.getcode() != 206:
                    have = 0                           # the server sent the whole file: start over
                    digest, expected = _hasher(entry) if self.verify else (None, None)
                with open(partial, "r+b" if have else "wb", buffering=0) as handle:
                    handle.seek(have)
                    while have < size:
                        count = response.readinto(view[:min(BUFFER, size - have)])
                        if not count:
                            break
                        written = 0
                        while written < count:
                            written += handle.write(view[written:count])
                        if digest is not None:
                            digest.update(view[:count])
                        have += count
                        got += count
                        with self.lock:
                            self.fetched += count
                    os.fsync(handle.fileno())
                response.close()
            except Exception as exc:  # pylint: disable=broad-except  # retried while bytes arrive
                error = exc
            idle = 0 if got else idle + 1
            if have < size and idle >= ATTEMPTS:
                raise TransferError("%d of %d bytes after %d tries that brought nothing (%s)"
                                    % (have, size, ATTEMPTS, error or "connection closed early"))
            if idle:
                time.sleep(2 * idle)
        return digest, expected

    def open(self, url, headers):
        """GET ``url``, following redirects; the token goes to the endpoint's host only (the Hub sends
        LFS files from a CDN with a signed URL, which takes no other credentials)."""
        for dummy in range(5):
            try:
                return open_url(url, headers=headers, timeout=READ_TIMEOUT, follow_redirects="none",
                                http_agent="gonka.fleet")
            except HTTPError as exc:
                location = exc.headers.get("Location") if exc.code in (301, 302, 303, 307, 308) else None
                if not location:
                    raise
                url = urljoin(url, location)
                if urlsplit(url).netloc != urlsplit(self.endpoint).netloc:
                    headers = dict((name, value) for name, value in headers.items() if name != "Authorization")
        raise TransferError("more than 5 redirects from %s" % url)
