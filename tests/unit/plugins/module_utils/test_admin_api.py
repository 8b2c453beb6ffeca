# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Admin API client against the simulator on loopback."""

from __future__ import annotations

import pytest

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import AdminAPI, AdminAPIError, error_text
from ansible_collections.gonka.fleet.tests.unit.helpers import api_node

LATER = pytest.mark.parametrize("api_sim", [{"release": "later"}], indirect=True)


def client(lab, **options):
    slept = options.pop("slept", [])
    return AdminAPI(lab.url, sleep=slept.append, **options)


def test_list_create_delete_roundtrip(api_sim):
    api = client(api_sim)
    assert api.list_nodes() == []
    stored = api.create_node(api_node("ml1", "10.0.0.21"))
    assert stored["id"] == "ml1" and stored["node_num"] == 1
    assert [e["node"]["id"] for e in api.list_nodes()] == ["ml1"]
    assert api.delete_node("ml1") is True
    assert api.delete_node("ml1") is False
    assert api.requests_made == 5


def test_error_carries_method_url_status_and_the_api_message(api_sim):
    api = client(api_sim)
    with pytest.raises(AdminAPIError) as caught:
        api.create_node(api_node("ml1", "h", model="Qwen/QwQ-32B"))
    exc = caught.value
    assert exc.status == 500
    assert str(exc) == "POST %s/admin/v1/nodes failed: HTTP 500: error creating new node" % api_sim.url
    assert api.requests_made == 1      # a POST is never retried


def test_4xx_is_not_retried(api_sim):
    slept = []
    api = client(api_sim, slept=slept)
    with pytest.raises(AdminAPIError) as caught:
        api.set_enabled("ghost", True)
    assert caught.value.status == 404
    assert "node not found: ghost" in str(caught.value)
    assert "/admin/v1/nodes/ghost/enable" in str(caught.value)
    assert api.requests_made == 1 and slept == []


def test_idempotent_call_is_retried_on_5xx_with_backoff(api_sim):
    slept = []
    api_sim.sim.inject("GET", "/admin/v1/nodes", status=503, count=2)
    api = client(api_sim, slept=slept, retries=3)
    assert api.list_nodes() == []
    assert api.requests_made == 3
    assert slept == [0.5, 1.0]


def test_enable_and_disable_are_retried_as_idempotent(api_sim):
    api_sim.seed(api_node("ml1", "h"))
    api_sim.sim.inject("POST", "/admin/v1/nodes/ml1/disable", status=502, count=1)
    api = client(api_sim)
    api.set_enabled("ml1", False)
    assert api.requests_made == 2
    assert api_sim.node("ml1")["state"]["admin_state"]["enabled"] is False


def test_post_is_not_retried_on_5xx(api_sim):
    api_sim.sim.inject("POST", "/admin/v1/nodes", status=503, count=5)
    api = client(api_sim)
    with pytest.raises(AdminAPIError) as caught:
        api.create_node(api_node("ml1", "h"))
    assert caught.value.status == 503
    assert api.requests_made == 1


def test_retries_exhausted_says_how_many_attempts(api_sim):
    api_sim.sim.inject("GET", "/admin/v1/nodes", status=500, error="database is locked", count=10)
    api = client(api_sim, retries=2)
    with pytest.raises(AdminAPIError) as caught:
        api.list_nodes()
    assert str(caught.value) == ("GET %s/admin/v1/nodes failed: HTTP 500: database is locked (after 3 attempts)"
                                 % api_sim.url)


def test_api_down_is_a_connection_error_with_the_url(closed_port):
    slept = []
    api = AdminAPI(closed_port, retries=2, sleep=slept.append)
    with pytest.raises(AdminAPIError) as caught:
        api.list_nodes()
    message = str(caught.value)
    assert caught.value.status is None
    assert message.startswith("GET %s/admin/v1/nodes failed: cannot reach the Admin API" % closed_port)
    assert message.endswith("(after 3 attempts)")
    assert slept == [0.5, 1.0]


def test_post_to_a_down_api_says_it_was_not_retried(closed_port):
    api = AdminAPI(closed_port, retries=3, sleep=lambda s: None)
    with pytest.raises(AdminAPIError) as caught:
        api.create_node(api_node("a", "h"))
    assert "not retried" in str(caught.value)
    assert api.requests_made == 1


def test_timeout(api_sim):
    api_sim.sim.inject("GET", "/admin/v1/nodes", delay=1.0, count=1)
    api = client(api_sim, timeout=0.2, retries=0)
    with pytest.raises(AdminAPIError) as caught:
        api.list_nodes()
    assert caught.value.status is None
    assert "timed out" in str(caught.value)
    assert "%s/admin/v1/nodes" % api_sim.url in str(caught.value)


def test_ids_are_quoted_into_the_path(api_sim):
    api_sim.seed(api_node("gpu box#1", "h"))
    api = client(api_sim)
    assert api.delete_node("gpu box#1") is True
    assert api_sim.sim.requests == [("DELETE", "/admin/v1/nodes/gpu%20box%231")]


def test_batch_returns_status_and_body(api_sim):
    api = client(api_sim)
    status, body = api.create_nodes([api_node("a", "h1"), api_node("b", "h2", model="bad/model")])
    assert status == 201
    assert [n["id"] for n in body] == ["a"]


@LATER
def test_nested_error_of_later_batch_is_flattened(api_sim):
    api_sim.seed(api_node("a", "h1"))
    api = client(api_sim)
    with pytest.raises(AdminAPIError) as caught:
        api.create_nodes([api_node("a", "h1")])
    assert caught.value.status == 400
    assert str(caught.value).endswith("all nodes failed validation: node[0] (id: a): node already exists")


def test_admin_url_trailing_slash_and_non_json_answers(api_sim):
    api = AdminAPI(api_sim.url + "/")
    assert api.url("nodes") == api_sim.url + "/admin/v1/nodes"
    assert error_text(None) == "(empty body)"
    assert error_text("<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert error_text({"error": "x"}) == "x"
