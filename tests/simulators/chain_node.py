# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-ins for the network node's chain-side containers: ``node``, ``tmkms``, ``explorer``
and ``bridge``.

* node (ghcr.io/product-science/inferenced): CometBFT's GET /status on 26657 with a block
  height that grows (one block per SIM_BLOCK_SECONDS, default 1, counted from the genesis file's
  genesis_time, so every node of one network has the same height), and a TCP listener on the p2p
  port 26656 (published as 5000). For its first SIM_SYNC_SECONDS (default 0) it is a node that
  syncs: catching_up true, the height behind. GET /sim/governance-models (not a real route: the
  stand-ins' channel for the chain's state) lists the model ids of /root/genesis.json
  app_state.inference.model_list, the chain's governance models (docs/conformance.md R8.1). The image's init-docker.sh runs
  this, so the compose file's ``command: ["sh", "./init-docker.sh"]`` stays as it is.
* tmkms (ghcr.io/product-science/tmkms-softsign-with-keygen): creates its consensus key
  file under /root/.tmkms on the first start only, then keeps running.
* explorer (ghcr.io/product-science/explorer): a page on 5173.
* bridge (ghcr.io/product-science/bridge, releases from 0.2.9): the Ethereum bridge. What the
  collection relies on (docs/conformance.md R9.2): it reads GETH_DATA_DIR, PRYSM_DATA_DIR,
  JWT_SECRET_PATH and PERSISTENT_DB_DIR (the .inference-eth volumes), keeps its data there across
  restarts (the engine API's JWT secret is made once). Its geth listens on 30303, tcp and udp
  (R17.4: 0.2.9 publishes it nowhere, 0.2.14 on every interface); the udp side answers every
  datagram with itself. It follows no Ethereum chain and posts no block to the api.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

try:  # a module of the test suite, or a script next to jsonhttp.py in a stand-in image
    from .jsonhttp import JSONHandler
except ImportError:
    from jsonhttp import JSONHandler

CHAIN_ID = "gonka-mainnet"


class Chain:
    """``genesis``: the chain's genesis time (epoch seconds); the height counts blocks since then, so
    stand-ins of one network (the lab's seed and its network nodes) agree on it as synced nodes do.
    Without it the chain starts with the process."""

    def __init__(self, block_seconds=1.0, moniker="node", validator_key=b"", sync_seconds=0.0, models=(), genesis=None):
        self.started = time.time()
        self.genesis = self.started if genesis is None else genesis
        self.block_seconds = block_seconds
        self.moniker = moniker
        self.validator_key = validator_key or os.urandom(32)
        self.sync_seconds = sync_seconds
        self.models = list(models)

    def height(self):
        return int((time.time() - self.genesis) / self.block_seconds) + 1

    def catching_up(self):
        return time.time() - self.started < self.sync_seconds

    def status(self):
        height = self.height()
        catching_up = self.catching_up()
        if catching_up:     # a syncing node is behind: it reached a fraction of the network's height
            height = max(1, int(height * (time.time() - self.started) / self.sync_seconds))
        block_time = datetime.datetime.fromtimestamp(self.genesis + (height - 1) * self.block_seconds,
                                                     datetime.timezone.utc)
        pub_key = base64.b64encode(self.validator_key).decode()
        return {"jsonrpc": "2.0", "id": -1, "result": {
            "node_info": {"network": CHAIN_ID, "moniker": self.moniker, "version": "0.38.17"},
            "sync_info": {"latest_block_height": str(height),
                          "latest_block_time": block_time.isoformat().replace("+00:00", "Z"),
                          "catching_up": catching_up},
            "validator_info": {"address": hashlib.sha256(self.validator_key).hexdigest()[:40].upper(),
                               "pub_key": {"type": "tendermint/PubKeyEd25519", "value": pub_key},
                               "voting_power": "0"}}}


class RPCHandler(JSONHandler):
    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/status":
            status, body = 200, self.server.chain.status()
        elif path == "/sim/governance-models":
            status, body = 200, self.server.chain.models
        elif path == "/health":
            status, body = 200, {"jsonrpc": "2.0", "id": -1, "result": {}}
        else:
            status, body = 404, {"jsonrpc": "2.0", "id": -1, "error": {"code": -32601, "message": "Method not found"}}
        self.send_json(status, body)


def serve_rpc(chain, host="0.0.0.0", port=26657):
    server = ThreadingHTTPServer((host, port), RPCHandler)
    server.daemon_threads = True
    server.chain = chain
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def serve_udp_echo(host="0.0.0.0", port=30303):
    """Answer every datagram with itself (geth's discovery answers its pings): a reachability check for udp."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))

    def answer():
        while True:
            try:
                data, address = sock.recvfrom(2048)
                sock.sendto(data, address)
            except OSError:         # the socket was closed
                return

    threading.Thread(target=answer, daemon=True).start()
    return sock


def serve_p2p(host="0.0.0.0", port=26656):
    """Accept p2p connections (and close them): enough for a reachability check."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(16)

    def accept():
        while True:
            try:
                conn, _addr = listener.accept()
            except OSError:         # the listener was closed
                return
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def genesis_time(path):
    """The genesis file's genesis_time as epoch seconds; None without a file or a time."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle).get("genesis_time")
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (OSError, ValueError, AttributeError):
        return None


def genesis_models(path):
    """Model ids of a genesis file's app_state.inference.model_list (none when it has no list)."""
    try:
        with open(path, encoding="utf-8") as handle:
            genesis = json.load(handle)
    except (OSError, ValueError):
        return []
    models = ((genesis.get("app_state") or {}).get("inference") or {}).get("model_list") or []
    return [model["id"] for model in models if model.get("id")]


def ensure_bridge_data(environ):
    """The bridge's data directories, and its JWT secret made once (kept across restarts)."""
    for key in ("GETH_DATA_DIR", "PRYSM_DATA_DIR", "PERSISTENT_DB_DIR"):
        if environ.get(key):
            os.makedirs(environ[key], exist_ok=True)
    secret = environ.get("JWT_SECRET_PATH")
    if secret and not os.path.exists(secret):
        os.makedirs(os.path.dirname(secret), exist_ok=True)
        with open(secret, "w", encoding="utf-8") as handle:
            handle.write(os.urandom(32).hex())
        os.chmod(secret, 0o600)
    return secret


def ensure_key(directory):
    """The tmkms consensus key: created once, kept across restarts."""
    path = os.path.join(directory, "secrets", "priv_validator_key.softsign")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64encode(os.urandom(32)))
        os.chmod(path, 0o600)
    with open(path, "rb") as handle:
        return base64.b64decode(handle.read())


class ExplorerHandler(JSONHandler):
    def do_GET(self):  # noqa: N802
        self.send_json(200, b"<html><body><h1>Gonka explorer (lab stand-in)</h1></body></html>", "text/html")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=("node", "tmkms", "explorer", "bridge"))
    args = parser.parse_args(argv)
    if args.role == "node":
        chain = Chain(float(os.environ.get("SIM_BLOCK_SECONDS", "1")), os.environ.get("KEY_NAME", "node"),
                      sync_seconds=float(os.environ.get("SIM_SYNC_SECONDS", "0")),
                      models=genesis_models(os.environ.get("SIM_GENESIS", "/root/genesis.json")),
                      genesis=genesis_time(os.environ.get("SIM_GENESIS", "/root/genesis.json")))
        serve_rpc(chain)
        serve_p2p()
        print("node stand-in: rpc :26657, p2p :26656", flush=True)
    elif args.role == "tmkms":
        ensure_key(os.environ.get("TMKMS_HOME", "/root/.tmkms"))
        print("tmkms stand-in: key in place, signing for %s" % os.environ.get("VALIDATOR_LISTEN_ADDRESS"),
              flush=True)
    elif args.role == "bridge":
        ensure_bridge_data(os.environ)
        # geth's p2p port, tcp and udp (R17.4): published by the releases that say so
        serve_p2p(port=30303)
        serve_udp_echo(port=30303)
        print("bridge stand-in: data in place, ethereum network %s" % os.environ.get("ETHEREUM_NETWORK"), flush=True)
    else:
        server = ThreadingHTTPServer(("0.0.0.0", 5173), ExplorerHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("explorer stand-in: :5173", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
