# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.node_info against the real stand-ins on loopback: the chain node's RPC, a seed's,
the Admin API simulator and the public API."""

from __future__ import annotations

import time

import pytest

from ansible_collections.gonka.fleet.plugins.modules import node_info
from ansible_collections.gonka.fleet.tests.simulators import chain_node, gonka_api, inferenced

from ansible_collections.gonka.fleet.tests.unit.helpers import node

PUBKEY = "AkxhYk9ubHlBY2NvdW50UHVibGljS2V5U3RhbmRJbg=="
ACCOUNT = inferenced.address_of(PUBKEY)     # the participants' index is the address (R13.4)


@pytest.fixture
def chains():
    """A node that started 40 blocks after its seed (0.05 s blocks): it is behind."""
    now = time.time()
    seed = chain_node.Chain(block_seconds=0.05, moniker="seed", genesis=now - 4.0)    # 80 blocks made
    local = chain_node.Chain(block_seconds=0.05, moniker="node", genesis=now - 2.0)   # 40 blocks made
    servers = [chain_node.serve_rpc(chain, host="127.0.0.1", port=0) for chain in (local, seed)]
    yield ["http://127.0.0.1:%d" % server.server_address[1] for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def public_api(api_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNT_PUBKEY", PUBKEY)
    server = gonka_api.serve(0, gonka_api.PublicHandler, host="127.0.0.1", sim=api_sim.sim,
                             participants=gonka_api.Participants(str(tmp_path / "participants.json"), 0))
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_every_source_read(run_module, chains, api_sim, public_api):
    api_sim.seed(node("ml1", "10.0.0.21"))
    before = time.time()
    result = run_module(node_info, {"rpc_url": chains[0], "seed_rpc_urls": [chains[1]], "admin_url": api_sim.url,
                                    "api_url": public_api, "account_address": ACCOUNT})
    assert result["changed"] is False and result["errors"] == {}
    assert result["chain"]["moniker"] == "node" and result["chain"]["catching_up"] is False
    assert result["seed"]["url"] == chains[1]
    # 40 blocks apart, give or take the blocks made between the two reads
    assert 35 <= result["block_lag"] <= 45 + int((time.time() - before) / 0.05)
    assert [entry["node"]["id"] for entry in result["ml_nodes"]] == ["ml1"]
    assert result["epoch"] == {"index": api_sim.sim.epoch, "phase": "Inference", "block_height": None}
    assert result["participation"]["listed"] is True and result["participation"]["weight"] == 1
    assert result["setup_report"] is None            # the stand-in's release has no such route (404)


def test_a_dead_source_is_named_and_the_others_read(run_module, chains, api_sim, closed_port):
    dead = closed_port
    result = run_module(node_info, {"rpc_url": chains[0], "seed_rpc_urls": [dead, chains[1]],
                                    "admin_url": dead, "retries": 0, "timeout": 2})
    assert result["chain"]["height"] > 0 and result["seed"]["url"] == chains[1]   # the second seed answered
    assert result["ml_nodes"] is None
    assert set(result["errors"]) == {"ml_nodes", "setup_report"}     # both on the Admin API
    assert "cannot reach the Admin API" in result["errors"]["ml_nodes"]
    assert result["epoch"] is None and result["participation"] is None


def test_no_seed_answers(run_module, chains, api_sim, closed_port):
    dead = closed_port
    result = run_module(node_info, {"rpc_url": chains[0], "seed_rpc_urls": [dead], "admin_url": api_sim.url,
                                    "timeout": 2})
    assert result["seed"] is None and result["block_lag"] is None
    assert result["errors"]["seed"].startswith("GET %s/status: " % dead)


def test_an_account_not_in_the_epoch(run_module, chains, api_sim, public_api):
    result = run_module(node_info, {"rpc_url": chains[0], "admin_url": api_sim.url, "api_url": public_api,
                                    "account_address": "gonka1other"})
    assert result["participation"] == {"listed": False, "weight": 0, "models": [],
                                       "epoch": result["participation"]["epoch"]}


def test_a_syncing_node(run_module, api_sim):
    chain = chain_node.Chain(block_seconds=0.05, sync_seconds=3600)
    server = chain_node.serve_rpc(chain, host="127.0.0.1", port=0)
    try:
        result = run_module(node_info, {"rpc_url": "http://127.0.0.1:%d" % server.server_address[1],
                                        "admin_url": api_sim.url})
    finally:
        server.shutdown()
        server.server_close()
    assert result["chain"]["catching_up"] is True


def test_not_a_cometbft_answer(run_module, api_sim, public_api):
    result = run_module(node_info, {"rpc_url": public_api, "admin_url": api_sim.url})   # the public API's 404
    assert result["chain"] is None and "HTTP 404" in result["errors"]["chain"]
