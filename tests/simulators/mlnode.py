# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the ML node container (``mlnode``), the lab's ghcr.io/product-science/mlnode image.

It answers the routes the network node's api and the operator use (docs/conformance.md R10.7,
"ML node"), on the ports the real container listens on behind the ``inference`` nginx:

* 8080, management: GET /api/v1/state -> {"state": STOPPED|INFERENCE|POW|TRAIN};
  POST /api/v1/inference/up {model, dtype, additional_args}; POST /api/v1/inference/down;
  POST /api/v1/stop; GET /api/v1/pow/status; GET /api/v1/gpu/devices; GET /health.
* 5000, inference (OpenAI style): GET /v1/models, GET /health.

With HF_HUB_OFFLINE the real ML node can only start a model whose weights are in the HF
cache mounted at $HF_HOME: the stand-in scans $HF_HOME/hub/models--ORG--NAME/snapshots/*
and refuses to start any other model (409, like a vLLM start that fails). /v1/models lists
the models found in the cache. Nothing here uses a GPU.

The image's ``uvicorn`` command runs this file, so the compose file's
``command: uvicorn api.app:app --host=0.0.0.0 --port=8080`` stays what production runs.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

try:  # a module of the test suite, or a script next to jsonhttp.py in a stand-in image
    from .jsonhttp import JSONHandler
except ImportError:
    from jsonhttp import JSONHandler


def cached_models(hf_home):
    """Model ids with at least one non-empty snapshot in the HF hub cache."""
    hub = os.path.join(hf_home, "hub")
    found = []
    try:
        entries = sorted(os.listdir(hub))
    except OSError:
        return found
    for entry in entries:
        if not entry.startswith("models--"):
            continue
        snapshots = os.path.join(hub, entry, "snapshots")
        try:
            revisions = os.listdir(snapshots)
        except OSError:
            continue
        if any(os.listdir(os.path.join(snapshots, rev)) for rev in revisions):
            found.append(entry[len("models--"):].replace("--", "/", 1))
    return found


class MLNode:
    def __init__(self, hf_home):
        self.hf_home = hf_home
        self.lock = threading.Lock()
        self.state = "STOPPED"
        self.model = None
        self.args = []
        self.requests = []

    def inference_up(self, body):
        model = (body or {}).get("model")
        if model not in cached_models(self.hf_home):
            return 409, {"detail": "model %s is not in the HF cache at %s (HF_HUB_OFFLINE)" % (model, self.hf_home)}
        with self.lock:
            self.state, self.model = "INFERENCE", model
            self.args = list((body or {}).get("additional_args") or [])
        return 200, {"status": "OK"}

    def stop(self):
        with self.lock:
            self.state, self.model, self.args = "STOPPED", None, []
        return 200, {"status": "OK"}


class _Handler(JSONHandler):
    def _body(self):
        try:
            return json.loads(self.read_body() or b"null")
        except ValueError:
            return None

    def _handle(self, method):
        path = urlsplit(self.path).path
        node = self.server.mlnode
        node.requests.append((self.server.role, method, path))
        status, body = self.route(node, method, path)
        self.send_json(status, body)

    def do_GET(self):  # noqa: N802
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")


class ManagementHandler(_Handler):
    def route(self, node, method, path):
        if method == "GET" and path == "/api/v1/state":
            return 200, {"state": node.state, "loaded_model": node.model}
        if method == "POST" and path == "/api/v1/inference/up":
            return node.inference_up(self._body())
        if method == "POST" and path in ("/api/v1/inference/down", "/api/v1/stop"):
            return node.stop()
        if method == "GET" and path == "/api/v1/pow/status":
            return 200, {"status": "IDLE"}
        if method == "GET" and path == "/api/v1/gpu/devices":
            return 200, {"devices": [], "count": 0}
        if method == "GET" and path == "/health":
            return 200, {"status": "healthy", "service_state": node.state}
        return 404, {"detail": "Not Found"}


class InferenceHandler(_Handler):
    def route(self, node, method, path):
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list",
                         "data": [{"id": m, "object": "model", "owned_by": "stand-in"}
                                  for m in cached_models(node.hf_home)]}
        if method == "GET" and path == "/health":
            return 200, {"status": "healthy"}
        return 404, {"detail": "Not Found"}


def serve(node, host, management_port, inference_port):
    """Start both servers in daemon threads; returns them."""
    servers = []
    for role, port, handler in (("management", management_port, ManagementHandler),
                                ("inference", inference_port, InferenceHandler)):
        server = ThreadingHTTPServer((host, port), handler)
        server.daemon_threads = True
        server.mlnode, server.role = node, role
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
    return servers


def main(argv=None):
    parser = argparse.ArgumentParser(description="ML node stand-in (management API and inference API)")
    # accepts uvicorn's command line: `uvicorn api.app:app --host=0.0.0.0 --port=8080`
    parser.add_argument("app", nargs="?", default="api.app:app")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080, help="management port")
    parser.add_argument("--inference-port", type=int, default=5000)
    args = parser.parse_args(argv)
    node = MLNode(os.environ.get("HF_HOME", os.path.expanduser("~/.cache")))
    serve(node, args.host, args.port, args.inference_port)
    print("mlnode stand-in: management %s:%d, inference %s:%d, HF cache %s"
          % (args.host, args.port, args.host, args.inference_port, node.hf_home), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
