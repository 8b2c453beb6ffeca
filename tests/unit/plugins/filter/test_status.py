# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health report of a network node: its checks, the table and the failure lines."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.status import (
    running_images, status_failures, status_report, status_table)

SETTINGS = {"max_block_lag": 50, "min_disk_free_percent": 10, "account_address": "gonka1me"}
API = "ghcr.io/product-science/api:0.2.9-post3"
INFO = {
    "chain": {"height": 1000, "catching_up": False}, "seed": {"height": 1002, "url": "http://seed:26657"},
    "block_lag": 2, "epoch": {"index": 7, "phase": "Inference", "block_height": None},
    "participation": {"listed": True, "weight": 12, "models": ["m"], "epoch": 7}, "setup_report": None,
    "ml_nodes": [{"node": {"id": "ml1", "host": "10.0.0.21", "inference_port": 5050, "poc_port": 8080,
                           "models": {"m": {}}},
                  "state": {"current_status": "INFERENCE", "admin_state": {"enabled": True}}}],
    "errors": {},
}
HOSTVARS = {
    "net1": {"gonka_status_host": {"disk": {"/opt/gonka": {"free_bytes": 500e9, "total_bytes": 1000e9}},
                                   "images_wanted": {"api": API}, "images_running": {"api": API}}},
    "ml1": {"gonka_status_host": {"disk": {"/srv/hf": {"free_bytes": 50e9, "total_bytes": 1000e9}},
                                  "images_wanted": {"mlnode-308": "mlnode:3", "inference": "nginx:1"},
                                  "images_running": {"mlnode-308": "mlnode:2"}}},
    "ml2": {},                     # unreachable: no fact
}


def report(info=None, hosts=("net1",), settings=None):
    return status_report(copy.deepcopy(INFO if info is None else info), "net1", list(hosts), HOSTVARS,
                         SETTINGS if settings is None else settings)


def failed(result):
    return [check["check"] for check in result["checks"] if not check["ok"]]


def test_a_healthy_network_node():
    result = report()
    assert result["ok"] is True and failed(result) == []
    assert [check["check"] for check in result["checks"]] == [
        "chain", "catching_up", "block_lag", "admin_api", "ml_node ml1", "participation",
        "net1 disk /opt/gonka", "net1 image api"]


def test_each_problem_is_a_named_check():
    info = dict(INFO, chain={"height": 900, "catching_up": True}, block_lag=102,
                participation={"listed": False, "weight": 0, "models": [], "epoch": 7},
                ml_nodes=[{"node": {"id": "ml1"}, "state": {"current_status": "FAILED", "failure_reason": "oom"}},
                          {"node": {"id": "ml2"}, "state": {"current_status": "UNKNOWN"}}])
    result = report(info, hosts=("net1", "ml1", "ml2"))
    assert result["ok"] is False
    assert failed(result) == ["catching_up", "block_lag", "ml_node ml1", "ml_node ml2", "participation",
                              "ml1 disk /srv/hf", "ml1 image inference", "ml1 image mlnode-308", "ml2 facts"]
    lines = status_failures(result)
    assert "net1: block_lag: 102 blocks behind the seed (at most 50)" in lines
    assert "net1: ml_node ml1: FAILED (oom)" in lines
    assert "net1: ml1 disk /srv/hf: 50.0 GB free of 1000.0 GB (5.0%, at least 10% wanted)" in lines
    assert "net1: ml1 image mlnode-308: runs mlnode:2, the release wants mlnode:3" in lines
    assert "net1: ml1 image inference: not running (the release wants nginx:1)" in lines
    assert lines[-1].startswith("net1: ml2 facts: no status from the host")


def test_sources_that_did_not_answer():
    info = dict(INFO, chain=None, seed=None, block_lag=None, ml_nodes=None, participation=None,
                errors={"chain": "GET http://127.0.0.1:26657/status: refused", "ml_nodes": "cannot reach",
                        "participation": "GET .../participants: HTTP 500"})
    result = report(info)
    assert failed(result) == ["chain", "admin_api", "participation"]
    assert status_failures(result)[0] == "net1: chain: GET http://127.0.0.1:26657/status: refused"


def test_lag_not_measured_is_a_failure():
    result = report(dict(INFO, seed=None, block_lag=None, errors={"seed": "GET http://seed/status: timed out"}))
    assert failed(result) == ["block_lag"]
    assert "not measured: GET http://seed/status: timed out" in status_failures(result)[0]


def test_participation_not_checked_without_an_account():
    result = report(dict(INFO, participation=None), settings=dict(SETTINGS, account_address=""))
    assert "participation" not in [check["check"] for check in result["checks"]] and result["ok"]


def test_settings_are_required():
    with pytest.raises(AnsibleFilterError, match="max_block_lag and min_disk_free_percent"):
        report(settings={})


def test_table():
    lines = status_table(report(hosts=("net1", "ml2")))
    assert lines[0] == "net1: height 1000, seed 1002, lag 2, in sync; epoch 7 Inference; participant listed, weight 12"
    assert lines[1].split() == ["node", "host:inference/poc", "models", "status", "admin"]
    assert lines[2].split() == ["ml1", "10.0.0.21:5050/8080", "m", "INFERENCE", "enabled"]
    assert lines[-1].startswith("FAIL ml2 facts")
    assert lines[3].startswith("ok   chain")


def test_running_images_of_one_project():
    def labels(directory, service):
        return {"com.docker.compose.project.working_dir": directory, "com.docker.compose.service": service}

    info = {"containers": [
        {"Image": API, "State": "running", "Labels": labels("/opt/gonka", "api")},
        {"Image": "other", "State": "running", "Labels": labels("/srv/x", "api")},
        {"Image": "old", "State": "exited", "Labels": labels("/opt/gonka", "proxy")},
        {"Image": "loose", "State": "running", "Labels": {}},
    ]}
    assert running_images(info, "/opt/gonka") == {"api": API}


def test_hosts_left_out_of_the_run_are_not_failed():
    result = report(hosts=("net1", "ml1", "ml2"), settings=dict(SETTINGS, run_hosts=["net1"]))
    assert result["not_in_run"] == ["ml1", "ml2"] and result["ok"] is True
    assert [c["check"] for c in result["checks"] if c["check"].startswith("ml")] == ["ml_node ml1"]
    assert status_table(result)[-1].split()[:2] == ["-", "ml2"]
