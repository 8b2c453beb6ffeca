# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the Gonka network node's Admin API (decentralized-api, port 9200).

Reproduces the upstream behaviour cited in docs/conformance.md (R1, R2, R5, R7, R10), for the release the
reference deploy files come from (``--release launch``, Aug 2025) and for later
releases (``--release later``):

* GET  /admin/v1/nodes              -> 200, [{"node": {... "node_num"}, "state": {...}}]
* POST /admin/v1/nodes              -> 200 + node.  Every model must be a governance
  model: launch answers 500 {"error": "error creating new node"}; later answers
  400/500 naming the model (and drops non-governance models of a NEW node while at
  least one valid model remains).  launch: re-posting an existing id overwrites the
  live node and APPENDS a duplicate to the persisted list; later: upsert.
* POST /admin/v1/nodes/batch        -> launch: 201 + successes, failures skipped
  silently (``null`` when none succeeded); later: 201 / 206 {nodes, errors} / 400.
* DELETE /admin/v1/nodes/{id}       -> 200 ``true`` or ``false`` (unknown id).
* POST /admin/v1/nodes/{id}/enable|disable -> 200 message, 404 unknown id.
* PUT /admin/v1/nodes/{id}          -> later only (same handler as POST, id from body).
* Error bodies are always {"error": ...}; unknown routes are 404.

Restarts (docs/conformance.md R1.1-R1.5): on launch every start begins from the image's empty
node list (the real init script copies the image's api-config.yaml over the saved one), then
merges node-config.json (``--node-config``); a duplicate id there stops the start. Nodes added
through the Admin API are written to the persisted list (``--persist``) but a restart forgets
them. Later releases (R11) keep their store (``--persist`` stands for .dapi/gonka.db) across
restarts and merge node-config.json only at the first start. Admin state lives in memory:
every node starts enabled after a restart.

Statuses (R2.1-R2.5, R5.1, R5.2): a new node is UNKNOWN; poll_once() asks each ML node for its
state (GET {pocUrl}/api/v1/state) and skips a node that does not answer, so an unreachable node
keeps its last status (UNKNOWN when it was never reached); INFERENCE with a failing /health is
FAILED. Models are started only when an epoch begins (next_epoch()): then each node that should
be operational (ShouldBeOperational) gets the epoch's models and is asked to start its first
one; a node disabled during the previous epoch is stopped. A node disabled during an epoch
keeps serving until the epoch ends.

Routes under /sim/ are NOT part of the real API: they let tests read what the
simulator saw (request log, persisted list), advance the epoch and inject faults.

Run as a process:  admin_api.py --port 9200 --persist /data/nodes.json
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import re
import tempfile
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

try:  # a module of the test suite, or a script next to jsonhttp.py in a stand-in image
    from .jsonhttp import JSONHandler
except ImportError:
    from jsonhttp import JSONHandler

DEFAULT_GOVERNANCE_MODELS = (
    "Qwen/Qwen3-32B-FP8",
    "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
)
RELEASES = ("launch", "later")

# Field order and Go zero values of the node object (apiconfig.InferenceNodeConfig).
NODE_ZERO = {
    "id": "",
    "host": "",
    "inference_segment": "",
    "inference_port": 0,
    "poc_segment": "",
    "poc_port": 0,
    "models": {},
    "max_concurrent": 0,
    "hardware": None,
    "version": "",
}

_NODE_PATH = re.compile(r"^/admin/v1/nodes/([^/]+)$")
_ADMIN_PATH = re.compile(r"^/admin/v1/nodes/([^/]+)/(enable|disable)$")


class APIError(Exception):
    """An HTTP error answer: status and the value of the ``error`` key."""

    def __init__(self, status, error):
        super().__init__(error)
        self.status = status
        self.error = error


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _coerce_node(raw):
    """Decode a request body the way Go's json.Unmarshal fills the struct."""
    if not isinstance(raw, dict):
        raise APIError(400, "code=400, message=Unmarshal type error: expected=config.InferenceNodeConfig")
    node = copy.deepcopy(NODE_ZERO)
    for key in NODE_ZERO:
        if key in raw and raw[key] is not None:
            node[key] = copy.deepcopy(raw[key])
    for key in ("inference_port", "poc_port", "max_concurrent"):
        if not isinstance(node[key], int) or isinstance(node[key], bool):
            raise APIError(400, "code=400, message=Unmarshal type error: field=%s" % key)
    for key in ("id", "host", "inference_segment", "poc_segment", "version"):
        if not isinstance(node[key], str):
            raise APIError(400, "code=400, message=Unmarshal type error: field=%s" % key)
    if not isinstance(node["models"], dict):
        raise APIError(400, "code=400, message=Unmarshal type error: field=models")
    models = {}
    for name, spec in node["models"].items():
        spec = spec or {}
        args = spec.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise APIError(400, "code=400, message=Unmarshal type error: field=models.args")
        models[name] = dict(spec, args=list(args))
    node["models"] = models
    return node


class Simulator:
    """The api's node registry, its persisted list and the admin state of each node."""

    def __init__(self, governance_models=DEFAULT_GOVERNANCE_MODELS, release="launch",
                 persist_path=None, node_config_path=None, detected_hardware=None, epoch=1,
                 deferred_flush=False, launch_store_path=None):
        if release not in RELEASES:
            raise ValueError("release must be one of %s" % ", ".join(RELEASES))
        self.release = release
        self.governance_models = list(governance_models)
        self.persist_path = persist_path
        # later: the launch api's store (its yaml's node list) that a first start migrates (R11.5)
        self.launch_store_path = launch_store_path
        self.detected_hardware = detected_hardware
        self.epoch = epoch
        self.lock = threading.RLock()
        self.live = {}          # id -> node (insertion order = registration order)
        self.states = {}        # id -> state object
        self.persisted = []     # the api's own persisted node list
        self.requests = []      # (method, path) of every request served, /sim/ excluded
        self.faults = []        # injected faults, see inject()
        self.extras = {}        # GET /sim/<name> routes added by the api stand-in: path -> callable
        self._node_num = 0
        self.deferred_flush = deferred_flush
        self._dirty = False
        self._load(node_config_path)

    # ---- persistence --------------------------------------------------------------
    def _load(self, node_config_path):
        """A start. launch: the saved list is replaced by the image's empty one (R1.1, R1.2), then
        node-config.json is merged (R1.3), at every start. later: the nodes saved in gonka.db are
        read (R11.6); while the store does not say node-config.json was merged, the file's nodes
        replace them (R11.4); without gonka.db, a launch store is migrated instead (R11.5). A
        duplicate id in the file fails the start."""
        if (self.release == "later" and self.persist_path and not os.path.exists(self.persist_path)
                and self.launch_store_path and os.path.exists(self.launch_store_path)):
            # the first start after an upgrade from launch: the launch yaml (kept in .dapi from
            # 0.2.1, R11.10) is migrated once, its nodes upserted; it says node-config.json was
            # merged (the launch api merged it at its start, R1.3), so the file is skipped (R11.4,
            # R11.5). The store is written at the next flush.
            with open(self.launch_store_path, encoding="utf-8") as handle:
                for raw in json.load(handle) or []:
                    self._register(_coerce_node(raw))       # an upsert: a duplicate id counts once
            self.persisted = [copy.deepcopy(node) for node in self.live.values()]
            self._dirty = True
            if not self.deferred_flush:
                self._flush()
            return
        if self.release == "later" and self.persist_path and os.path.exists(self.persist_path):
            with open(self.persist_path, encoding="utf-8") as handle:
                saved = json.load(handle)
            for raw in saved.get("nodes") or []:
                self._register(_coerce_node(raw))
            self.persisted = [copy.deepcopy(node) for node in saved.get("nodes") or []]
            if saved.get("node_config_merged"):
                return
        entries = []
        if node_config_path:
            with open(node_config_path, encoding="utf-8") as handle:
                entries = json.load(handle) or []
        seen = set()
        nodes = []
        for raw in entries:
            node = _coerce_node(raw)
            if node["id"] in seen:
                raise ValueError("duplicate node ID found in config: %s" % node["id"])
            seen.add(node["id"])
            nodes.append(node)
        if self.release == "later":
            # the first flush, whatever changed, sets node_config_merged (R11.4, R11.7)
            self._dirty = True
            if node_config_path:
                self.live, self.states, self.persisted = {}, {}, []
            else:
                return
        for node in nodes:
            self._register(node)
            self.persisted.append(copy.deepcopy(node))
        if self.release == "launch" or not self.deferred_flush:
            self._flush()

    def _flush(self):
        """Write the store. later: gonka.db's nodes table is replaced and node_config_merged set,
        by every flush (R11.7)."""
        if not self.persist_path:
            return
        directory = os.path.dirname(os.path.abspath(self.persist_path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".nodes-")
        saved = self.persisted
        if self.release == "later":
            saved = {"node_config_merged": True, "nodes": self.persisted}
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(saved, handle, indent=1)
        os.replace(tmp, self.persist_path)
        self._dirty = False

    def flush_due(self):
        """later: the api's auto-flush (every 60 s in the real api, R11.7); what changed since the
        last flush is lost by a restart before it."""
        with self.lock:
            if self._dirty:
                self._flush()

    def _rewrite_persisted(self):
        """What the api does after a change: persist its live state (later, with deferred_flush: at
        the next flush_due())."""
        self.persisted = [copy.deepcopy(node) for node in self.live.values()]
        self._dirty = True
        if not (self.release == "later" and self.deferred_flush):
            self._flush()

    # ---- registry -----------------------------------------------------------------
    def _new_state(self):
        return {
            "intended_status": "UNKNOWN",
            "current_status": "UNKNOWN",
            "poc_intended_status": "IDLE",
            "poc_current_status": "IDLE",
            "lock_count": 0,
            "failure_reason": "",
            "status_timestamp": _now(),
            "admin_state": {"enabled": True, "epoch": self.epoch},
            "epoch_models": {},
            "epoch_ml_nodes": {},
        }

    def _register(self, node):
        if node["id"] in self.live:
            node_num = self.live[node["id"]]["node_num"]
        else:
            self._node_num += 1
            node_num = self._node_num
            self.states[node["id"]] = self._new_state()
        stored = copy.deepcopy(node)
        # launch stores the hardware as sent: none detected (R7.1); later releases detect it
        if not stored["hardware"] and self.detected_hardware and self.release == "later":
            stored["hardware"] = copy.deepcopy(self.detected_hardware)
        stored["node_num"] = node_num
        self.live[node["id"]] = stored
        return stored

    def _invalid_models(self, node):
        return [m for m in node["models"] if m not in self.governance_models]

    def _validate_later(self, node):
        problems = []
        if not node["id"]:
            problems.append("id is required")
        if not node["host"]:
            problems.append("host is required")
        for key in ("inference_port", "poc_port"):
            if not 1 <= node[key] <= 65535:
                problems.append("%s must be between 1 and 65535" % key)
        if node["max_concurrent"] <= 0:
            problems.append("max_concurrent must be greater than 0")
        if not node["models"]:
            problems.append("at least one model is required")
        for other in self.live.values():
            if other["id"] == node["id"] or other["host"] != node["host"]:
                continue
            for key in ("inference_port", "poc_port"):
                if other[key] == node[key]:
                    problems.append("%s %s:%d is already used by node %s"
                                    % (key, node["host"], node[key], other["id"]))
        return problems

    def create(self, raw, flush=True):
        """POST /admin/v1/nodes: returns the stored node or raises APIError."""
        node = _coerce_node(raw)
        with self.lock:
            if self.release == "launch":
                if self._invalid_models(node):
                    raise APIError(500, "error creating new node")
                stored = self._register(node)
                # launch bug: the persisted list is appended to, even for a known id
                self.persisted.append(copy.deepcopy(node))
                if flush:
                    self._flush()
                return copy.deepcopy(stored)
            problems = self._validate_later(node)
            if node["id"] in self.live:
                if problems:
                    raise APIError(500, "failed to update node: validation failed: %s" % "; ".join(problems))
                invalid = self._invalid_models(node)
                if invalid:
                    raise APIError(500, "failed to update node: model %s is not a valid governance model" % invalid[0])
            else:
                if problems:
                    raise APIError(400, "failed to create node: validation failed: %s" % "; ".join(problems))
                for model in self._invalid_models(node):
                    del node["models"][model]      # dropped with a warning in the api's log
                if not node["models"]:
                    raise APIError(400, "failed to create node: node %s has no governance-valid models" % node["id"])
            stored = self._register(node)
            if flush:
                self._rewrite_persisted()
            return copy.deepcopy(stored)

    def create_batch(self, raw_list):
        """POST /admin/v1/nodes/batch: (status, body)."""
        if not isinstance(raw_list, list):
            raise APIError(400, "code=400, message=Unmarshal type error: expected=[]config.InferenceNodeConfig")
        with self.lock:
            done, errors, seen = [], [], set()
            for index, raw in enumerate(raw_list):
                node_id = raw.get("id") if isinstance(raw, dict) else None
                try:
                    if self.release == "later" and (node_id in seen or node_id in self.live):
                        raise APIError(409, "node already exists")
                    done.append(self.create(raw, flush=False))
                except APIError as exc:
                    errors.append("node[%d] (id: %s): %s" % (index, node_id, exc.error))
                seen.add(node_id)
            if self.release == "launch":
                self._flush()
                return 201, (done or None)
            self._rewrite_persisted()
            if not errors:
                return 201, done
            if done:
                return 206, {"nodes": done, "errors": errors}
            raise APIError(400, {"error": "all nodes failed validation", "errors": errors})

    def delete(self, node_id):
        with self.lock:
            if node_id not in self.live:
                return False
            del self.live[node_id]
            del self.states[node_id]
            self._rewrite_persisted()
            return True

    def set_enabled(self, node_id, enabled):
        with self.lock:
            if node_id not in self.live:
                raise APIError(404, "node not found: %s" % node_id)
            # broker memory only: no release persists admin state (R1.4, R11.9)
            self.states[node_id]["admin_state"] = {"enabled": enabled, "epoch": self.epoch}
        return {"message": "node %s successfully" % ("enabled" if enabled else "disabled"), "node_id": node_id}

    def list(self):
        with self.lock:
            return [{"node": copy.deepcopy(node), "state": copy.deepcopy(self.states[node_id])}
                    for node_id, node in self.live.items()]

    def set_status(self, node_id, current_status, failure_reason=""):
        """Test hook: what the api would learn by polling the ML node."""
        with self.lock:
            state = self.states[node_id]
            state["current_status"] = current_status
            state["failure_reason"] = failure_reason
            state["status_timestamp"] = _now()

    # ---- what the api does with registered nodes -------------------------------------
    def poll_once(self, timeout=2.0):
        """One pass of the api's status worker (R2.1, R2.2): GET {pocUrl}/api/v1/state of each
        node; a node that does not answer is skipped (its status stays, UNKNOWN when it was
        never reached); INFERENCE whose {inferenceUrl}/health fails becomes FAILED."""
        with self.lock:
            nodes = [copy.deepcopy(n) for n in self.live.values()]
        for node in nodes:
            status = _probe(node, timeout)
            if status is None:
                continue
            with self.lock:
                if node["id"] in self.states and self.states[node["id"]]["current_status"] != status:
                    self.set_status(node["id"], status)

    def should_be_operational(self, node_id, phase="inference"):
        """broker.ShouldBeOperational (R5.1): an enabled node works from the epoch after it was
        enabled (in its own epoch only in the inference phase); a disabled node keeps working
        until the epoch in which it was disabled ends."""
        with self.lock:
            admin = self.states[node_id]["admin_state"]
        if admin["enabled"]:
            return self.epoch > admin["epoch"] or phase == "inference"
        return admin["epoch"] >= self.epoch

    def next_epoch(self, timeout=2.0):
        """A new epoch begins (the PoC validation of the last one ended, R2.3, R2.4, R5.2):
        operational nodes get the epoch's models (their registered ones) and are asked to start
        the first; the others are stopped and lose their epoch models."""
        with self.lock:
            self.epoch += 1
            nodes = [copy.deepcopy(n) for n in self.live.values()]
        for node in nodes:
            operational = node["id"] in self.states and self.should_be_operational(node["id"])
            with self.lock:
                if node["id"] not in self.states:
                    continue
                self.states[node["id"]]["epoch_models"] = (
                    {m: {"id": m} for m in node["models"]} if operational else {})
                self.states[node["id"]]["intended_status"] = "INFERENCE" if operational else "STOPPED"
            poc_url = node_urls(node)[0]
            try:
                if operational and node["models"]:
                    model, spec = next(iter(node["models"].items()))
                    _http_json("POST", poc_url + "/api/v1/inference/up", timeout,
                               {"model": model, "dtype": "auto", "additional_args": spec.get("args") or []})
                else:
                    _http_json("POST", poc_url + "/api/v1/stop", timeout, {})
            except (OSError, ValueError):
                continue        # unreachable: the next status poll tells
        self.poll_once(timeout)
        return self.epoch

    # ---- faults -------------------------------------------------------------------
    def inject(self, method="*", path="", status=None, error="injected fault", delay=0.0, count=1):
        """Answer the next ``count`` matching requests with ``status`` (after ``delay`` s)."""
        with self.lock:
            self.faults.append({"method": method, "path": path, "status": status,
                                "error": error, "delay": delay, "count": count})

    def take_fault(self, method, path):
        with self.lock:
            for fault in self.faults:
                if fault["method"] in ("*", method) and path.startswith(fault["path"]):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def count(self, method=None, path=None):
        with self.lock:
            return sum(1 for m, p in self.requests
                       if (method is None or m == method) and (path is None or p == path))


ML_STATES = {"STOPPED": "STOPPED", "INFERENCE": "INFERENCE", "POW": "POC", "TRAIN": "TRAINING"}


def node_urls(node):
    """(pocUrl, inferenceUrl) as the api builds them: http://HOST:PORT[/version]segment."""
    version = "/" + node["version"] if node.get("version") else ""
    poc = "http://%s:%d%s%s" % (node["host"], node["poc_port"], version, node.get("poc_segment") or "")
    inference = "http://%s:%d%s%s" % (node["host"], node["inference_port"], version,
                                      node.get("inference_segment") or "")
    return poc, inference


def _http_json(method, url, timeout, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _probe(node, timeout):
    """The status the api gives a node after asking it (R2.1, R2.2), or None when it does not answer."""
    poc_url, inference_url = node_urls(node)
    try:
        state = (_http_json("GET", poc_url + "/api/v1/state", timeout) or {}).get("state", "")
    except (OSError, ValueError):
        return None
    status = ML_STATES.get(state, "UNKNOWN")
    if status == "INFERENCE":
        try:
            _http_json("GET", inference_url + "/health", timeout)
        except (OSError, ValueError):
            return "FAILED"
    return status


class Handler(JSONHandler):
    server_version = "gonka-admin-api-sim/1"

    @property
    def sim(self):
        return self.server.sim

    def _send(self, status, body):
        self.send_json(status, body, "application/json; charset=UTF-8")

    def _body(self):
        raw = self.read_body()
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise APIError(400, "code=400, message=Syntax error: %s" % exc) from exc

    def _dispatch(self, method):
        path = urlsplit(self.path).path
        if path.startswith("/sim/"):
            return self._sim_route(method, path)
        self.sim.requests.append((method, path))
        fault = self.sim.take_fault(method, path)
        if fault:
            if fault["delay"]:
                threading.Event().wait(fault["delay"])  # not time.sleep: tests stub that out
            if fault["status"]:
                self._body()
                return self._send(fault["status"], {"error": fault["error"]})
        try:
            status, body = self._route(method, path)
        except APIError as exc:
            status, body = exc.status, {"error": exc.error}
        return self._send(status, body)

    def _route(self, method, path):
        sim = self.sim
        if path == "/admin/v1/nodes":
            if method == "GET":
                return 200, sim.list()
            if method == "POST":
                return 200, sim.create(self._body())
            raise APIError(405, "Method Not Allowed")
        if path == "/admin/v1/nodes/batch":
            if method == "POST":
                return sim.create_batch(self._body())
            raise APIError(405, "Method Not Allowed")
        match = _ADMIN_PATH.match(path)
        if match:
            if method != "POST":
                raise APIError(405, "Method Not Allowed")
            return 200, sim.set_enabled(unquote(match.group(1)), match.group(2) == "enable")
        match = _NODE_PATH.match(path)
        if match:
            if method == "DELETE":
                return 200, sim.delete(unquote(match.group(1)))
            if method == "PUT" and sim.release == "later":
                return 200, sim.create(self._body())
            raise APIError(405, "Method Not Allowed")
        raise APIError(404, "Not Found")

    def _sim_route(self, method, path):
        sim = self.sim
        if method == "GET" and path == "/sim/requests":
            return self._send(200, [{"method": m, "path": p} for m, p in sim.requests])
        if method == "GET" and path == "/sim/persisted":
            return self._send(200, sim.persisted)
        if method == "GET" and path in sim.extras:
            return self._send(200, sim.extras[path]())
        if method == "POST" and path == "/sim/epoch":
            return self._send(200, {"epoch": sim.next_epoch()})
        if method == "GET" and path == "/sim/faults":
            with sim.lock:
                return self._send(200, copy.deepcopy(sim.faults))
        if method == "POST" and path == "/sim/faults":
            sim.inject(**self._body())
            return self._send(200, {"faults": len(sim.faults)})
        return self._send(404, {"error": "Not Found"})

    def do_GET(self):  # noqa: N802 (http.server naming)
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")


class AdminAPIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, sim, verbose=False):
        super().__init__(address, Handler)
        self.sim = sim
        self.verbose = verbose

    @property
    def url(self):
        host, port = self.server_address[:2]
        return "http://%s:%d" % (host, port)


def serve_in_thread(sim, host="127.0.0.1", port=0):
    """Start a server on loopback in a daemon thread; returns it (call shutdown())."""
    server = AdminAPIServer((host, port), sim)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


def _hardware(value):
    hardware = []
    for item in value.split(","):
        kind, _sep, count = item.rpartition(":")
        hardware.append({"type": kind, "count": int(count)})
    return hardware


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--release", choices=RELEASES, default="launch")
    parser.add_argument("--governance-model", action="append", dest="governance_models",
                        help="a governance model id (repeat); default: the seed's two Qwen models")
    parser.add_argument("--persist", help="path of the persisted node list (JSON)")
    parser.add_argument("--node-config", help="node-config.json read at the first start only")
    parser.add_argument("--detected-hardware", type=_hardware,
                        help="hardware reported for nodes registered without it, e.g. 'NVIDIA H200:1'")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    sim = Simulator(governance_models=args.governance_models or DEFAULT_GOVERNANCE_MODELS,
                    release=args.release, persist_path=args.persist,
                    node_config_path=args.node_config, detected_hardware=args.detected_hardware)
    server = AdminAPIServer((args.listen, args.port), sim, verbose=args.verbose)
    print("admin API simulator (%s release) on %s" % (sim.release, server.url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
