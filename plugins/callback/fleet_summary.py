# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_summary
type: aggregate
short_description: At the end of a run, which hosts are left and the command that finishes the job
version_added: 0.2.0
description:
  - Adds a summary after the play recap when some hosts failed or were unreachable - for each such
    host the task it stopped at and the reason, the hosts that converged, and the
    C(ansible-playbook ... --limit) command that finishes the job once the hosts are back; the
    limit holds the network node of each ML host left behind (it registers the ML node).
  - Prints nothing when every host converged.
  - Enable it in C(ansible.cfg) (C(callbacks_enabled = gonka.fleet.fleet_summary)), as the
    collection's own C(ansible.cfg) does.
author:
  - gonka.fleet contributors (!UNKNOWN)
"""

import os
import shlex

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.template import Templar


def _reason(result):
    """The first line of what the task said, bounded."""
    data = result._result or {}
    text = data.get("msg") or data.get("stderr") or data.get("reason") or "failed"
    text = str(text).strip().splitlines()[0] if str(text).strip() else "failed"
    return text if len(text) <= 300 else text[:297] + "..."


def summary_lines(stopped, stats, playbook, inventories, companions=None):
    """The summary: ``stopped`` maps a host to (kind, task, reason) of its last failure or
    unreachability; only hosts that the stats still count as failed or unreachable are listed
    (a rescued failure is not one). ``companions(host)`` names hosts the finishing run needs with
    it (an ML host's network node)."""
    left = dict((host, what) for host, what in stopped.items()
                if stats.failures.get(host) or stats.dark.get(host))
    if not left:
        return []
    converged = sorted(host for host in stats.processed if host not in left)
    lines = ["FLEET SUMMARY: %d of %d hosts not converged" % (len(left), len(left) + len(converged))]
    for host in sorted(left):
        kind, task, reason = left[host]
        lines.append("  %s %s at task \"%s\": %s" % (host, kind, task, reason))
    lines.append("  converged: %s" % (", ".join(converged) or "none"))
    command = ["ansible-playbook"]
    for inventory in inventories:
        command += ["-i", inventory]
    limit = set(left)
    for host in left:
        limit.update((companions or (lambda _host: []))(host))
    command += [playbook or "PLAYBOOK", "--limit", ",".join(sorted(limit))]
    lines.append("  once they are back: %s" % " ".join(shlex.quote(part) for part in command))
    return lines


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "gonka.fleet.fleet_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.stopped = {}
        self.playbook = None
        self.play = None

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.relpath(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self.play = play

    def _network_nodes(self, host):
        """The network node of an ML host (its gonka_network_node, else the only one), if any."""
        try:
            manager = self.play.get_variable_manager()
            groups = manager._inventory.get_groups_dict()
            if host not in groups.get("ml_nodes", []):
                return []
            variables = manager.get_vars(host=manager._inventory.get_host(host))
            chosen = variables.get("gonka_network_node")
            if chosen is not None:
                chosen = Templar(loader=manager._loader, variables=variables).template(chosen)
        except Exception:  # the summary must never fail a run: without the inventory, no companion
            return []
        network_nodes = groups.get("network_nodes") or []
        if chosen in network_nodes:
            return [chosen]
        return network_nodes if len(network_nodes) == 1 else []

    def _record(self, result, kind):
        # the last one wins: a failure that a rescue handled is followed by the one that stopped the host
        self.stopped[result._host.get_name()] = (kind, result._task.get_name(), _reason(result))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        inventories = [os.path.relpath(source) if os.path.exists(source) else source
                       for source in context.CLIARGS.get("inventory") or ()]
        for line in summary_lines(self.stopped, stats, self.playbook, inventories, self._network_nodes):
            self._display.display(line, color="bright red" if line.startswith("FLEET") else None)
