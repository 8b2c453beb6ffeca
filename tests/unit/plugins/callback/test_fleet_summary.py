# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_summary callback: what the operator is told when hosts are left behind."""

from __future__ import annotations

from ansible.executor.stats import AggregateStats

from ansible_collections.gonka.fleet.plugins.callback.fleet_summary import CallbackModule, summary_lines


class Named(object):
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Result(object):
    def __init__(self, host, task, result):
        self._host, self._task, self._result = Named(host), Named(task), result


class Display(object):
    def __init__(self):
        self.lines = []

    def display(self, msg, color=None):
        self.lines.append(msg)


def stats_of(**outcomes):
    stats = AggregateStats()
    for host, what in outcomes.items():
        stats.increment(what, host)
    return stats


def test_nothing_is_said_when_every_host_converged():
    assert summary_lines({}, stats_of(net1="ok", ml1="ok"), "playbooks/site.yml", ["hosts.yml"]) == []


def test_each_host_left_with_task_reason_and_the_command_that_finishes_the_job():
    stopped = {"ml2": ("unreachable", "Gathering Facts", "Failed to connect to the host via ssh"),
               "ml3": ("failed", "Start the containers", "Error response from daemon: no space left")}
    stats = stats_of(net1="ok", ml1="ok", ml2="dark", ml3="failures")
    assert summary_lines(stopped, stats, "playbooks/site.yml", ["inventories/prod/hosts.yml"]) == [
        "FLEET SUMMARY: 2 of 4 hosts not converged",
        '  ml2 unreachable at task "Gathering Facts": Failed to connect to the host via ssh',
        '  ml3 failed at task "Start the containers": Error response from daemon: no space left',
        "  converged: ml1, net1",
        "  once they are back: ansible-playbook -i inventories/prod/hosts.yml playbooks/site.yml --limit ml2,ml3",
    ]


def test_the_limit_holds_the_network_node_of_an_ml_host_left_behind():
    stopped = {"ml2": ("unreachable", "The hosts answer", "No route to host")}
    lines = summary_lines(stopped, stats_of(net1="ok", ml2="dark"), "site.yml", [],
                          lambda host: ["net1"] if host == "ml2" else [])
    assert lines[-1] == "  once they are back: ansible-playbook site.yml --limit ml2,net1"


def test_a_failure_that_a_rescue_handled_is_not_reported():
    stopped = {"ml1": ("failed", "Try the fast path", "boom")}
    assert summary_lines(stopped, stats_of(ml1="rescued"), "site.yml", []) == []


def test_the_callback_records_the_last_failure_and_ignores_ignored_ones():
    callback = CallbackModule()
    callback._display = Display()
    callback.v2_runner_on_failed(Result("ml1", "Probe", {"msg": "closed"}), ignore_errors=True)
    callback.v2_runner_on_failed(Result("ml1", "Handled", {"msg": "first\nsecond line"}))
    callback.v2_runner_on_failed(Result("ml1", "Registration", {"msg": "HTTP 500 " + "x" * 400}))
    callback.v2_runner_on_unreachable(Result("ml2", "Gathering Facts", {"msg": "timed out"}))
    callback.playbook = "playbooks/site.yml"
    callback.v2_playbook_on_stats(stats_of(ml1="failures", ml2="dark", net1="ok"))
    lines = callback._display.lines
    assert lines[0] == "FLEET SUMMARY: 2 of 3 hosts not converged"
    assert lines[1].startswith('  ml1 failed at task "Registration": HTTP 500 xxx') and lines[1].endswith("...")
    assert len(lines[1]) < 360
    assert lines[2] == '  ml2 unreachable at task "Gathering Facts": timed out'
    assert lines[-1].endswith("playbooks/site.yml --limit ml1,ml2")


def test_the_network_node_comes_from_the_inventory(tmp_path):
    """Against a real inventory: gonka_network_node (a group variable here), else the only network node."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play import Play
    from ansible.vars.manager import VariableManager

    inventory_file = tmp_path / "hosts.yml"
    inventory_file.write_text(
        "all:\n  children:\n    network_nodes:\n      hosts: {net1: {}, net2: {}}\n"
        "    ml_nodes:\n      children:\n        east: {hosts: {ml1: {}}, vars: {gonka_network_node: net2}}\n"
        "      hosts: {ml9: {}}\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    manager = VariableManager(loader=loader, inventory=inventory)
    callback = CallbackModule()
    callback.v2_playbook_on_play_start(Play.load({"hosts": "all", "tasks": []}, variable_manager=manager, loader=loader))
    assert callback._network_nodes("ml1") == ["net2"]
    assert callback._network_nodes("net1") == []
    # two network nodes and no gonka_network_node: validate.yml refuses it; the summary adds none
    assert callback._network_nodes("ml9") == []
