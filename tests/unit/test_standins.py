# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-ins for the Gonka containers, route by route, on loopback.

What each route must do comes from the upstream source: each test names the row of
docs/conformance.md it pins.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.gonka.fleet.tests.simulators import chain_node, gonka_api, inferenced, mlnode, versiond
from ansible_collections.gonka.fleet.tests.simulators.ports import free_port
from ansible_collections.gonka.fleet.tests.simulators.admin_api import Simulator, node_urls
from ansible_collections.gonka.fleet.tests.unit.helpers import api_node

MODEL = "Qwen/Qwen3-32B-FP8"


def call(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def hf_home(tmp_path):
    snapshot = tmp_path / "hub" / "models--Qwen--Qwen3-32B-FP8" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "hub" / "models--Qwen--Qwen3-235B-A22B-Instruct-2507-FP8" / "snapshots" / "ffff").mkdir(parents=True)
    return str(tmp_path)


@pytest.fixture
def ml(hf_home):
    node = mlnode.MLNode(hf_home)
    management, inference = mlnode.serve(node, "127.0.0.1", free_port(), free_port())
    yield node, "http://127.0.0.1:%d" % management.server_address[1], \
        "http://127.0.0.1:%d" % inference.server_address[1], management.server_address[1], \
        inference.server_address[1]
    for server in (management, inference):
        server.shutdown()
        server.server_close()


# ---- mlnode ------------------------------------------------------------------------------
def test_mlnode_lists_only_complete_snapshots_of_its_hf_cache(ml):
    _node, _mgmt, inference, _p, _i = ml
    status, body = call("GET", inference + "/v1/models")
    assert status == 200 and body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL]          # the 235B snapshot is empty
    assert call("GET", inference + "/health")[0] == 200


def test_mlnode_management_state_machine(ml):
    node, mgmt, _inference, _p, _i = ml
    assert call("GET", mgmt + "/api/v1/state") == (200, {"state": "STOPPED", "loaded_model": None})
    status, body = call("POST", mgmt + "/api/v1/inference/up",
                        {"model": MODEL, "dtype": "auto", "additional_args": ["--quantization", "fp8"]})
    assert (status, body) == (200, {"status": "OK"})
    assert call("GET", mgmt + "/api/v1/state")[1]["state"] == "INFERENCE"
    assert node.args == ["--quantization", "fp8"]
    assert call("POST", mgmt + "/api/v1/stop") == (200, {"status": "OK"})
    assert call("GET", mgmt + "/api/v1/state")[1]["state"] == "STOPPED"
    assert call("GET", mgmt + "/api/v1/pow/status") == (200, {"status": "IDLE"})
    assert call("GET", mgmt + "/api/v1/gpu/devices") == (200, {"devices": [], "count": 0})
    assert call("GET", mgmt + "/health")[0] == 200


def test_mlnode_refuses_a_model_missing_from_the_offline_cache(ml):
    _node, mgmt, _inference, _p, _i = ml
    status, body = call("POST", mgmt + "/api/v1/inference/up", {"model": "Qwen/QwQ-32B", "dtype": "auto"})
    assert status == 409 and "not in the HF cache" in body["detail"]
    assert call("GET", mgmt + "/api/v1/state")[1]["state"] == "STOPPED"


# ---- the api polling registered nodes ----------------------------------------------------
def test_api_reports_a_new_reachable_node_stopped_until_the_epoch_ends(ml):
    """R2.1, R2.3, R2.4: a new node is UNKNOWN, STOPPED once reached; nothing starts a model
    before the next epoch, which gives the node its epoch models and starts the first."""
    node, _mgmt, _inference, poc_port, inference_port = ml
    sim = Simulator()
    sim.create(api_node("ml1", "127.0.0.1", inference_port=inference_port, poc_port=poc_port))
    assert sim.list()[0]["state"]["current_status"] == "UNKNOWN"
    sim.poll_once()
    state = sim.list()[0]["state"]
    assert state["current_status"] == "STOPPED" and state["epoch_models"] == {}
    assert node.model is None
    assert ("management", "POST", "/api/v1/inference/up") not in node.requests
    assert sim.next_epoch() == 2
    state = sim.list()[0]["state"]
    assert state["current_status"] == "INFERENCE" and list(state["epoch_models"]) == [MODEL]
    assert node.model == MODEL and node.args == ["--quantization", "fp8"]
    assert ("inference", "GET", "/health") in node.requests


def test_api_disabled_node_serves_until_its_epoch_ends(ml):
    """R5.1: ShouldBeOperational - disabled in epoch N, the node works until N ends."""
    node, _mgmt, _inference, poc_port, inference_port = ml
    sim = Simulator()
    sim.create(api_node("ml1", "127.0.0.1", inference_port=inference_port, poc_port=poc_port))
    sim.next_epoch()
    assert node.model == MODEL
    sim.set_enabled("ml1", False)
    assert sim.should_be_operational("ml1")
    sim.poll_once()
    assert sim.list()[0]["state"]["current_status"] == "INFERENCE"
    sim.next_epoch()
    assert not sim.should_be_operational("ml1")
    state = sim.list()[0]["state"]
    assert state["current_status"] == "STOPPED" and state["epoch_models"] == {}
    assert node.model is None


def test_should_be_operational_follows_the_broker():
    """R5.1: enabled in epoch N works in N only in the inference phase, from N+1 always."""
    sim = Simulator(epoch=5)
    sim.create(api_node("ml1", "10.0.0.5"))
    assert sim.should_be_operational("ml1", phase="inference")
    assert not sim.should_be_operational("ml1", phase="poc")
    sim.epoch = 6
    assert sim.should_be_operational("ml1", phase="poc")
    sim.set_enabled("ml1", False)
    assert sim.should_be_operational("ml1")
    sim.epoch = 7
    assert not sim.should_be_operational("ml1")


def test_api_reports_failed_when_inference_health_fails(hf_home):
    """R2.2: INFERENCE whose inference /health does not answer becomes FAILED."""
    node = mlnode.MLNode(hf_home)
    management, inference = mlnode.serve(node, "127.0.0.1", free_port(), free_port())
    try:
        sim = Simulator()
        sim.create(api_node("ml1", "127.0.0.1", inference_port=inference.server_address[1],
                            poc_port=management.server_address[1]))
        sim.next_epoch()
        assert sim.list()[0]["state"]["current_status"] == "INFERENCE"
        inference.shutdown()
        inference.server_close()
        sim.poll_once(timeout=0.5)
        assert sim.list()[0]["state"]["current_status"] == "FAILED"
    finally:
        management.shutdown()
        management.server_close()


def test_api_leaves_an_unreachable_node_unknown():
    """R2.1: a failed status query is skipped - never FAILED-with-reason, it stays UNKNOWN."""
    sim = Simulator()
    sim.create(api_node("ml1", "127.0.0.1", inference_port=free_port(), poc_port=free_port()))
    sim.poll_once(timeout=0.5)
    sim.next_epoch(timeout=0.5)
    state = sim.list()[0]["state"]
    assert state["current_status"] == "UNKNOWN"
    assert state["failure_reason"] == ""


def test_api_keeps_the_last_status_of_a_node_that_went_away(ml):
    """R2.1: once reached, a node that stops answering keeps its last status."""
    node, _mgmt, _inference, poc_port, inference_port = ml
    sim = Simulator()
    sim.create(api_node("ml1", "127.0.0.1", inference_port=inference_port, poc_port=poc_port))
    sim.poll_once()
    sim.live["ml1"]["poc_port"] = free_port()      # as if the ML node's host were gone
    sim.poll_once(timeout=0.5)
    assert sim.list()[0]["state"]["current_status"] == "STOPPED"


def test_api_uses_version_and_segments_in_the_urls():
    """R10.6: the URL is http://host:port[/version]segment (launch nodes have no version)."""
    node = api_node("ml1", "10.0.0.5", version="v3.0.8", poc_segment="/mgmt", inference_segment="/inf")
    assert node_urls(node) == ("http://10.0.0.5:8080/v3.0.8/mgmt", "http://10.0.0.5:5050/v3.0.8/inf")


# ---- the api container's other ports -------------------------------------------------------
def test_api_records_the_environment_without_secrets():
    config = gonka_api.received_config({"DAPI_API__POC_CALLBACK_URL": "http://10.232.0.10:9100",
                                        "KEYRING_PASSWORD": "hunter22", "KEY_NAME": "warm", "UNRELATED": "x"})
    assert config == {"DAPI_API__POC_CALLBACK_URL": "http://10.232.0.10:9100", "KEYRING_PASSWORD": "set",
                      "KEY_NAME": "warm"}
    assert gonka_api.received_config({})["KEYRING_PASSWORD"] == "unset"


def test_api_callback_and_public_ports(tmp_path):
    """R6.1, R6.4, R8.1: /v1 routes only; epochs; the chain's governance models."""
    sim = Simulator(governance_models=["Qwen/QwQ-32B", MODEL])
    sim.create(api_node("ml1", "10.0.0.5"))
    callbacks = gonka_api.serve(0, gonka_api.CallbackHandler, host="127.0.0.1", callbacks=[], lock=threading.Lock())
    public = gonka_api.serve(0, gonka_api.PublicHandler, host="127.0.0.1", sim=sim,
                             participants=gonka_api.Participants(str(tmp_path / "p.json")))
    try:
        base = "http://127.0.0.1:%d" % callbacks.server_address[1]
        assert call("POST", base + "/v1/poc-batches/1", {"nonces": [1, 2]}) == (200, {"status": "OK"})
        assert callbacks.callbacks[0]["path"] == "/v1/poc-batches/1"
        assert json.loads(callbacks.callbacks[0]["body"]) == {"nonces": [1, 2]}
        pub = "http://127.0.0.1:%d" % public.server_address[1]
        assert call("GET", pub + "/health")[0] == 404
        assert call("GET", pub + "/v2/participants/gonka1x")[0] == 404
        status, body = call("GET", pub + "/v1/epochs/current/participants")
        assert status == 200
        assert body["active_participants"]["participants"][0]["models"] == [MODEL]
        assert body["active_participants"]["epoch_group_id"] == 1
        governance = {"models": [{"id": "Qwen/QwQ-32B"}, {"id": MODEL}]}
        assert call("GET", pub + "/v1/governance/models") == (200, governance)
    finally:
        for server in (callbacks, public):
            server.shutdown()
            server.server_close()


def test_api_versions_and_node_manager_only_with_devshard():
    """R17.2: from 0.2.14 the ML server answers /versions and the NodeManager port accepts; before, 404."""
    old = gonka_api.serve(0, gonka_api.CallbackHandler, host="127.0.0.1", callbacks=[], lock=threading.Lock())
    new = gonka_api.serve(0, gonka_api.CallbackHandler, host="127.0.0.1", callbacks=[], lock=threading.Lock(),
                          devshard=True)
    port = free_port()
    listener = gonka_api.serve_node_manager(port, host="127.0.0.1")
    try:
        assert call("GET", "http://127.0.0.1:%d/versions" % old.server_address[1])[0] == 404
        assert call("GET", "http://127.0.0.1:%d/versions" % new.server_address[1]) == (200, {"versions": []})
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        listener.close()
        for server in (old, new):
            server.shutdown()
            server.server_close()


def test_versiond_needs_its_oracle_url_and_keeps_going_when_it_fails(monkeypatch):
    """R17.3: VERSIOND_ORACLE_URL required; /healthz lists the running versions; a failed fetch is not fatal."""
    monkeypatch.delenv("VERSIOND_ORACLE_URL", raising=False)
    assert versiond.main() == 1
    api = gonka_api.serve(0, gonka_api.CallbackHandler, host="127.0.0.1", callbacks=[], lock=threading.Lock(),
                          devshard=True)
    server = gonka_api.serve(0, versiond.VersiondHandler, host="127.0.0.1",
                             oracle=versiond.Oracle("http://127.0.0.1:%d/versions" % api.server_address[1]))
    base = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        assert server.oracle.fetch() == {"ok": True, "versions": []}
        assert call("GET", base + "/healthz") == (200, [])
        assert call("GET", base + "/sim/oracle")[1]["ok"] is True
        api.shutdown()
        api.server_close()
        assert server.oracle.fetch()["ok"] is False
        status, last = call("GET", base + "/sim/oracle")
        assert (status, last["ok"], last["count"]) == (200, False, 2)
        assert call("GET", base + "/v1/anything")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_bridge_answers_on_the_geth_p2p_port_tcp_and_udp():
    """R17.4: geth listens on 30303, tcp and udp (here on free ports)."""
    tcp_port, udp_port = free_port(), free_port()
    listener = chain_node.serve_p2p(host="127.0.0.1", port=tcp_port)
    sock = chain_node.serve_udp_echo(host="127.0.0.1", port=udp_port)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        socket.create_connection(("127.0.0.1", tcp_port), timeout=2).close()
        client.settimeout(2)
        client.sendto(b"ping", ("127.0.0.1", udp_port))
        assert client.recvfrom(16)[0] == b"ping"
    finally:
        client.close()
        sock.close()
        listener.close()


def inferenced_cli(home, *args, stdin=""):
    result = subprocess.run([sys.executable, os.path.join(os.path.dirname(gonka_api.__file__), "inferenced.py"),
                             "--home", str(home)] + list(args), input=stdin, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return result.returncode, result.stdout, result.stderr


def test_inferenced_warm_key_is_never_made_twice(tmp_path):
    show = ("keys", "show", "warm", "--keyring-backend", "file", "-a")
    rc, _out, err = inferenced_cli(tmp_path, *show, stdin="password1\n")
    assert rc == 1 and "warm is not a valid name or address: key not found" in err
    rc, out, _err = inferenced_cli(tmp_path, "keys", "add", "warm", "--keyring-backend", "file",
                                   stdin="password1\npassword1\n")
    assert rc == 0 and out.startswith("- address: gonka1")
    address = out.split()[2]
    assert oct(os.stat(str(tmp_path / "keyring-file" / "warm.info")).st_mode & 0o777) == "0o600"
    assert inferenced_cli(tmp_path, *show, stdin="password1\n")[:2] == (0, address + "\n")
    assert inferenced_cli(tmp_path, *show, stdin="wrong-pass\n")[0] == 1            # file keyring: passphrase
    rc, out, err = inferenced_cli(tmp_path, "keys", "add", "warm", "--keyring-backend", "file",
                                  stdin="password1\npassword1\n")
    assert rc == 1 and "override the existing name warm" in out and "aborted" in err
    assert inferenced_cli(tmp_path, *show, stdin="password1\n")[1] == address + "\n"   # the key survived
    assert (tmp_path / "standin-calls.log").read_text().count("keys add warm") == 2


@pytest.fixture
def chain():
    server = chain_node.serve_rpc(chain_node.Chain(block_seconds=0.05, validator_key=b"k" * 32),
                                  host="127.0.0.1", port=0)
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_participant_registers_through_the_seed_api(tmp_path, chain, monkeypatch):
    """R4.1, R4.3, R6.2: the consensus key comes from the node's /status; an unknown address
    is a 500 on the seed; the CLI waits until the seed lists the account."""
    seed = gonka_api.serve(0, gonka_api.PublicHandler, host="127.0.0.1", sim=Simulator(),
                           participants=gonka_api.Participants(str(tmp_path / "participants.json")))
    monkeypatch.setenv("DAPI_CHAIN_NODE__URL", chain)
    try:
        base = "http://127.0.0.1:%d" % seed.server_address[1]
        address = inferenced.address_of("PUBKEY")
        assert call("GET", base + "/v1/participants/" + address)[0] == 500
        rc, out, _err = inferenced_cli(tmp_path, "register-new-participant", "http://1.2.3.4:8000", "PUBKEY",
                                       "--node-address", base)
        assert rc == 0 and "Found participant with pubkey: PUBKEY" in out
        assert call("GET", base + "/v1/participants/" + address) == (200, {"pubkey": "PUBKEY", "balance": 0})
        stored = gonka_api.Participants(str(tmp_path / "participants.json")).by_address[address]
        assert stored["validator_key"] == chain_node.Chain(validator_key=b"k" * 32).status()[
            "result"]["validator_info"]["pub_key"]["value"]
    finally:
        seed.shutdown()
        seed.server_close()


def test_participant_registration_fails_without_the_node_rpc(tmp_path, monkeypatch):
    """R4.1: one /status call, no retry: no node, no registration."""
    monkeypatch.setenv("DAPI_CHAIN_NODE__URL", "http://127.0.0.1:%d" % free_port())
    rc, out, err = inferenced_cli(tmp_path, "register-new-participant", "http://1.2.3.4:8000", "PUBKEY",
                                  "--node-address", "http://127.0.0.1:%d" % free_port())
    assert rc == 1 and "failed to auto-fetch consensus key" in err and "Found participant" not in out


def test_participant_listed_late_exits_zero_without_found(tmp_path, chain, monkeypatch):
    """R4.2: the seed lists the account after the CLI's wait: a warning, and still rc 0."""
    seed = gonka_api.serve(0, gonka_api.PublicHandler, host="127.0.0.1", sim=Simulator(),
                           participants=gonka_api.Participants(str(tmp_path / "participants.json"), delay=60))
    monkeypatch.setenv("DAPI_CHAIN_NODE__URL", chain)
    monkeypatch.setenv("SIM_PARTICIPANT_WAIT", "1")
    try:
        base = "http://127.0.0.1:%d" % seed.server_address[1]
        rc, out, _err = inferenced_cli(tmp_path, "register-new-participant", "http://1.2.3.4:8000", "PUBKEY",
                                       "--node-address", base)
        assert rc == 0 and "Found participant" not in out and "Warning: timeout" in out
    finally:
        seed.shutdown()
        seed.server_close()


# ---- node, tmkms -----------------------------------------------------------------------------
def test_node_syncs_then_is_caught_up():
    """R3.1 (what the api waits for): catching_up true while syncing, the height behind."""
    chain = chain_node.Chain(block_seconds=0.01, sync_seconds=0.5)
    syncing = chain.status()["result"]["sync_info"]
    assert syncing["catching_up"] is True
    time.sleep(0.6)
    assert chain.status()["result"]["sync_info"]["catching_up"] is False


def test_node_reads_the_governance_models_of_its_genesis(tmp_path):
    """R8.1: the chain's governance models are genesis app_state.inference.model_list."""
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps({"app_state": {"inference": {"model_list": [
        {"id": "Qwen/QwQ-32B", "units_of_compute_per_token": 1000}, {"id": "Qwen/Qwen2.5-7B-Instruct"}]}}}))
    assert chain_node.genesis_models(str(genesis)) == ["Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]
    assert chain_node.genesis_models(str(tmp_path / "none.json")) == []
    server = chain_node.serve_rpc(chain_node.Chain(models=["Qwen/QwQ-32B"]), host="127.0.0.1", port=0)
    try:
        assert call("GET", "http://127.0.0.1:%d/sim/governance-models" % server.server_address[1]) == (
            200, ["Qwen/QwQ-32B"])
    finally:
        server.shutdown()
        server.server_close()


def test_node_status_height_grows_and_is_not_catching_up():
    chain = chain_node.Chain(block_seconds=0.05)
    server = chain_node.serve_rpc(chain, host="127.0.0.1", port=0)
    try:
        url = "http://127.0.0.1:%d/status" % server.server_address[1]
        status, first = call("GET", url)
        assert status == 200
        sync = first["result"]["sync_info"]
        assert sync["catching_up"] is False
        assert first["result"]["node_info"]["network"] == "gonka-mainnet"
        time.sleep(0.2)
        later = call("GET", url)[1]["result"]["sync_info"]
        assert int(later["latest_block_height"]) > int(sync["latest_block_height"])
    finally:
        server.shutdown()
        server.server_close()


def test_node_accepts_p2p_connections():
    listener = chain_node.serve_p2p(host="127.0.0.1", port=0)
    try:
        socket.create_connection(listener.getsockname(), timeout=2).close()
    finally:
        listener.close()


def test_tmkms_key_is_created_once(tmp_path):
    first = chain_node.ensure_key(str(tmp_path))
    assert chain_node.ensure_key(str(tmp_path)) == first
    key_file = tmp_path / "secrets" / "priv_validator_key.softsign"
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
