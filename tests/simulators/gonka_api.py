# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the network node's ``api`` container (decentralized-api), the lab's
ghcr.io/product-science/api image. Each behaviour cites its row of docs/conformance.md.

Reads the environment variables the real container gets from the compose file and serves its
three ports:

* DAPI_API__ADMIN_SERVER_PORT (9200): the Admin API simulator (admin_api.py). Its node list is
  written under /root/.dapi. SIM_API_NODE_STORE=config (the default): like the real 0.2.0 api
  (R1.1-R1.3) every start begins from an empty list and merges NODE_CONFIG_PATH
  (node-config.json): nodes added through the Admin API alone are gone after a restart.
  SIM_API_NODE_STORE=database (0.2.9): the store survives restarts and node-config.json is
  merged at the first start only (R11.1-R11.2). Test routes: GET /sim/config (the environment received, secrets
  reduced to "set"), GET /sim/callbacks (what arrived on 9100), plus those of admin_api.py.
* DAPI_API__ML_SERVER_PORT (9100): accepts the ML nodes' PoC callbacks (any POST) and records them.
  SIM_API_DEVSHARD=true (releases with versiond, 0.2.14): it also answers GET /versions (the
  devshard versions, none) and DAPI_API__NODE_MANAGER_GRPC_PORT (default 9400) accepts connections
  (R17.2).
* DAPI_API__PUBLIC_SERVER_PORT (9000): /v1 routes only (R6.1): GET /v1/epochs/current/participants,
  GET /v1/governance/models (the chain's governance models, R8.1), and what a seed's API does for
  a joining host: POST /v1/participants (inferenced register-new-participant) and
  GET /v1/participants/{address} (200 {pubkey, balance}; 500 for an unknown address, R6.2).

Start (R3.1): with DAPI_CHAIN_NODE__URL set, nothing listens until the chain node's /status
answers with catching_up false; the governance models are then read from the chain (the node
stand-in's genesis). Without it (the lab's seed API) the servers start at once.

Statuses (R2.1): every SIM_POLL_INTERVAL seconds (default 5; the real api polls every 60 s)
it asks each registered ML node for its state. Epochs (R5.1, R2.3): one every SIM_EPOCH_SECONDS
(default 30; about 24 h on mainnet); at each, admin_api.Simulator.next_epoch starts the models of
the nodes that should be operational and stops the others. SIM_PARTICIPANT_DELAY (seconds, default
0) delays when a participant posted here is listed (the seed lists new accounts late, R4.2).
Store (R11.7): with SIM_API_NODE_STORE=database the node store is written every SIM_FLUSH_SECONDS
(default 60, as the real api), so a restart right after a change loses it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

try:  # a module of the test suite, or a script next to its siblings in the api stand-in image
    from . import admin_api, chain_node, inferenced
    from .jsonhttp import JSONHandler
except ImportError:
    import admin_api
    import chain_node
    import inferenced
    from jsonhttp import JSONHandler

SECRETS = ("KEYRING_PASSWORD",)
RECORDED = ("KEY_NAME", "ACCOUNT_PUBKEY", "KEYRING_BACKEND", "KEYRING_PASSWORD", "DAPI_API__POC_CALLBACK_URL",
            "DAPI_API__PUBLIC_URL", "DAPI_CHAIN_NODE__SEED_API_URL", "DAPI_CHAIN_NODE__URL",
            "DAPI_CHAIN_NODE__P2P_URL", "NODE_CONFIG_PATH", "DAPI_API__PUBLIC_SERVER_PORT",
            "DAPI_API__ML_SERVER_PORT", "DAPI_API__ADMIN_SERVER_PORT")


def received_config(environ):
    """The recorded environment; secrets only say whether they were set."""
    config = {}
    for key in RECORDED:
        if key in SECRETS:
            config[key] = "set" if environ.get(key) else "unset"
        elif key in environ:
            config[key] = environ[key]
    return config


class CallbackHandler(JSONHandler):
    """9100: the ML server the ML nodes send PoC results to."""

    def do_POST(self):  # noqa: N802
        raw = self.read_body()
        with self.server.lock:
            self.server.callbacks.append({"path": urlsplit(self.path).path, "from": self.client_address[0],
                                          "body": raw.decode("utf-8", "replace")})
        self.send_json(200, {"status": "OK"})

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/health":
            return self.send_json(200, {"status": "ok"})
        if path == "/versions" and getattr(self.server, "devshard", False):
            # the devshard versions the chain approves (R17.2): none on the lab's chain
            return self.send_json(200, {"versions": []})
        return self.send_json(404, {"error": "Not Found"})


def serve_node_manager(port, host="0.0.0.0"):
    """The NodeManager gRPC port versiond's children dial (R17.2): a TCP listener that accepts and
    closes (no gRPC here)."""
    return chain_node.serve_p2p(host=host, port=port)


class Participants(object):
    """Participants registered through this node's public API (it is the seed of another host),
    persisted like the chain would keep them; listed SIM_PARTICIPANT_DELAY seconds after the POST."""

    def __init__(self, path, delay=0.0):
        self.path = path
        self.delay = delay
        self.lock = threading.Lock()
        self.by_address = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.by_address = json.load(handle)

    def add(self, body):
        participant = {"address": inferenced.address_of(body["pub_key"]), "url": body["url"],
                       "pubkey": body["pub_key"], "validator_key": body.get("validator_key"), "status": "ACTIVE",
                       "listed_at": time.time() + self.delay}
        with self.lock:
            self.by_address[participant["address"]] = participant
            with open(self.path, "w", encoding="utf-8") as handle:
                json.dump(self.by_address, handle)
        return participant

    def get(self, address):
        found = self.by_address.get(address)
        if found and found.get("listed_at", 0) <= time.time():
            return found
        return None


class PublicHandler(JSONHandler):
    """9000: the public API behind the proxy: /v1 routes only (R6.1)."""

    def do_POST(self):  # noqa: N802
        if urlsplit(self.path).path == "/v1/participants":
            body = json.loads(self.read_body() or b"{}")
            if not body.get("url") or not body.get("pub_key"):
                return self.send_json(400, {"error": "url and pub_key are required"})
            return self.send_json(200, self.server.participants.add(body))
        return self.send_json(404, {"message": "Not Found"})

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        sim = self.server.sim
        if path.startswith("/v1/participants/"):
            found = self.server.participants.get(path.rsplit("/", 1)[1])
            if not found:    # the chain query fails: the handler returns the error, a 500 (R6.2)
                return self.send_json(500, {"error": "rpc error: code = NotFound desc = participant not found"})
            return self.send_json(200, {"pubkey": found["pubkey"], "balance": 0})
        if path == "/v1/governance/models":
            return self.send_json(200, {"models": [{"id": m} for m in sim.governance_models]})
        if path == "/v1/epochs/latest":     # the fields status reads (R13.3); no PoC phases, no height here
            return self.send_json(200, {"phase": "Inference",
                                        "latest_epoch": {"index": sim.epoch, "poc_start_block_height": 0}})
        if path == "/v1/epochs/current/participants":
            models = sorted(set(m for entry in sim.list() for m in entry["node"]["models"]))
            pubkey = os.environ.get("ACCOUNT_PUBKEY", "")   # the index is the account's address (R13.4)
            participant = {"index": inferenced.address_of(pubkey) if pubkey else "", "weight": len(sim.live),
                           "inference_url": os.environ.get("DAPI_API__PUBLIC_URL", ""), "models": models}
            participants = [participant] if sim.live else []
            return self.send_json(200, {"active_participants": {"participants": participants,
                                                                "epoch_group_id": sim.epoch}})
        return self.send_json(404, {"message": "Not Found"})


def wait_for_chain(url, interval=2.0):
    """R3.1: the real api serves nothing until its chain queries succeed (it exits and is restarted
    meanwhile). Returns the governance models of the chain (the node stand-in reads its genesis)."""
    while True:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/status", timeout=5) as response:
                sync = json.loads(response.read())["result"]["sync_info"]
            if not sync["catching_up"]:
                with urllib.request.urlopen(url.rstrip("/") + "/sim/governance-models", timeout=5) as response:
                    return json.loads(response.read())
            print("api stand-in: chain at height %s is catching up; not serving yet"
                  % sync["latest_block_height"], flush=True)
        except (OSError, ValueError, KeyError) as exc:
            print("api stand-in: chain queries fail (%s); not serving yet" % exc, flush=True)
        time.sleep(interval)


def serve(port, handler, host="0.0.0.0", **attributes):
    """Start ``handler`` on host:port in a daemon thread, with ``attributes`` set on the server."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    for key, value in attributes.items():
        setattr(server, key, value)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def main():
    env = os.environ
    state_dir = env.get("SIM_STATE_DIR", "/root/.dapi")
    os.makedirs(state_dir, exist_ok=True)
    governance = [m for m in env.get("SIM_GOVERNANCE_MODELS", "").split(",") if m]
    if env.get("DAPI_CHAIN_NODE__URL"):
        governance = wait_for_chain(env["DAPI_CHAIN_NODE__URL"]) or governance
    node_config = env.get("NODE_CONFIG_PATH")
    # the release catalog's api_node_store: config (launch) or database (later releases)
    release = "later" if env.get("SIM_API_NODE_STORE") == "database" else "launch"
    # launch: the yaml's node list, rewritten at each start (R1.1); later: gonka.db, kept (R11.1)
    store = "gonka.db" if release == "later" else "nodes.json"
    sim = admin_api.Simulator(governance_models=governance or list(admin_api.DEFAULT_GOVERNANCE_MODELS),
                              release=release, persist_path=os.path.join(state_dir, store),
                              deferred_flush=True, launch_store_path=os.path.join(state_dir, "nodes.json"),
                              node_config_path=node_config if node_config and os.path.exists(node_config) else None)
    # releases with versiond (0.2.14): /versions on the ML server, the NodeManager on 9400 unless set (R17.2)
    devshard = env.get("SIM_API_DEVSHARD") == "true"
    callbacks = serve(int(env.get("DAPI_API__ML_SERVER_PORT", "9100")), CallbackHandler,
                      callbacks=[], lock=threading.Lock(), devshard=devshard)
    if devshard:
        serve_node_manager(int(env.get("DAPI_API__NODE_MANAGER_GRPC_PORT") or "9400"))
    serve(int(env.get("DAPI_API__PUBLIC_SERVER_PORT", "9000")), PublicHandler, sim=sim,
          participants=Participants(os.path.join(state_dir, "participants.json"),
                                    float(env.get("SIM_PARTICIPANT_DELAY", "0"))))
    sim.extras["/sim/config"] = lambda: received_config(env)
    sim.extras["/sim/callbacks"] = lambda: list(callbacks.callbacks)
    admin = admin_api.AdminAPIServer(("0.0.0.0", int(env.get("DAPI_API__ADMIN_SERVER_PORT", "9200"))), sim)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    print("api stand-in: admin :%s, ml :%s, public :%s, %d nodes from node-config.json" % (
        admin.server_address[1], callbacks.server_address[1], env.get("DAPI_API__PUBLIC_SERVER_PORT", "9000"),
        len(sim.live)), flush=True)
    interval = float(env.get("SIM_POLL_INTERVAL", "5"))
    epoch_seconds = float(env.get("SIM_EPOCH_SECONDS", "30"))
    next_epoch_at = time.time() + epoch_seconds
    # later releases write gonka.db every 60 s (R11.7)
    flush_seconds = float(env.get("SIM_FLUSH_SECONDS", "60"))
    next_flush_at = time.time() + flush_seconds
    while True:
        time.sleep(interval)
        if time.time() >= next_flush_at:
            next_flush_at += flush_seconds
            sim.flush_due()
        if time.time() >= next_epoch_at:
            next_epoch_at += epoch_seconds
            sim.next_epoch()
        else:
            sim.poll_once()


if __name__ == "__main__":
    main()
