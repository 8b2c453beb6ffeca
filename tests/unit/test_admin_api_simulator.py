# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Admin API stand-in against the upstream source, route by route (rows of docs/conformance.md).

These tests talk plain HTTP (urllib), not the collection's client, so a drift of the
stand-in from the reference fails here and not only through the modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.gonka.fleet.tests.simulators import admin_api as simmod
from ansible_collections.gonka.fleet.tests.unit.helpers import api_node

LATER = pytest.mark.parametrize("api_sim", [{"release": "later"}], indirect=True)


def http(lab, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(lab.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def persisted(lab):
    """The node list the api saved: the yaml's nodes (launch) or gonka.db's (later, R11.1)."""
    with open(lab.sim.persist_path, encoding="utf-8") as handle:
        saved = json.load(handle)
    return saved["nodes"] if lab.sim.release == "later" else saved


# ---- GET /admin/v1/nodes ---------------------------------------------------------
def test_get_lists_node_and_state_objects(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.21"))
    assert status == 200
    status, body = http(api_sim, "GET", "/admin/v1/nodes")
    assert status == 200
    assert len(body) == 1
    assert body[0]["node"]["id"] == "ml1"
    assert body[0]["node"]["node_num"] == 1
    state = body[0]["state"]
    for key in ("intended_status", "current_status", "poc_intended_status", "poc_current_status",
                "lock_count", "failure_reason", "status_timestamp", "admin_state", "epoch_models",
                "epoch_ml_nodes"):
        assert key in state
    assert state["current_status"] in ("UNKNOWN", "INFERENCE", "POC", "TRAINING", "STOPPED", "FAILED")
    assert state["admin_state"] == {"enabled": True, "epoch": 1}


def test_get_empty_is_an_empty_array(api_sim):
    assert http(api_sim, "GET", "/admin/v1/nodes") == (200, [])


# ---- POST /admin/v1/nodes ----------------------------------------------------------
def test_post_echoes_the_node_with_go_zero_values(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes",
                        {"id": "ml1", "host": "10.0.0.21", "inference_port": 5050, "poc_port": 8080,
                         "max_concurrent": 500, "models": {"Qwen/Qwen3-32B-FP8": {"args": ["--quantization", "fp8"]}}})
    assert status == 200
    assert body["inference_segment"] == "" and body["poc_segment"] == ""
    assert body["hardware"] is None and body["version"] == ""


def test_post_non_governance_model_is_an_opaque_500_at_launch(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h", model="Qwen/QwQ-32B"))
    assert (status, body) == (500, {"error": "error creating new node"})
    assert api_sim.ids() == []


@LATER
def test_post_non_governance_model_names_the_model_later(api_sim):
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h"))
    status, body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h", model="Qwen/QwQ-32B"))
    assert status == 500
    assert "Qwen/QwQ-32B" in body["error"]
    status, body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml2", "g", model="Qwen/QwQ-32B"))
    assert status == 400
    assert body["error"] == "failed to create node: node ml2 has no governance-valid models"


@LATER
def test_post_later_drops_non_governance_models_of_a_new_node(api_sim):
    body = api_node("ml1", "h")
    body["models"]["Qwen/QwQ-32B"] = {"args": []}
    status, stored = http(api_sim, "POST", "/admin/v1/nodes", body)
    assert status == 200
    assert list(stored["models"]) == ["Qwen/Qwen3-32B-FP8"]


def test_repost_at_launch_appends_a_duplicate_to_the_persisted_list(api_sim):
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.21"))
    status, _body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.99"))
    assert status == 200
    assert [e["node"]["host"] for e in api_sim.sim.list()] == ["10.0.0.99"]     # live: overwritten
    assert [n["id"] for n in persisted(api_sim)] == ["ml1", "ml1"]               # persisted: duplicate


@LATER
def test_repost_later_is_an_update(api_sim):
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.21"))
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.99"))
    assert [(n["id"], n["host"]) for n in persisted(api_sim)] == [("ml1", "10.0.0.99")]


@LATER
def test_later_validation_rejects_bad_nodes_and_host_port_reuse(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes", dict(api_node("ml1", "h"), inference_port=0))
    assert status == 400 and "inference_port" in body["error"]
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h"))
    status, body = http(api_sim, "POST", "/admin/v1/nodes", api_node("ml2", "h"))
    assert status == 400 and "already used by node ml1" in body["error"]


def test_bad_json_is_400(api_sim):
    request = urllib.request.Request(api_sim.url + "/admin/v1/nodes", data=b"{nope", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert "error" in json.loads(caught.value.read())


# ---- POST /admin/v1/nodes/batch ----------------------------------------------------
def test_batch_at_launch_skips_failures_silently(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes/batch",
                        [api_node("a", "h1"), api_node("b", "h2", model="Qwen/QwQ-32B"), api_node("c", "h3")])
    assert status == 201
    assert [n["id"] for n in body] == ["a", "c"]
    status, body = http(api_sim, "POST", "/admin/v1/nodes/batch", [api_node("d", "h4", model="x/y")])
    assert (status, body) == (201, None)


@LATER
def test_batch_later_reports_partial_and_total_failure(api_sim):
    status, body = http(api_sim, "POST", "/admin/v1/nodes/batch",
                        [api_node("a", "h1"), api_node("b", "h2", model="Qwen/QwQ-32B")])
    assert status == 206
    assert [n["id"] for n in body["nodes"]] == ["a"]
    assert body["errors"] == ["node[1] (id: b): failed to create node: node b has no governance-valid models"]
    status, body = http(api_sim, "POST", "/admin/v1/nodes/batch", [api_node("a", "h1")])
    assert status == 400
    assert body["error"]["error"] == "all nodes failed validation"
    assert body["error"]["errors"] == ["node[0] (id: a): node already exists"]


# ---- DELETE, enable, disable, PUT ----------------------------------------------------
def test_delete_answers_true_then_false(api_sim):
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h"))
    assert http(api_sim, "DELETE", "/admin/v1/nodes/ml1") == (200, True)
    assert http(api_sim, "DELETE", "/admin/v1/nodes/ml1") == (200, False)
    assert persisted(api_sim) == []


def test_enable_disable_and_unknown_id(api_sim):
    http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "h"))
    assert http(api_sim, "POST", "/admin/v1/nodes/ml1/disable") == (
        200, {"message": "node disabled successfully", "node_id": "ml1"})
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is False
    assert http(api_sim, "POST", "/admin/v1/nodes/ml1/enable")[0] == 200
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is True
    assert http(api_sim, "POST", "/admin/v1/nodes/zz/enable") == (404, {"error": "node not found: zz"})


def test_put_exists_only_in_later_releases(api_sim):
    status, body = http(api_sim, "PUT", "/admin/v1/nodes/ml1", api_node("ml1", "h"))
    assert status == 405 and "error" in body


@LATER
def test_put_later_uses_the_id_from_the_body(api_sim):
    status, body = http(api_sim, "PUT", "/admin/v1/nodes/whatever", api_node("ml1", "h"))
    assert status == 200 and body["id"] == "ml1"


def test_unknown_route_is_a_json_404(api_sim):
    assert http(api_sim, "GET", "/admin/v1/nope") == (404, {"error": "Not Found"})


# ---- persistence ---------------------------------------------------------------------
def test_a_restart_keeps_only_node_config_json(tmp_path):
    """R1.1-R1.4: every start begins from the image's empty list and merges node-config.json;
    nodes that only the Admin API added are gone after a restart."""
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("node1", "inference", inference_port=5000)]))
    state = tmp_path / "nodes.json"
    first = simmod.Simulator(persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in first.list()] == ["node1"]
    first.create(api_node("ml9", "10.0.0.9"))
    assert [n["id"] for n in json.loads(state.read_text())] == ["node1", "ml9"]
    second = simmod.Simulator(persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in second.list()] == ["node1"]
    assert [n["id"] for n in json.loads(state.read_text())] == ["node1"]
    config.write_text(json.dumps([api_node("ml9", "10.0.0.9"), api_node("ml8", "10.0.0.8")]))
    third = simmod.Simulator(persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in third.list()] == ["ml9", "ml8"]


def test_a_restart_without_node_config_forgets_every_node(tmp_path):
    """R1.1: no node-config.json, no nodes after a restart."""
    state = tmp_path / "nodes.json"
    first = simmod.Simulator(persist_path=str(state))
    first.create(api_node("ml1", "10.0.0.1"))
    assert simmod.Simulator(persist_path=str(state)).list() == []


def test_a_later_restart_keeps_admin_api_nodes_and_merges_node_config_once(tmp_path):
    """R11.4, R11.6-R11.9: later releases keep their node store (gonka.db) across restarts;
    node-config.json counts only until the first flush; later edits of the file are ignored."""
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("node1", "inference", inference_port=5000)]))
    state = tmp_path / "gonka.db"
    first = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config))
    first.create(api_node("ml9", "10.0.0.9"))
    saved = json.loads(state.read_text())
    assert saved["node_config_merged"] is True
    assert [n["id"] for n in saved["nodes"]] == ["node1", "ml9"]
    config.write_text(json.dumps([api_node("ml8", "10.0.0.8")]))
    second = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in second.list()] == ["node1", "ml9"]
    second.delete("node1")
    third = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in third.list()] == ["ml9"]


def test_the_first_later_start_after_launch_migrates_the_launch_nodes(tmp_path):
    """R11.5, R11.10, R1.3-R1.4: upgraded from launch, the api finds no gonka.db but the launch
    yaml (kept in .dapi): its nodes - Admin API registrations included, a duplicate counted once -
    are migrated, and node-config.json is skipped because the launch api had merged it."""
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("ml1", "10.0.0.1")]))
    launch_store = tmp_path / "nodes.json"
    launch = simmod.Simulator(persist_path=str(launch_store), node_config_path=str(config))
    launch.create(api_node("ml2", "10.0.0.2"))
    launch.create(api_node("ml2", "10.0.0.2"))      # launch appends a duplicate (R1.4)
    config.write_text(json.dumps([api_node("ml8", "10.0.0.8")]))
    state = tmp_path / "gonka.db"
    later = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config),
                             launch_store_path=str(launch_store), deferred_flush=True)
    assert [e["node"]["id"] for e in later.list()] == ["ml1", "ml2"]
    later.flush_due()
    saved = json.loads(state.read_text())
    assert saved["node_config_merged"] is True and [n["id"] for n in saved["nodes"]] == ["ml1", "ml2"]
    # from then on gonka.db counts, the launch store no longer
    launch_store.write_text(json.dumps([api_node("ml7", "10.0.0.7")]))
    again = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config),
                             launch_store_path=str(launch_store))
    assert [e["node"]["id"] for e in again.list()] == ["ml1", "ml2"]


def test_a_later_store_not_yet_merged_is_replaced_by_node_config(tmp_path):
    """R11.4, R11.7: while node_config_merged is unset, node-config.json's nodes replace the stored
    ones in memory; the store changes at the next flush, which sets the flag."""
    state = tmp_path / "gonka.db"
    state.write_text(json.dumps({"nodes": [api_node("ml1", "10.0.0.1")]}))
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("ml2", "10.0.0.2")]))
    sim = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config),
                           deferred_flush=True)
    assert [e["node"]["id"] for e in sim.list()] == ["ml2"]
    # a restart before the flush: the store is as it was, and the file is merged again
    assert [e["node"]["id"] for e in simmod.Simulator(release="later", persist_path=str(state)).list()] == ["ml1"]
    sim.flush_due()
    saved = json.loads(state.read_text())
    assert saved["node_config_merged"] is True and [n["id"] for n in saved["nodes"]] == ["ml2"]


def test_after_the_first_flush_an_edited_node_config_is_ignored(tmp_path):
    """R11.4: the first flush sets node_config_merged even when nothing changed through the Admin API."""
    state = tmp_path / "gonka.db"
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("ml1", "10.0.0.1")]))
    simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config),
                     deferred_flush=True).flush_due()
    config.write_text(json.dumps([api_node("ml2", "10.0.0.2")]))
    again = simmod.Simulator(release="later", persist_path=str(state), node_config_path=str(config))
    assert [e["node"]["id"] for e in again.list()] == ["ml1"]


def test_a_later_change_reaches_the_store_at_the_next_flush(tmp_path):
    """R11.7: the real api writes gonka.db every 60 s; a restart before that loses the change."""
    state = tmp_path / "gonka.db"
    sim = simmod.Simulator(release="later", persist_path=str(state), deferred_flush=True)
    sim.create(api_node("ml1", "10.0.0.1"))
    assert simmod.Simulator(release="later", persist_path=str(state)).list() == []
    sim.flush_due()
    assert [e["node"]["id"] for e in simmod.Simulator(release="later", persist_path=str(state)).list()] == ["ml1"]


def test_enable_and_disable_are_not_persisted(tmp_path):
    """R1.4, R11.9: admin state lives in the broker only."""
    state = tmp_path / "gonka.db"
    sim = simmod.Simulator(release="later", persist_path=str(state))
    sim.create(api_node("ml1", "10.0.0.1"))
    before = state.read_text()
    sim.set_enabled("ml1", False)
    assert state.read_text() == before
    assert simmod.Simulator(release="later", persist_path=str(state)).list()[0]["state"]["admin_state"]["enabled"]


def test_a_restart_enables_every_node(tmp_path):
    """R1.5: admin state lives in memory; a restarted api registers every node enabled."""
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("ml1", "10.0.0.1")]))
    first = simmod.Simulator(node_config_path=str(config), epoch=3)
    first.set_enabled("ml1", False)
    second = simmod.Simulator(node_config_path=str(config), epoch=4)
    assert second.list()[0]["state"]["admin_state"] == {"enabled": True, "epoch": 4}


def test_duplicate_ids_in_node_config_stop_the_start(tmp_path):
    """R1.3: loadNodeConfig refuses duplicate ids."""
    config = tmp_path / "node-config.json"
    config.write_text(json.dumps([api_node("ml1", "10.0.0.1"), api_node("ml1", "10.0.0.2")]))
    with pytest.raises(ValueError, match="duplicate node ID found in config: ml1"):
        simmod.Simulator(node_config_path=str(config))


def test_hardware_is_kept_as_sent_at_launch(tmp_path):
    """R7.1: the launch api detects no hardware; what the registration sends is stored."""
    sim = simmod.Simulator(detected_hardware=[{"type": "NVIDIA H200", "count": 1}])
    assert sim.create(api_node("ml1", "10.0.0.1"))["hardware"] is None
    sent = dict(api_node("ml2", "10.0.0.2"), hardware=[{"type": "NVIDIA H200", "count": 8}])
    assert sim.create(sent)["hardware"] == [{"type": "NVIDIA H200", "count": 8}]


def test_runs_as_a_process_with_flags(tmp_path, closed_port):
    port = int(closed_port.rsplit(":", 1)[1])
    proc = subprocess.Popen([sys.executable, simmod.__file__, "--port", str(port), "--release", "later",
                             "--governance-model", "org/model-a", "--persist", str(tmp_path / "p.json")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert "later release" in proc.stdout.readline()
        base = "http://127.0.0.1:%d" % port
        for _attempt in range(50):
            try:
                urllib.request.urlopen(base + "/admin/v1/nodes", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(base + "/admin/v1/nodes", method="POST",
                                         data=json.dumps(api_node("a", "h", model="org/model-a")).encode())
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert [n["id"] for n in json.loads((tmp_path / "p.json").read_text())["nodes"]] == ["a"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- /sim/faults (a test route, not the real API) ---------------------------------
def test_a_fault_is_listed_until_a_matching_request_takes_it(api_sim):
    fault = {"method": "POST", "path": "/admin/v1/nodes", "status": 500, "error": "failed to create node"}
    assert http(api_sim, "POST", "/sim/faults", fault) == (200, {"faults": 1})
    status, pending = http(api_sim, "GET", "/sim/faults")
    assert status == 200 and [(f["method"], f["status"], f["count"]) for f in pending] == [("POST", 500, 1)]
    assert http(api_sim, "GET", "/admin/v1/nodes") == (200, [])       # another method: not taken
    assert http(api_sim, "GET", "/sim/faults")[1] != []
    assert http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.21")) == (500, {"error": "failed to create node"})
    assert http(api_sim, "GET", "/sim/faults") == (200, [])
    assert http(api_sim, "POST", "/admin/v1/nodes", api_node("ml1", "10.0.0.21"))[0] == 200
