# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the network node's ``api`` container (decentralized-api), the lab's
ghcr.io/product-science/api image.

Reads the environment variables the real container gets from the reference compose file
(shared/reference/gonka-deploy-join/docker-compose.yml) and serves its three ports:

* DAPI_API__ADMIN_SERVER_PORT (9200): the Admin API simulator (admin_api.py), persisting its
  node list under /root/.dapi like the real api's database; NODE_CONFIG_PATH is read only at
  the first start. Test routes: GET /sim/config (the environment received, secrets reduced
  to "set"), GET /sim/callbacks (what arrived on 9100), plus those of admin_api.py.
* DAPI_API__ML_SERVER_PORT (9100): accepts the ML nodes' PoC callbacks (any POST) and records them.
* DAPI_API__PUBLIC_SERVER_PORT (9000): GET /health, GET /v1/epochs/current/participants, and what
  a seed node's API does for a host joining through it: POST /v1/participants (inferenced
  register-new-participant), GET /v2/participants/{address} (404 until registered).

Every SIM_POLL_INTERVAL seconds (default 5) it polls each registered ML node like the real api
(admin_api.Simulator.poll_once): unreachable nodes become FAILED in GET /admin/v1/nodes.
Epochs advance with time like the chain's (about 24 h on mainnet): one every SIM_EPOCH_SECONDS
(default 30), seen in epoch_group_id and in the epoch of a node's admin_state.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

try:  # a module of the test suite, or a script next to its siblings in the api stand-in image
    from . import admin_api, inferenced
    from .jsonhttp import JSONHandler
except ImportError:
    import admin_api
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
        if urlsplit(self.path).path in ("/health", "/versions"):
            return self.send_json(200, {"status": "ok"})
        return self.send_json(404, {"error": "Not Found"})


class Participants(object):
    """Participants registered through this node's public API (it is the seed of another host),
    persisted like the chain would keep them."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.by_address = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.by_address = json.load(handle)

    def add(self, body):
        participant = {"address": inferenced.address_of(body["pub_key"]), "url": body["url"],
                       "pubkey": body["pub_key"], "validator_key": body.get("validator_key"), "status": "ACTIVE"}
        with self.lock:
            self.by_address[participant["address"]] = participant
            with open(self.path, "w", encoding="utf-8") as handle:
                json.dump(self.by_address, handle)
        return participant


class PublicHandler(JSONHandler):
    """9000: the public API behind the proxy."""

    def do_POST(self):  # noqa: N802
        if urlsplit(self.path).path == "/v1/participants":
            body = json.loads(self.read_body() or b"{}")
            if not body.get("url") or not body.get("pub_key"):
                return self.send_json(400, {"error": "url and pub_key are required"})
            return self.send_json(200, self.server.participants.add(body))
        return self.send_json(404, {"error": "Not Found"})

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        sim = self.server.sim
        if path == "/health":
            return self.send_json(200, {"status": "ok"})
        if path.startswith("/v2/participants/"):
            found = self.server.participants.by_address.get(path.rsplit("/", 1)[1])
            return self.send_json(200, found) if found else self.send_json(404, {"error": "participant not found"})
        if path == "/v1/epochs/current/participants":
            models = sorted(set(m for entry in sim.list() for m in entry["node"]["models"]))
            participant = {"index": os.environ.get("ACCOUNT_PUBKEY", ""), "weight": len(sim.live),
                           "inference_url": os.environ.get("DAPI_API__PUBLIC_URL", ""), "models": models}
            participants = [participant] if sim.live else []
            return self.send_json(200, {"active_participants": {"participants": participants,
                                                                "epoch_group_id": sim.epoch}})
        return self.send_json(404, {"error": "Not Found"})


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
    governance = [m for m in env.get("SIM_GOVERNANCE_MODELS", "").split(",") if m] \
        or list(admin_api.DEFAULT_GOVERNANCE_MODELS)
    node_config = env.get("NODE_CONFIG_PATH")
    sim = admin_api.Simulator(governance_models=governance, release=env.get("SIM_RELEASE", "launch"),
                              persist_path=os.path.join(state_dir, "nodes.json"),
                              node_config_path=node_config if node_config and os.path.exists(node_config) else None)
    callbacks = serve(int(env.get("DAPI_API__ML_SERVER_PORT", "9100")), CallbackHandler,
                      callbacks=[], lock=threading.Lock())
    serve(int(env.get("DAPI_API__PUBLIC_SERVER_PORT", "9000")), PublicHandler, sim=sim,
          participants=Participants(os.path.join(state_dir, "participants.json")))
    sim.extras["/sim/config"] = lambda: received_config(env)
    sim.extras["/sim/callbacks"] = lambda: list(callbacks.callbacks)
    admin = admin_api.AdminAPIServer(("0.0.0.0", int(env.get("DAPI_API__ADMIN_SERVER_PORT", "9200"))), sim)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    print("api stand-in: admin :%s, ml :%s, public :%s" % (
        admin.server_address[1], callbacks.server_address[1], env.get("DAPI_API__PUBLIC_SERVER_PORT", "9000")),
        flush=True)
    interval = float(env.get("SIM_POLL_INTERVAL", "5"))
    # the chain's epochs advance with time (about 24 h on mainnet); here every SIM_EPOCH_SECONDS
    epoch_seconds = float(env.get("SIM_EPOCH_SECONDS", "30"))
    started = time.time()
    while True:
        time.sleep(interval)
        sim.epoch = 1 + int((time.time() - started) // epoch_seconds)
        sim.poll_once()


if __name__ == "__main__":
    main()
