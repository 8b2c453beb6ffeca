# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.inference_node against the Admin API simulator on loopback."""

from __future__ import annotations

import functools

import pytest

from ansible_collections.gonka.fleet.plugins.modules import inference_node
from ansible_collections.gonka.fleet.tests.unit.helpers import api_node, node

LATER = pytest.mark.parametrize("api_sim", [{"release": "later"}], indirect=True)
DETECTING = pytest.mark.parametrize(
    "api_sim", [{"release": "later", "detected_hardware": [{"type": "NVIDIA H200", "count": 1}]}], indirect=True)


@pytest.fixture
def run(run_on_sim):
    return functools.partial(run_on_sim, inference_node)


def test_create_then_no_change(api_sim, run):
    result = run(node("ml1", "10.0.0.21"))
    assert result["changed"] is True
    assert result["actions"] == ["create"]
    assert result["node"]["host"] == "10.0.0.21" and result["node"]["node_num"] == 1
    assert result["node_state"]["admin_state"]["enabled"] is True
    assert api_sim.node("ml1")["node"]["inference_port"] == 5050
    api_sim.sim.requests.clear()

    again = run(node("ml1", "10.0.0.21"))
    assert again["changed"] is False
    assert again["actions"] == []
    assert again["node"]["node_num"] == 1
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]


@pytest.mark.parametrize("api_sim", [{}, {"release": "later"}], indirect=True)
def test_update_is_delete_then_post_and_leaves_no_duplicate(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"), api_node("ml2", "10.0.0.22"))
    result = run(node("ml1", "10.0.0.21", args=["--quantization", "fp8", "--tensor-parallel-size", 2]))
    assert result["changed"] is True and result["actions"] == ["update"]
    assert result["node"]["models"]["Qwen/Qwen3-32B-FP8"]["args"][-1] == "2"
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes"), ("DELETE", "/admin/v1/nodes/ml1"),
                                    ("POST", "/admin/v1/nodes"), ("GET", "/admin/v1/nodes")]
    assert sorted(api_sim.persisted_ids()) == ["ml1", "ml2"]


def test_update_keeps_a_disabled_node_disabled(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    api_sim.sim.set_enabled("ml1", False)
    result = run(node("ml1", "10.0.0.21", max_concurrent=100))
    assert result["actions"] == ["update", "disable"]
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is False
    assert api_sim.node("ml1")["node"]["max_concurrent"] == 100


def test_enable_and_disable(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    result = run(dict(node("ml1", "10.0.0.21"), enabled=False))
    assert result["changed"] is True and result["actions"] == ["disable"]
    assert result["node_state"]["admin_state"]["enabled"] is False
    assert api_sim.sim.requests[1] == ("POST", "/admin/v1/nodes/ml1/disable")
    assert run(dict(node("ml1", "10.0.0.21"), enabled=False))["changed"] is False
    result = run(dict(node("ml1", "10.0.0.21"), enabled=True))
    assert result["actions"] == ["enable"]
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is True


@DETECTING
def test_enabled_alone_changes_only_the_admin_state(api_sim, run):
    run(node("ml1", "10.0.0.21", max_concurrent=77))
    before = api_sim.node("ml1")["node"]
    api_sim.sim.requests.clear()
    predicted = run({"id": "ml1", "enabled": False}, check_mode=True, diff=True)
    assert predicted["changed"] is True and predicted["actions"] == ["disable"]
    assert predicted["diff"]["before"]["enabled"] is True and predicted["diff"]["after"]["enabled"] is False
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]
    api_sim.sim.requests.clear()
    result = run({"id": "ml1", "enabled": False})
    assert result["changed"] is True and result["actions"] == ["disable"]
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes"), ("POST", "/admin/v1/nodes/ml1/disable"),
                                    ("GET", "/admin/v1/nodes")]
    assert api_sim.node("ml1")["node"] == before
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is False
    assert run({"id": "ml1", "enabled": False})["changed"] is False
    assert run({"id": "ml1", "enabled": True})["actions"] == ["enable"]
    assert api_sim.node("ml1")["node"] == before


def test_enabled_alone_on_an_unregistered_node_fails(api_sim, run):
    result = run({"id": "ml9", "enabled": False})
    assert result["failed"] is True
    assert "node 'ml9': not registered on %s; give host and models" % api_sim.url in result["msg"]
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]


def test_present_needs_a_definition_or_enabled(api_sim, run):
    result = run({"id": "ml1"})
    assert result["failed"] is True and "host, enabled" in result["msg"]
    assert api_sim.sim.requests == []


def test_create_disabled(api_sim, run):
    result = run(dict(node("ml1", "10.0.0.21"), enabled=False))
    assert result["actions"] == ["create", "disable"]
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is False


def test_delete_and_delete_missing(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    result = run({"id": "ml1", "state": "absent"})
    assert result["changed"] is True and result["actions"] == ["delete"]
    assert result["node"] == {}
    assert api_sim.ids() == []
    api_sim.sim.requests.clear()
    assert run({"id": "ml1", "state": "absent"})["changed"] is False
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]


def test_check_mode_predicts_and_sends_nothing_but_a_get(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    cases = [
        (node("ml2", "10.0.0.22"), ["create"]),
        (node("ml1", "10.0.0.21", max_concurrent=10), ["update"]),
        (dict(node("ml1", "10.0.0.21"), enabled=False), ["disable"]),
        ({"id": "ml1", "state": "absent"}, ["delete"]),
        (node("ml1", "10.0.0.21"), []),
    ]
    for args, actions in cases:
        api_sim.sim.requests.clear()
        predicted = run(args, check_mode=True, diff=True)
        assert predicted["actions"] == actions
        assert predicted["changed"] is bool(actions)
        assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]
    assert api_sim.ids() == ["ml1"]
    assert api_sim.node("ml1")["node"]["max_concurrent"] == 500


def test_check_mode_result_equals_the_real_run(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    args = node("ml1", "10.0.0.21", max_concurrent=10)
    predicted = run(args, check_mode=True, diff=True)
    real = run(args, diff=True)
    assert predicted["changed"] == real["changed"]
    assert predicted["actions"] == real["actions"]
    assert predicted["diff"] == real["diff"]
    for key in ("host", "models", "max_concurrent", "inference_port", "poc_port"):
        assert predicted["node"][key] == real["node"][key]


def test_diff_shows_node_object_before_and_after(api_sim, run):
    created = run(node("ml1", "10.0.0.21"), diff=True)
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["host"] == "10.0.0.21"
    assert created["diff"]["after"]["enabled"] is True
    updated = run(node("ml1", "10.0.0.21", max_concurrent=42), diff=True)
    assert updated["diff"]["before"]["max_concurrent"] == 500
    assert updated["diff"]["after"]["max_concurrent"] == 42
    assert "node_num" not in updated["diff"]["before"]
    removed = run({"id": "ml1", "state": "absent"}, diff=True)
    assert removed["diff"]["before"]["id"] == "ml1" and removed["diff"]["after"] == {}


@DETECTING
def test_detected_hardware_is_not_a_change(api_sim, run):
    run(node("ml1", "10.0.0.21"))
    assert api_sim.node("ml1")["node"]["hardware"] == [{"type": "NVIDIA H200", "count": 1}]
    assert run(node("ml1", "10.0.0.21"))["changed"] is False
    changed = run(dict(node("ml1", "10.0.0.21"), hardware=[{"type": "NVIDIA H200", "count": 2}]))
    assert changed["changed"] is True
    assert api_sim.node("ml1")["node"]["hardware"] == [{"type": "NVIDIA H200", "count": 2}]


@pytest.mark.parametrize("args, message", [
    (node("ml1", "http://10.0.0.21"), "node 'ml1': host 'http://10.0.0.21' must be a bare hostname"),
    (node("ml1", "10.0.0.21:5050"), "node 'ml1': host '10.0.0.21:5050' must not carry a port"),
    (node("ml1", "10.0.0.21/ml"), "node 'ml1': host '10.0.0.21/ml' must be a bare hostname or IP address, "
                                  "without a path"),
    (node("ml1", ""), "node 'ml1': host is required"),
    (dict(node("ml1", "h"), inference_port=0), "node 'ml1': inference_port must be between 1 and 65535 (got 0)"),
    (dict(node("ml1", "h"), poc_port=70000), "node 'ml1': poc_port must be between 1 and 65535 (got 70000)"),
    (dict(node("ml1", "h"), max_concurrent=0), "node 'ml1': max_concurrent must be at least 1"),
    (dict(node("ml1", "h"), models={}), "node 'ml1': models must name at least one governance model"),
    (dict(node("ml1", "h"), poc_segment="v1"), "node 'ml1': poc_segment must be empty or a URL path"),
    (dict(node("ml1", "h"), models={"m": {"args": [{"a": 1}]}}), "node 'ml1': models['m'].args holds"),
    (dict(node("ml1", "h"), models={"m": ["--x"]}), "node 'ml1': models['m'] must be a dict"),
    (dict(node("ml1", "h"), hardware=[{"type": "H200", "count": 0}]), "node 'ml1': hardware[0].count must be"),
    (node("", "h"), "node '': id must not be empty"),
    (node("a/b", "h"), "node 'a/b': id 'a/b' must not contain '/'"),
])
def test_bad_input_fails_before_any_request(api_sim, run, args, message):
    result = run(args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert api_sim.sim.requests == []


def test_missing_models_is_an_argument_error(api_sim, run):
    result = run({"id": "ml1", "host": "h"})
    assert result["failed"] is True and "models" in result["msg"]
    assert api_sim.sim.requests == []


def test_host_and_port_of_another_registered_node(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    result = run(node("ml9", "10.0.0.21"))
    assert result["failed"] is True
    assert "node 'ml9': inference_port 10.0.0.21:5050 is already registered for node 'ml1'" in result["msg"]
    assert api_sim.ids() == ["ml1"]


def test_rejected_model_names_the_model_and_registers_nothing(api_sim, run):
    result = run(node("ml1", "10.0.0.21", model="Qwen/QwQ-32B"))
    assert result["failed"] is True
    assert "error creating new node" in result["msg"]
    assert "Qwen/QwQ-32B" in result["msg"]
    assert result["changed"] is False and result["added"] == []
    assert api_sim.ids() == []


@pytest.mark.parametrize("api_sim", [{}, {"release": "later"}], indirect=True)
def test_rejected_update_restores_the_previous_definition(api_sim, run):
    api_sim.seed(api_node("ml1", "10.0.0.21"))
    api_sim.sim.set_enabled("ml1", False)
    result = run(node("ml1", "10.0.0.21", model="Qwen/QwQ-32B"))
    assert result["failed"] is True
    assert result["restored"] == ["ml1"] and result["changed"] is True
    assert "Qwen/QwQ-32B" in result["msg"] and "the previous definition was restored" in result["msg"]
    live = api_sim.node("ml1")
    assert list(live["node"]["models"]) == ["Qwen/Qwen3-32B-FP8"]
    assert live["state"]["admin_state"]["enabled"] is False
    assert api_sim.persisted_ids() == ["ml1"]


@LATER
def test_model_dropped_by_a_later_release_fails_and_is_undone(api_sim, run):
    models = {"Qwen/Qwen3-32B-FP8": {"args": []}, "Qwen/QwQ-32B": {"args": []}}
    result = run({"id": "ml1", "host": "10.0.0.21", "models": models})
    assert result["failed"] is True
    assert "without model(s) Qwen/QwQ-32B" in result["msg"]
    assert api_sim.ids() == []


def test_api_down(run, closed_port):
    result = run(dict(node("ml1", "h"), admin_url=closed_port, retries=1))
    assert result["failed"] is True
    assert result["msg"].startswith("GET %s/admin/v1/nodes failed: cannot reach the Admin API" % closed_port)


def test_api_500(api_sim, run):
    api_sim.sim.inject("GET", "/admin/v1/nodes", status=500, error="boom", count=10)
    result = run(dict(node("ml1", "h"), retries=2))
    assert result["failed"] is True
    assert result["msg"] == "GET %s/admin/v1/nodes failed: HTTP 500: boom (after 3 attempts)" % api_sim.url


def test_timeout(api_sim, run):
    api_sim.sim.inject("GET", "/admin/v1/nodes", delay=1.0, count=1)
    result = run(dict(node("ml1", "h"), timeout=0.2, retries=0))
    assert result["failed"] is True and "timed out" in result["msg"]
