# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over what community.docker.docker_compose_v2 returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# docker compose's event statuses (community.docker's module_utils/compose_v2.py), by what they do
VERBS = {
    "Creating": "create", "Created": "create", "Create": "create",
    "Recreating": "recreate", "Recreated": "recreate", "Recreate": "recreate",
    "Starting": "start", "Started": "start", "Start": "start",
    "Restarting": "restart", "Restarted": "restart", "Restart": "restart",
    "Stopping": "stop", "Stopped": "stop", "Stop": "stop",
    "Killing": "kill", "Killed": "kill", "Kill": "kill",
    "Removing": "remove", "Removed": "remove", "Remove": "remove",
    "Pulling": "pull", "Pulled": "pull", "Pull": "pull",
}
ORDER = ("recreate", "create", "start", "restart", "stop", "kill", "remove", "pull")
# the name a dry run (check mode) gives a container while it recreates it: <12 hex digits>_<name>
DRY_RUN_NAME = re.compile(r"^[0-9a-f]{12}_")


def compose_changes(actions, text=False):
    """What a docker_compose_v2 run did, or would do in check mode, to each container: a dict
    verb -> sorted names (recreate, create, start, ...), verbs in that order; with ``text``, one
    line ("recreate api, node; create bridge"). Resources other than containers are named with
    their kind ("network gonka")."""
    found = {}
    for action in actions or []:
        verb = VERBS.get(action.get("status"), str(action.get("status", "")).lower())
        what = action.get("what")
        name = action.get("id") if what in ("container", "service") else "%s %s" % (what, action.get("id"))
        found.setdefault(verb, set()).add(DRY_RUN_NAME.sub("", str(name)))
    # a created or recreated container is also started: said once
    if "start" in found:
        found["start"] -= found.get("create", set()) | found.get("recreate", set())
        if not found["start"]:
            del found["start"]
    verbs = [verb for verb in ORDER if verb in found] + sorted(set(found) - set(ORDER))
    if text:
        return "; ".join("%s %s" % (verb, ", ".join(sorted(found[verb]))) for verb in verbs) or "nothing"
    return dict((verb, sorted(found[verb])) for verb in verbs)


class FilterModule(object):
    def filters(self):
        return {"compose_changes": compose_changes}
