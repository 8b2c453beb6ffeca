# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast path of site.yml: the fingerprint of a host's run, the record a full run leaves and
the verdict a re-run draws from it."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.fast_path import (
    fast_path_read, fast_path_record, fast_path_verdict, fast_path_with_hosts, fleet_fingerprint)

NET_DIR = "/opt/gonka"
ML_DIR = "/opt/gonka-ml"
ADMIN = "http://127.0.0.1:9200"


def container(project, service, image, state="running"):
    return {"Image": image, "State": state,
            "Labels": {"com.docker.compose.project.working_dir": project, "com.docker.compose.service": service}}


HOST_INFO = {"containers": [container(NET_DIR, "api", "api:0.2.0"), container(NET_DIR, "node", "node:0.2.0"),
                            container(ML_DIR, "mlnode-308", "mlnode:3.0.9"), container(ML_DIR, "inference", "nginx:1.28.0")]}
NODES = {"nodes": [{"node": {"id": "ml2"}}, {"node": {"id": "ml1"}}]}
GROUPS = {"network_nodes": ["net1"], "ml_nodes": ["ml1", "ml2"], "all": ["net1", "ml1", "ml2"]}


def hostvars(**changes):
    hosts = {
        "net1": {"ansible_host": "10.0.0.10", "gonka_private_address": "10.1.0.10", "gonka_release": "launch",
                 "inventory_hostname": "net1", "ansible_facts": {"uptime_seconds": 5}},
        "ml1": {"ansible_host": "10.0.0.11", "gonka_private_address": "10.1.0.11", "gonka_ml_node_models": ["m"]},
        "ml2": {"ansible_host": "10.0.0.12", "gonka_private_address": "10.1.0.12", "gonka_ml_node_models": ["m"]},
    }
    for host, values in changes.items():
        hosts[host] = dict(hosts[host], **values)
    return hosts


def fingerprint(host="net1", related=("ml1", "ml2"), groups=None, **changes):
    return fleet_fingerprint(host, hostvars(**changes), groups or GROUPS, list(related))


def test_fingerprint_is_stable_and_reads_only_the_inputs():
    assert fingerprint() == fingerprint()
    # facts, magic variables and the fast path's own settings are not inputs
    assert fingerprint(net1={"ansible_facts": {"uptime_seconds": 99}, "inventory_hostname": "x"}) == fingerprint()
    assert fingerprint(net1={"gonka_fast_path": False, "gonka_fast_path_max_age": 0}) == fingerprint()


@pytest.mark.parametrize("changes", [
    {"net1": {"gonka_release": "0.2.9"}},                       # its own variable
    {"net1": {"gonka_new_setting": 1}},                         # a variable added
    {"net1": {"ansible_host": "10.0.0.99"}},                    # its address
    {"ml2": {"gonka_ml_node_models": ["m", "n"]}},              # a related host's variable
])
def test_fingerprint_changes_with_an_input(changes):
    assert fingerprint(**changes) != fingerprint()


def test_fingerprint_changes_with_the_fleet_and_ignores_unrelated_hosts():
    bigger = dict(GROUPS, ml_nodes=["ml1", "ml2", "ml3"])
    assert fingerprint(groups=bigger) != fingerprint()
    # ml1's run does not read ml2's variables (only its network node's)
    assert fingerprint("ml1", ["net1"], ml2={"gonka_ml_node_models": ["z"]}) == fingerprint("ml1", ["net1"])


def test_fingerprint_names_a_host_that_is_not_in_the_inventory():
    with pytest.raises(AnsibleFilterError, match="no host 'ghost'"):
        fingerprint("ghost")


def slurped(record):
    return {"content": base64.b64encode(json.dumps(record).encode()).decode()}


def test_record_and_read_back():
    record = fast_path_record("abc", 1000.7, HOST_INFO, [NET_DIR, ML_DIR], NODES, ADMIN)
    assert record == {"fingerprint": "abc", "time": 1000, "admin_url": ADMIN, "nodes": ["ml1", "ml2"],
                      "containers": {NET_DIR: {"api": "api:0.2.0", "node": "node:0.2.0"},
                                     ML_DIR: {"mlnode-308": "mlnode:3.0.9", "inference": "nginx:1.28.0"}}}
    assert fast_path_read(slurped(record)) == record
    # an ML host records no nodes
    assert "nodes" not in fast_path_record("abc", 1000, HOST_INFO, [ML_DIR])


def test_record_refuses_a_network_node_whose_admin_api_did_not_answer():
    with pytest.raises(AnsibleFilterError, match="did not list its nodes"):
        fast_path_record("abc", 1000, HOST_INFO, [NET_DIR], {"failed": True, "msg": "refused"}, ADMIN)


@pytest.mark.parametrize("slurp", [{}, {"failed": True, "msg": "file not found"}, {"content": "bm90IGpzb24="},
                                   slurped(["a list"]), slurped({"time": 5})])
def test_read_gives_nothing_for_a_missing_or_broken_record(slurp):
    assert fast_path_read(slurp) == {}


RECORD = fast_path_record("abc", 1000, HOST_INFO, [NET_DIR, ML_DIR], NODES, ADMIN)


def verdict(record=None, fp="abc", now=1060, max_age=86400, host_info=None, nodes=None):
    return fast_path_verdict(RECORD if record is None else record, fp, now, max_age,
                             HOST_INFO if host_info is None else host_info, NODES if nodes is None else nodes)


def test_fast_when_everything_is_as_the_full_run_left_it():
    result = verdict()
    assert result["fast"] is True and "60 s ago" in result["reason"]


@pytest.mark.parametrize("kwargs, reason", [
    ({"fp": ""}, "the fast path is off"),
    ({"record": {}}, "no record of a full run"),
    ({"fp": "other"}, "inputs changed since the last full run"),
    ({"now": 1000 + 86401}, "last full run 86401 s ago, gonka_fast_path_max_age is 86400 s"),
    ({"max_age": 0}, "gonka_fast_path_max_age is 0 s"),
    ({"now": 10}, "last full run -990 s ago"),                                  # a clock that went back
    ({"host_info": {"containers": HOST_INFO["containers"][:3]}}, "/opt/gonka-ml/inference: nothing running, the last full run left nginx:1.28.0"),
    ({"host_info": {"containers": HOST_INFO["containers"][:3] + [container(ML_DIR, "inference", "nginx:1.28.0", "exited")]}},
     "/opt/gonka-ml/inference: nothing running"),
    ({"host_info": {"containers": HOST_INFO["containers"][1:] + [container(NET_DIR, "api", "api:0.2.9")]}},
     "/opt/gonka/api: api:0.2.9 running, the last full run left api:0.2.0"),
    ({"host_info": {"containers": HOST_INFO["containers"] + [container(NET_DIR, "bridge", "bridge:1")]}},
     "/opt/gonka/bridge: bridge:1 running, the last full run left nothing"),
    ({"host_info": {"failed": True}}, "nothing running"),                        # Docker did not answer
    ({"nodes": {"nodes": [{"node": {"id": "ml1"}}]}}, "the Admin API lists ml1, the last full run left ml1, ml2"),
    ({"nodes": {"failed": True, "msg": "connection refused"}}, "the Admin API did not list its nodes"),
    ({"nodes": {}}, "the Admin API did not list its nodes"),                      # skipped
])
def test_full_run_and_why(kwargs, reason):
    result = verdict(**kwargs)
    assert result["fast"] is False
    assert reason in result["reason"]


def test_an_ml_host_is_not_asked_for_nodes():
    record = fast_path_record("abc", 1000, HOST_INFO, [ML_DIR])
    assert verdict(record=record, nodes={})["fast"] is True


def test_a_network_node_takes_the_full_run_with_any_of_its_ml_hosts():
    fast = {"fast": True, "reason": "as left"}
    hosts = {"ml1": {"gonka_fast_path_verdict": fast}, "ml2": {"gonka_fast_path_verdict": {"fast": False, "reason": "x"}},
             "ml3": {}}
    assert fast_path_with_hosts(fast, ["ml1"], hosts) == fast
    # ml2 takes the full run, ml3 gave no verdict (unreachable): both register through it
    result = fast_path_with_hosts(fast, ["ml1", "ml2", "ml3"], hosts)
    assert result == {"fast": False, "reason": "its ML hosts ml2, ml3 take the full run (their registrations go through it)"}
    assert fast_path_with_hosts({"fast": False, "reason": "y"}, ["ml2"], hosts)["reason"] == "y"
