# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: a real Admin API simulator on loopback and a runner for the collection's modules."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.gonka.fleet.tests.simulators.admin_api import Simulator, serve_in_thread
from ansible_collections.gonka.fleet.tests.simulators.ports import free_port


class Lab:
    """One simulator on 127.0.0.1:<free port>."""

    def __init__(self, sim, server):
        self.sim = sim
        self.server = server
        self.url = server.url

    def seed(self, *nodes):
        for node in nodes:
            self.sim.create(node)
        self.sim.requests.clear()

    def ids(self):
        return [entry["node"]["id"] for entry in self.sim.list()]

    def node(self, node_id):
        return next(e for e in self.sim.list() if e["node"]["id"] == node_id)

    def persisted_ids(self):
        """Ids in the simulator's persisted node list file, in its order (duplicates kept)."""
        with open(self.sim.persist_path, encoding="utf-8") as handle:
            saved = json.load(handle)
        # the yaml's node list (launch) or gonka.db's nodes (later, docs/conformance.md R11.7)
        return [n["id"] for n in (saved["nodes"] if self.sim.release == "later" else saved)]


@pytest.fixture
def api_sim(tmp_path, request):
    """A launch-release simulator persisting to a file; parametrize indirectly with a dict of Simulator args."""
    options = dict(persist_path=str(tmp_path / "nodes.json"))
    options.update(getattr(request, "param", None) or {})
    sim = Simulator(**options)
    server = serve_in_thread(sim)
    yield Lab(sim, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on."""
    return "http://127.0.0.1:%d" % free_port()


@pytest.fixture
def no_sleep(monkeypatch):
    """Record backoff sleeps instead of sleeping."""
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    return slept


@pytest.fixture
def run_module(capsys):
    """Run a module's main() with args; returns its JSON result (``failed`` set when it failed)."""

    def run(module, args, check_mode=False, diff=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        capsys.readouterr()
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exited:
                module.main()
        result = json.loads(capsys.readouterr().out)
        assert exited.value.code == (1 if result.get("failed") else 0)
        return result

    return run


@pytest.fixture
def run_on_sim(api_sim, run_module, no_sleep):  # pylint: disable=unused-argument
    """Run a module against the simulator (admin_url filled in), backoff sleeps recorded, not slept."""

    def call(module, args, **kwargs):
        args = dict(args)
        args.setdefault("admin_url", api_sim.url)
        return run_module(module, args, **kwargs)

    return call
