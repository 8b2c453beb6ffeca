# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the network node's ``versiond`` container (release 0.2.14), the lab's
ghcr.io/product-science/versiond image. Each behaviour cites its row of docs/conformance.md.

* Start (R17.3): VERSIOND_ORACLE_URL is required; without it the process exits 1 with
  "VERSIOND_ORACLE_URL is required" (the container restarts, restart: always).
* It listens on :8080, hard-coded (R17.3): GET /healthz answers the status of the devshard
  versions it runs as a JSON list of {name, port, status} - none here (the lab's chain approves no
  devshard version), so ``[]``. Other paths are the real proxy's to the versions' binaries: 404.
* The oracle (R17.3): fetched once at the start and every VERSIOND_POLL_INTERVAL seconds
  (default 30); a failed fetch is logged and the versions kept, never fatal. The api's ML server
  answers GET /versions with ``{"versions": [...]}`` (R17.2).
* Test route: GET /sim/oracle - the last fetch: url, ok, versions or error, time, count.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

try:  # a module of the test suite, or a script next to its siblings in the stand-in image
    from .jsonhttp import JSONHandler
except ImportError:
    from jsonhttp import JSONHandler

LISTEN_PORT = 8080


class Oracle(object):
    """The last answer of the oracle URL (the api's /versions)."""

    def __init__(self, url):
        self.url = url
        self.lock = threading.Lock()
        self.last = {"url": url, "ok": False, "error": "not fetched yet", "count": 0}

    def fetch(self):
        try:
            with urllib.request.urlopen(self.url, timeout=10) as response:
                versions = json.loads(response.read().decode())["versions"]
            result = {"ok": True, "versions": versions}
        except (OSError, ValueError, KeyError, TypeError) as error:
            print("versiond stand-in: oracle fetch failed, keeping current versions: %s" % error, flush=True)
            result = {"ok": False, "error": str(error)}
        with self.lock:
            self.last = dict(result, url=self.url, time=time.time(), count=self.last["count"] + 1)
        return result


class VersiondHandler(JSONHandler):
    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/healthz":
            return self.send_json(200, [])
        if path == "/sim/oracle":
            with self.server.oracle.lock:
                return self.send_json(200, dict(self.server.oracle.last))
        return self.send_json(404, {"error": "no version serves %s" % path})


def main():
    url = os.environ.get("VERSIOND_ORACLE_URL", "")
    if not url:
        print("fatal: VERSIOND_ORACLE_URL is required", file=sys.stderr, flush=True)
        return 1
    interval = float(os.environ.get("VERSIOND_POLL_INTERVAL", "30").rstrip("s") or 30)
    server = ThreadingHTTPServer(("0.0.0.0", LISTEN_PORT), VersiondHandler)
    server.oracle = Oracle(url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("versiond stand-in: :%d, oracle %s every %ss" % (LISTEN_PORT, url, interval), flush=True)
    while True:
        server.oracle.fetch()
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
