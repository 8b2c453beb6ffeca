# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet filters: who registers with whom, and what is registered."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.fleet import (
    governance_problems, gpus_given, hardware, nodes_in_state, ml_hosts, network_node_of, node_config, probe_report, registration_gaps,
    registration_problems, registrations, retries, status_row)

CATALOG = {"Qwen/Qwen3-32B-FP8": {"args": ["--quantization", "fp8"]},
           "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8": {"args": ["--quantization", "fp8", "--kv-cache-dtype", "fp8"]}}


def fleet(**hostvars):
    groups = {"network_nodes": [h for h, v in hostvars.items() if v.pop("_net", False)],
              "ml_nodes": [h for h, v in hostvars.items() if v.pop("_ml", False)]}
    return groups, hostvars


def test_single_network_node_is_the_default():
    groups, hostvars = fleet(net1={"_net": True}, ml1={"_ml": True}, ml2={"_ml": True})
    assert network_node_of("ml1", groups, hostvars) == "net1"
    assert ml_hosts("net1", groups, hostvars) == ["ml1", "ml2"]


def test_two_clusters():
    groups, hostvars = fleet(a={"_net": True}, b={"_net": True},
                             ml1={"_ml": True, "gonka_network_node": "a"},
                             ml2={"_ml": True, "gonka_network_node": "b"},
                             ml3={"_ml": True, "gonka_network_node": "a"})
    assert ml_hosts("a", groups, hostvars) == ["ml1", "ml3"]
    assert ml_hosts("b", groups, hostvars) == ["ml2"]


def test_same_machine_topology():
    groups, hostvars = fleet(box={"_net": True, "_ml": True})
    assert ml_hosts("box", groups, hostvars) == ["box"]


@pytest.mark.parametrize("variables, message", [
    ({"gonka_network_node": "nope"}, "ml1: gonka_network_node nope is not a host of the group network_nodes"),
    ({}, "ml1: gonka_network_node is not set and the inventory has 2 network nodes"),
])
def test_bad_network_node_names_the_host(variables, message):
    groups, hostvars = fleet(a={"_net": True}, b={"_net": True}, ml1=dict(variables, _ml=True))
    with pytest.raises(AnsibleFilterError, match=message):
        network_node_of("ml1", groups, hostvars)


def test_registrations_from_facts_and_catalog():
    hostvars = {
        "ml1": {"gonka_ml_node_registration": {"id": "ml1", "host": "10.0.0.11", "inference_port": "5050",
                                               "poc_port": 8080, "max_concurrent": 500,
                                               "models": ["Qwen/Qwen3-32B-FP8"], "model_args": {}}},
        "ml2": {"gonka_ml_node_registration": {"id": "gpu-2", "host": "10.0.0.12", "inference_port": 5050,
                                               "poc_port": 8080, "max_concurrent": 100,
                                               "models": ["Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"],
                                               "model_args": {"Qwen/Qwen3-235B-A22B-Instruct-2507-FP8":
                                                              ["--tensor-parallel-size", 4]}}},
    }
    nodes = registrations(["ml1", "ml2"], hostvars, CATALOG)
    assert nodes[0] == {"id": "ml1", "host": "10.0.0.11", "inference_port": 5050, "poc_port": 8080,
                        "max_concurrent": 500, "models": {"Qwen/Qwen3-32B-FP8": {"args": ["--quantization", "fp8"]}}}
    assert nodes[1]["id"] == "gpu-2"
    assert nodes[1]["models"] == {"Qwen/Qwen3-235B-A22B-Instruct-2507-FP8": {"args": ["--tensor-parallel-size", "4"]}}


def test_registrations_send_the_hardware_of_the_gpus():
    """docs/conformance.md R7.1: the launch api detects no hardware, so the registration sends it."""
    record = {"id": "ml1", "host": "10.0.0.11", "inference_port": 5050, "poc_port": 8080, "max_concurrent": 500,
              "models": ["Qwen/Qwen3-32B-FP8"], "model_args": {}, "gpu_memory_mib": [143771] * 2,
              "gpu_names": ["NVIDIA H200", "NVIDIA H200"]}
    node = registrations(["ml1"], {"ml1": {"gonka_ml_node_registration": record}}, CATALOG)[0]
    assert node["hardware"] == [{"type": "NVIDIA H200", "count": 2}]
    record["gpu_names"] = []
    assert "hardware" not in registrations(["ml1"], {"ml1": {"gonka_ml_node_registration": record}}, CATALOG)[0]


def test_hardware_counts_gpus_by_model():
    assert hardware(["NVIDIA H200", "NVIDIA B200", "NVIDIA H200", ""]) == [
        {"type": "NVIDIA B200", "count": 1}, {"type": "NVIDIA H200", "count": 2}]
    assert hardware(None) == [] and hardware([]) == []


def test_governance_problems_name_host_and_model():
    """R8.2: a model the chain does not list would be refused; named before any registration."""
    nodes = [{"id": "ml1", "models": {"Qwen/Qwen3-32B-FP8": {}}},
             {"id": "gpu-2", "models": {"Qwen/QwQ-32B": {}, "org/other": {}}}]
    governance = [{"id": "Qwen/QwQ-32B", "units_of_compute_per_token": 1}, {"id": "Qwen/Qwen2.5-7B-Instruct"}]
    assert governance_problems(nodes, governance, {"gpu-2": "ml2"}, "the chain (net1)") == [
        "ml1: Qwen/Qwen3-32B-FP8 not a governance model of the chain (net1) "
        "(it has: Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct)",
        "ml2: org/other not a governance model of the chain (net1) (it has: Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct)"]
    assert governance_problems(nodes[:1], ["Qwen/Qwen3-32B-FP8"]) == []


def test_probe_report_names_the_ports_that_do_not_answer():
    ml2 = {"node": {"id": "ml2", "host": "10.0.0.12", "poc_port": 8080, "inference_port": 5050}}
    ml3 = {"node": {"id": "ml3", "host": "10.0.0.13", "poc_port": 8080, "inference_port": 5050}}
    timeout = {"failed": False, "failed_when_result": False, "elapsed": 5,
               "msg": "Timeout when waiting for 10.0.0.12:8080"}
    results = [dict(timeout, item=[ml2, "poc_port"]),
               {"elapsed": 0, "state": "started", "port": 5050, "item": [ml2, "inference_port"]},
               {"elapsed": 0, "state": "started", "port": 8080, "item": [ml3, "poc_port"]},
               {"elapsed": 0, "state": "started", "port": 5050, "item": [ml3, "inference_port"]}]
    assert probe_report(results) == [
        "ml2: poc_port 10.0.0.12:8080 does not answer (Timeout when waiting for 10.0.0.12:8080)",
        "ml3: ports 10.0.0.13:8080 and 10.0.0.13:5050 answer from here, but the api has not reached the node yet"]
    assert probe_report([]) == []


def test_registrations_need_the_ml_node_fact():
    with pytest.raises(AnsibleFilterError, match="ml1: no gonka_ml_node_registration fact"):
        registrations(["ml1"], {"ml1": {}}, CATALOG)


def test_hosts_without_the_fact_are_skipped_and_listed_as_gaps():
    """An unreachable ML host: the others are registered, it is named with its node id."""
    record = {"id": "ml1", "host": "10.0.0.11", "inference_port": 5050, "poc_port": 8080, "max_concurrent": 500,
              "models": ["Qwen/Qwen3-32B-FP8"], "model_args": {}}
    hostvars = {"ml1": {"gonka_ml_node_registration": record}, "ml2": {"gonka_ml_node_id": "gpu-b"}, "ml3": {}}
    assert [n["id"] for n in registrations(["ml1", "ml2", "ml3"], hostvars, CATALOG, True)] == ["ml1"]
    assert registration_gaps(["ml1", "ml2", "ml3"], hostvars) == [{"host": "ml2", "id": "gpu-b"},
                                                                  {"host": "ml3", "id": "ml3"}]


def test_node_config_keeps_the_previous_entry_of_an_unreachable_host_in_inventory_order():
    record = {"id": "ml1", "host": "10.0.0.11", "inference_port": 5050, "poc_port": 8080, "max_concurrent": 500,
              "models": ["Qwen/Qwen3-32B-FP8"], "model_args": {}}
    hostvars = {"ml0": {}, "ml1": {"gonka_ml_node_registration": record}, "ml2": {"gonka_ml_node_id": "gpu-b"}}
    nodes = registrations(["ml0", "ml1", "ml2"], hostvars, CATALOG, True)
    previous = [{"id": "gpu-b", "host": "10.0.0.12"}, {"id": "ml1", "host": "old"}, {"id": "removed"}]
    assert node_config(["ml0", "ml1", "ml2"], hostvars, nodes, previous) == [nodes[0], previous[0]]
    assert node_config(["ml1"], hostvars, nodes, None) == nodes


def test_registration_problems_name_each_host():
    hostvars = {"ml1": {"gonka_ml_node_models": ["Qwen/Qwen3-32B-FP8"]},
                "ml2": {"gonka_ml_node_id": "ml1", "gonka_ml_node_models": ["Qwen/QwQ-32B"]},
                "ml3": {}}
    problems = registration_problems(["ml1", "ml2", "ml3"], hostvars, CATALOG)
    assert problems[0] == "ml2: node id 'ml1' is already used by ml1"
    assert problems[1].startswith("ml2: model 'Qwen/QwQ-32B' of gonka_ml_node_models is not in the model catalog")
    assert problems[2] == "ml3: gonka_ml_node_models is empty"
    assert registration_problems(["ml1"], hostvars, CATALOG) == []


def test_status_row():
    entry = {"node": {"id": "ml1", "host": "10.0.0.11", "inference_port": 5050, "poc_port": 8080,
                      "models": {"Qwen/Qwen3-32B-FP8": {"args": []}}},
             "state": {"current_status": "FAILED", "failure_reason": "connection refused",
                       "admin_state": {"enabled": False, "epoch": 3}}}
    assert status_row(entry, "%s|%s|%s|%s|%s") == (
        "ml1|10.0.0.11:5050/8080|Qwen/Qwen3-32B-FP8|FAILED (connection refused)|disabled")


def test_model_seeds_first_host_serving_each_model():
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_seeds
    hostvars = {"ml1": {"gonka_ml_node_resources": {"models": ["A"]}},
                "ml2": {"gonka_ml_node_resources": {"models": ["B", "A"]}},
                "ml3": {"gonka_ml_node_resources": {"models": ["B"]}},
                "ml4": {}}
    assert model_seeds(["ml1", "ml2", "ml3", "ml4"], hostvars) == {"A": "ml1", "B": "ml2"}
    assert model_seeds(["ml3", "ml2"], hostvars) == {"B": "ml3", "A": "ml2"}


@pytest.mark.parametrize("timeout, interval, expected", [
    (300, 5, 60), (301, 5, 61), ("21600", "30", 720), (1, 10, 1), (0, 5, 1), (7.5, 2.5, 3),
])
def test_retries_cover_the_whole_timeout(timeout, interval, expected):
    assert retries(timeout, interval) == expected


def test_retries_need_a_positive_interval():
    with pytest.raises(AnsibleFilterError, match="the interval must be positive, not 0.0"):
        retries(300, 0)


def _fleet(count, model="A", zones=None):
    return dict(("ml%d" % n, dict({"gonka_ml_node_resources": {"models": [model]}},
                                  **({"gonka_model_cache_zone": zones[n - 1]} if zones else {})))
                for n in range(1, count + 1))


def _uploads(placed):
    counts = {}
    for source in placed.values():
        counts[source] = counts.get(source, 0) + 1
    return counts


def test_model_sources_a_tree_of_at_most_fanout_children():
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_sources
    hosts = ["ml%d" % n for n in range(1, 6)]
    assert model_sources(hosts, _fleet(5)) == {"A": {"ml2": "ml1", "ml3": "ml1", "ml4": "ml2", "ml5": "ml2"}}
    assert model_sources(hosts, _fleet(5), 1)["A"] == {"ml2": "ml1", "ml3": "ml2", "ml4": "ml3", "ml5": "ml4"}
    assert model_sources(["ml1"], _fleet(1)) == {"A": {}}


@pytest.mark.parametrize("count", [2, 8, 50, 200])
@pytest.mark.parametrize("fanout", [1, 2, 3])
def test_model_sources_nobody_uploads_more_than_fanout(count, fanout):
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_sources
    hosts = ["ml%d" % n for n in range(1, count + 1)]
    placed = model_sources(hosts, _fleet(count), fanout)["A"]
    assert sorted(placed) == sorted(hosts[1:])                    # every host but the seed has a source
    assert max(_uploads(placed).values()) <= fanout
    for host, source in placed.items():                          # sources come earlier: no cycle
        assert hosts.index(source) < hosts.index(host)


def test_model_sources_zones_fetch_from_each_other():
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_sources
    hosts = ["ml%d" % n for n in range(1, 7)]
    zones = ["a", "b", "b", "a", "b", "b"]
    placed = model_sources(hosts, _fleet(6, zones=zones))["A"]
    crossing = [host for host, source in placed.items() if zones[hosts.index(host)] != zones[hosts.index(source)]]
    assert crossing == ["ml2"]                                    # one copy into zone b, then within it
    assert max(_uploads(placed).values()) <= 2


def test_model_sources_per_model_and_bad_fanout():
    from ansible_collections.gonka.fleet.plugins.filter.fleet import model_sources
    hostvars = {"ml1": {"gonka_ml_node_resources": {"models": ["A"]}},
                "ml2": {"gonka_ml_node_resources": {"models": ["B", "A"]}},
                "ml3": {"gonka_ml_node_resources": {"models": ["B"]}}, "ml4": {}}
    assert model_sources(["ml1", "ml2", "ml3", "ml4"], hostvars) == {"A": {"ml2": "ml1"}, "B": {"ml3": "ml2"}}
    with pytest.raises(AnsibleFilterError, match="fanout must be at least 1, not 0"):
        model_sources(["ml1"], hostvars, 0)


GPUS = [{"index": i, "name": "NVIDIA H200", "memory_mib": 143771} for i in range(8)]


@pytest.mark.parametrize("wanted, expected", [
    ("all", 8), (0, 0), ("0", 0), (2, 2), ("4", 4), (8, 8), (16, 8)])
def test_gpus_given_slices_the_host_gpus(wanted, expected):
    given = gpus_given(GPUS, wanted)
    assert given == GPUS[:expected]


def test_gpus_given_without_gpu_facts_and_a_bad_value():
    assert gpus_given(None, "all") == [] and gpus_given([], 2) == []
    with pytest.raises(AnsibleFilterError, match="gonka_ml_node_gpus must be 'all' or a number, not 'some'"):
        gpus_given(GPUS, "some")


def entry(node_id, status, reason=""):
    return {"node": {"id": node_id}, "state": {"current_status": status, "failure_reason": reason}}


def test_nodes_in_state_picks_ids_and_statuses_and_forgives_missing_epoch_models():
    entries = [entry("ml1", "UNKNOWN"), entry("ml2", "FAILED", "No epoch models available"),
               entry("ml3", "FAILED", "health check failed"), entry("ml4", "INFERENCE"), entry("other", "UNKNOWN")]
    ids = ["ml1", "ml2", "ml3", "ml4"]
    assert [e["node"]["id"] for e in nodes_in_state(entries, ids, "UNKNOWN")] == ["ml1"]
    assert [e["node"]["id"] for e in nodes_in_state(entries, ids, "FAILED")] == ["ml3"]
    assert [e["node"]["id"] for e in nodes_in_state(entries, ids, ["UNKNOWN", "FAILED"])] == ["ml1", "ml3"]
    assert nodes_in_state(entries, ["ml4"], ["UNKNOWN", "FAILED"]) == [] and nodes_in_state(None, ids, "UNKNOWN") == []
