# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.inference_nodes (reconcile a list) and inference_node_info against the simulator."""

from __future__ import annotations

import functools

import pytest

from ansible_collections.gonka.fleet.plugins.modules import inference_node_info, inference_nodes
from ansible_collections.gonka.fleet.tests.unit.helpers import api_node, node

LATER = pytest.mark.parametrize("api_sim", [{"release": "later"}], indirect=True)
BOTH = pytest.mark.parametrize("api_sim", [{}, {"release": "later"}], indirect=True)


@pytest.fixture
def run(run_on_sim):
    return functools.partial(run_on_sim, inference_nodes)


def fleet(count, start=0):
    return [node("ml%04d" % i, "10.%d.%d.%d" % (i // 65536, i // 256 % 256, i % 256)) for i in range(start, count)]


@BOTH
def test_fresh_registration_is_one_get_and_one_batch_post(api_sim, run):
    result = run({"nodes": fleet(3)})
    assert result["changed"] is True
    assert result["added"] == ["ml0000", "ml0001", "ml0002"]
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes"), ("POST", "/admin/v1/nodes/batch")]
    assert result["http_requests"] == 2
    assert api_sim.ids() == ["ml0000", "ml0001", "ml0002"]


def test_reconcile_of_1000_registered_nodes_is_exactly_one_request(api_sim, run):
    first = run({"nodes": fleet(1000)})
    assert len(first["added"]) == 1000 and first["http_requests"] == 2
    api_sim.sim.requests.clear()
    again = run({"nodes": fleet(1000), "exclusive": True})
    assert again["changed"] is False
    assert len(again["unchanged"]) == 1000
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]
    assert again["http_requests"] == 1


def test_exclusive_reconcile_of_1000_nodes_counts_requests(api_sim, run):
    run({"nodes": fleet(1000)})
    api_sim.sim.requests.clear()
    desired = fleet(1000, start=10) + fleet(1005, start=1000)       # 10 gone, 5 new
    desired[0]["max_concurrent"] = 7                                # 1 changed
    result = run({"nodes": desired, "exclusive": True, "disable_before_remove": True})
    assert len(result["added"]) == 5 and result["updated"] == ["ml0010"]
    assert result["removed"] == ["ml%04d" % i for i in range(10)]
    assert len(result["unchanged"]) == 989
    # GET + DELETE(update) + batch POST + 10 x (disable + DELETE)
    assert api_sim.sim.count() == 1 + 1 + 1 + 20
    assert result["http_requests"] == 23
    assert len(api_sim.ids()) == 995 and sorted(api_sim.persisted_ids()) == sorted(api_sim.ids())


def test_mixed_changes_and_result_lists(api_sim, run):
    api_sim.seed(api_node("keep", "10.0.0.1"), api_node("change", "10.0.0.2"), api_node("drop", "10.0.0.3"),
                 api_node("off", "10.0.0.4"))
    desired = [node("keep", "10.0.0.1"), node("change", "10.0.0.2", max_concurrent=9),
               dict(node("off", "10.0.0.4"), enabled=False), node("new", "10.0.0.5")]
    result = run({"nodes": desired})
    assert (result["added"], result["updated"], result["disabled"]) == (["new"], ["change"], ["off"])
    assert result["removed"] == [] and result["unchanged"] == ["keep"]
    assert "drop" in api_sim.ids()                        # not exclusive: left alone
    result = run({"nodes": desired, "exclusive": True})
    assert result["removed"] == ["drop"] and result["disabled"] == []
    assert sorted(api_sim.ids()) == ["change", "keep", "new", "off"]
    assert sorted(api_sim.persisted_ids()) == ["change", "keep", "new", "off"]


def test_exclusive_removal_disables_first(api_sim, run):
    api_sim.seed(api_node("a", "10.0.0.1"), api_node("b", "10.0.0.2"))
    result = run({"nodes": [node("a", "10.0.0.1")], "exclusive": True, "disable_before_remove": True})
    assert result["removed"] == ["b"] and result["disabled"] == ["b"]
    assert api_sim.sim.requests[1:] == [("POST", "/admin/v1/nodes/b/disable"), ("DELETE", "/admin/v1/nodes/b")]


def test_kept_nodes_are_left_as_they_are_even_when_exclusive(api_sim, run):
    """An ML host the play could not reach: its registration is neither removed nor changed."""
    api_sim.seed(api_node("a", "10.0.0.1"), api_node("down", "10.0.0.2"), api_node("gone", "10.0.0.3"))
    api_sim.sim.set_enabled("down", False)
    result = run({"nodes": [node("a", "10.0.0.1")], "exclusive": True, "disable_before_remove": True,
                  "keep": ["down", "never-registered"]})
    assert result["kept"] == ["down"]
    assert result["removed"] == ["gone"] and result["disabled"] == ["gone"]
    assert api_sim.ids() == ["a", "down"]
    assert not api_sim.node("down")["state"]["admin_state"]["enabled"]
    assert [r for r in api_sim.sim.requests if "down" in r[1]] == []
    again = run({"nodes": [node("a", "10.0.0.1")], "exclusive": True, "keep": ["down"]})
    assert again["changed"] is False and again["http_requests"] == 1


def test_a_kept_node_still_holds_its_ports(api_sim, run):
    api_sim.seed(api_node("down", "10.0.0.2"))
    result = run({"nodes": [node("new", "10.0.0.2")], "exclusive": True, "keep": ["down"]})
    assert result["failed"] is True and "already registered for node 'down'" in result["msg"]


def test_an_id_both_kept_and_desired_is_refused_before_any_request(api_sim, run):
    result = run({"nodes": [node("a", "10.0.0.1")], "keep": ["a"]})
    assert result["failed"] is True and result["msg"] == "ids both in nodes and in keep: a"
    assert api_sim.sim.requests == []


@BOTH
def test_updates_never_leave_duplicates(api_sim, run):
    run({"nodes": fleet(5)})
    changed = fleet(5)
    for item in changed:
        item["models"]["Qwen/Qwen3-32B-FP8"]["args"].append("--enforce-eager")
    result = run({"nodes": changed})
    assert len(result["updated"]) == 5
    assert sorted(api_sim.persisted_ids()) == ["ml%04d" % i for i in range(5)]
    assert run({"nodes": changed})["changed"] is False


def test_check_mode_predicts_exactly_what_a_run_does(api_sim, run):
    api_sim.seed(api_node("keep", "10.0.0.1"), api_node("change", "10.0.0.2"), api_node("drop", "10.0.0.3"))
    args = {"nodes": [node("keep", "10.0.0.1"), node("change", "10.0.0.2", max_concurrent=9),
                      dict(node("new", "10.0.0.5"), enabled=False)],
            "exclusive": True, "disable_before_remove": True}
    predicted = run(args, check_mode=True, diff=True)
    assert api_sim.sim.requests == [("GET", "/admin/v1/nodes")]
    assert sorted(api_sim.ids()) == ["change", "drop", "keep"]
    real = run(args, diff=True)
    for key in ("changed", "added", "updated", "removed", "enabled", "disabled", "unchanged", "diff"):
        assert predicted[key] == real[key], key
    assert run(args, check_mode=True)["changed"] is False


def test_diff_lists_only_changed_nodes(api_sim, run):
    api_sim.seed(api_node("keep", "10.0.0.1"), api_node("drop", "10.0.0.3"))
    result = run({"nodes": [node("keep", "10.0.0.1"), node("new", "10.0.0.2")], "exclusive": True}, diff=True)
    assert sorted(result["diff"]["before"]) == ["drop"]
    assert sorted(result["diff"]["after"]) == ["new"]
    assert result["diff"]["after"]["new"]["host"] == "10.0.0.2"


def test_duplicate_ids_and_endpoints_are_named_before_any_request(api_sim, run):
    result = run({"nodes": [node("a", "10.0.0.1"), node("b", "10.0.0.2"), node("a", "10.0.0.3"),
                            node("c", "10.0.0.2")]})
    assert result["failed"] is True
    assert "duplicate node id 'a': nodes[0] and nodes[2]" in result["errors"]
    assert ("nodes[1] (id 'b') and nodes[3] (id 'c') both use inference_port 10.0.0.2:5050"
            in result["errors"])
    assert api_sim.sim.requests == []


def test_every_bad_element_is_named(api_sim, run):
    result = run({"nodes": [node("a", "http://10.0.0.1"), dict(node("b", "h"), inference_port="x"),
                            {"host": "h", "models": {"m": {}}}, dict(node("d", "h2"), models={})]})
    assert result["failed"] is True
    joined = "\n".join(result["errors"])
    assert "nodes[0] (id 'a'): host 'http://10.0.0.1' must be a bare hostname" in joined
    assert "nodes[1] (id 'b'): " in joined and "inference_port" in joined
    assert "nodes[2] (id 'None'): missing required arguments: id" in joined
    assert "nodes[3] (id 'd'): models must name at least one governance model" in joined
    assert api_sim.sim.requests == []


def test_conflict_with_a_node_that_stays(api_sim, run):
    api_sim.seed(api_node("old", "10.0.0.1"))
    result = run({"nodes": [node("new", "10.0.0.1")]})
    assert result["failed"] is True and "already registered for node 'old'" in result["msg"]
    assert api_sim.ids() == ["old"]
    renamed = run({"nodes": [node("new", "10.0.0.1")], "exclusive": True})
    assert renamed["added"] == ["new"] and renamed["removed"] == ["old"]
    assert api_sim.sim.requests[-2:] == [("DELETE", "/admin/v1/nodes/old"), ("POST", "/admin/v1/nodes/batch")]


def test_rejected_model_in_a_launch_batch(api_sim, run):
    result = run({"nodes": [node("a", "10.0.0.1"), node("b", "10.0.0.2", model="Qwen/QwQ-32B"),
                            node("c", "10.0.0.3")]})
    assert result["failed"] is True
    assert result["added"] == ["a", "c"]
    assert [f["id"] for f in result["failures"]] == ["b"]
    assert "Qwen/QwQ-32B" in result["failures"][0]["error"]
    assert "registration of node 'b' failed" in result["msg"]
    assert sorted(api_sim.ids()) == ["a", "c"]


@LATER
def test_rejected_nodes_in_a_later_batch_carry_the_api_message(api_sim, run):
    result = run({"nodes": [node("a", "10.0.0.1"), node("b", "10.0.0.2", model="Qwen/QwQ-32B")]})
    assert result["added"] == ["a"]
    assert "HTTP 206" in result["failures"][0]["error"]
    assert "node b has no governance-valid models" in result["failures"][0]["error"]
    only_bad = run({"nodes": [node("a", "10.0.0.1"), node("c", "10.0.0.3", model="x/y")]})
    assert "HTTP 400" in only_bad["failures"][0]["error"] and "node c has no governance-valid models" in only_bad["msg"]


@BOTH
def test_rejected_update_restores_and_others_converge(api_sim, run):
    api_sim.seed(api_node("a", "10.0.0.1"), api_node("b", "10.0.0.2"))
    result = run({"nodes": [node("a", "10.0.0.1", model="Qwen/QwQ-32B"), node("b", "10.0.0.2", max_concurrent=3),
                            node("c", "10.0.0.3")]})
    assert result["failed"] is True
    assert result["restored"] == ["a"] and result["updated"] == ["b"] and result["added"] == ["c"]
    assert "update of node 'a' failed" in result["msg"] and "previous definition was restored" in result["msg"]
    assert list(api_sim.node("a")["node"]["models"]) == ["Qwen/Qwen3-32B-FP8"]
    assert sorted(api_sim.persisted_ids()) == ["a", "b", "c"]


def test_no_answer_to_the_batch_is_reported_as_unknown(api_sim, run):
    api_sim.sim.inject("POST", "/admin/v1/nodes/batch", delay=1.0, count=1)
    api_sim.seed(api_node("gone", "10.0.0.9"))
    result = run({"nodes": [node("a", "10.0.0.1")], "exclusive": True, "timeout": 0.3})
    assert result["failed"] is True
    errors = dict((f["id"], f["error"]) for f in result["failures"])
    assert "no answer, outcome unknown" in errors["a"]
    assert errors["gone"].startswith("not attempted")
    assert result["removed"] == []


def test_api_down(run, closed_port):
    result = run({"nodes": fleet(2), "admin_url": closed_port, "retries": 0})
    assert result["failed"] is True
    assert "%s/admin/v1/nodes failed: cannot reach the Admin API" % closed_port in result["msg"]


# ---- inference_node_info ---------------------------------------------------------
def test_info_lists_nodes_with_state_and_filters_by_id(api_sim, run_module):
    api_sim.seed(api_node("a", "10.0.0.1"), api_node("b", "10.0.0.2"))
    api_sim.sim.set_status("b", "FAILED", "connection refused")
    result = run_module(inference_node_info, {"admin_url": api_sim.url})
    assert result["changed"] is False
    assert [(e["node"]["id"], e["state"]["current_status"]) for e in result["nodes"]] == [
        ("a", "UNKNOWN"), ("b", "FAILED")]
    one = run_module(inference_node_info, {"admin_url": api_sim.url, "id": "b"}, check_mode=True)
    assert [e["node"]["id"] for e in one["nodes"]] == ["b"]
    assert one["nodes"][0]["state"]["failure_reason"] == "connection refused"
    assert run_module(inference_node_info, {"admin_url": api_sim.url, "id": "zz"})["nodes"] == []


def test_info_api_down(run_module, closed_port, no_sleep):
    result = run_module(inference_node_info, {"admin_url": closed_port, "retries": 1})
    assert result["failed"] is True and "cannot reach the Admin API" in result["msg"]
