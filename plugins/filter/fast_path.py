# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the fast path of site.yml (role gonka.fleet.fast_path): the fingerprint of what a
host's run depends on, and whether a host may skip the plays that change things."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.status import running_images

# the collection's own files that decide what a run does (templates, tasks, defaults, plugins)
_COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTION_PARTS = ("roles", "plugins", "playbooks")
_collection_digest = []


def collection_digest():
    """sha256 over the paths and contents of the collection's roles, plugins and playbooks (once per process)."""
    if not _collection_digest:
        digest = hashlib.sha256()
        for part in _COLLECTION_PARTS:
            for folder, dirs, files in os.walk(os.path.join(_COLLECTION_ROOT, part)):
                dirs[:] = sorted(name for name in dirs if name != "__pycache__")
                for name in sorted(files):
                    if name.endswith((".pyc", ".pyo")):
                        continue
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, _COLLECTION_ROOT).encode("utf-8") + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
                    digest.update(b"\0")
        _collection_digest.append(digest.hexdigest())
    return _collection_digest[0]


def _plain(value):
    """A JSON-able copy of a templated value (lazy containers and unsafe strings included)."""
    if isinstance(value, dict):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


# the fast path's own settings: a run with the fast path off records what a run with it on compares
_NOT_INPUTS = ("gonka_fast_path",)


def _inputs(hostvars, host, prefix):
    """The host's variables named ``prefix``*, templated one by one; one that cannot be templated
    (a fact not gathered yet) counts by its error's kind, so the same inventory gives the same result."""
    variables = hostvars[host]
    found = {"ansible_host": None}
    for name in sorted(variables.keys()):
        if not (name.startswith(prefix) or name == "ansible_host") or name.startswith(_NOT_INPUTS):
            continue
        try:
            found[name] = _plain(variables[name])
        except Exception as error:  # pylint: disable=broad-except
            found[name] = "<%s>" % type(error).__name__
    return found


def fleet_fingerprint(host, hostvars, groups, related=(), prefix="gonka_"):
    """sha256 of what a run of ``host`` depends on: its ``prefix``* variables and ``ansible_host``,
    those of the ``related`` hosts (its network node, or its ML hosts), the members of the groups
    network_nodes and ml_nodes, and the collection's roles, plugins and playbooks."""
    if host not in hostvars:
        raise AnsibleFilterError("fleet_fingerprint: no host %r in the inventory" % (host,))
    document = {
        "collection": collection_digest(),
        "groups": dict((name, sorted(groups.get(name) or [])) for name in ("network_nodes", "ml_nodes")),
        "host": _inputs(hostvars, host, prefix),
        "related": dict((name, _inputs(hostvars, name, prefix)) for name in sorted(set(related) - set([host]))),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()


def _running(host_info, projects):
    """{project dir: {service: image}} of the running containers of each compose project."""
    return dict((project, running_images(host_info or {}, project)) for project in projects)


def _node_ids(nodes_info):
    """The node ids of a gonka.fleet.inference_node_info result; None when it failed or was skipped."""
    if not isinstance(nodes_info, dict) or nodes_info.get("failed") or not isinstance(nodes_info.get("nodes"), list):
        return None
    return sorted(str((entry.get("node") or {}).get("id")) for entry in nodes_info["nodes"])


def fast_path_read(slurped):
    """The record an ansible.builtin.slurp result holds; {} when the file is missing or not a record."""
    try:
        record = json.loads(base64.b64decode((slurped or {}).get("content") or ""))
    except (TypeError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("fingerprint") else {}


def fast_path_record(fingerprint, now, host_info, projects, nodes_info=None, admin_url=None):
    """What a full run leaves on the host: its fingerprint and time, the image each container of
    its compose ``projects`` runs, and (network nodes: ``admin_url`` given) the node ids its Admin
    API listed (``nodes_info``, a gonka.fleet.inference_node_info result)."""
    record = {"fingerprint": fingerprint, "time": int(float(now)), "containers": _running(host_info, sorted(projects))}
    if admin_url:
        ids = _node_ids(nodes_info)
        if ids is None:
            raise AnsibleFilterError("fast_path_record: the Admin API at %s did not list its nodes" % admin_url)
        record.update(admin_url=admin_url, nodes=ids)
    return record


def fast_path_verdict(record, fingerprint, now, max_age, host_info=None, nodes_info=None):
    """Whether the host may skip the plays that change things, and why: ``{"fast": bool, "reason": str}``.

    ``record`` is what the host's last full run left (fast_path_record), or {}; ``fingerprint`` is
    this run's (empty: the fast path is off); ``host_info`` community.docker.docker_host_info now
    (containers, verbose); ``nodes_info`` gonka.fleet.inference_node_info now (network nodes)."""
    if not fingerprint:
        return {"fast": False, "reason": "the fast path is off (gonka_fast_path)"}
    if not record:
        return {"fast": False, "reason": "no record of a full run"}
    if record.get("fingerprint") != fingerprint:
        return {"fast": False, "reason": "inputs changed since the last full run (inventory, variables or collection)"}
    age = float(now) - float(record.get("time") or 0)
    if age < 0 or age > float(max_age):
        return {"fast": False, "reason": "last full run %d s ago, gonka_fast_path_max_age is %d s" % (age, int(max_age))}
    left = record.get("containers") or {}
    running = _running(host_info, sorted(left))
    for project in sorted(left):
        for service in sorted(set(left[project]) | set(running[project])):
            if running[project].get(service) != left[project].get(service):
                return {"fast": False, "reason": "%s/%s: %s running, the last full run left %s" % (
                    project, service, running[project].get(service) or "nothing", left[project].get(service) or "nothing")}
    if "nodes" in record:
        ids = _node_ids(nodes_info)
        if ids is None:
            return {"fast": False, "reason": "the Admin API did not list its nodes"}
        if ids != record["nodes"]:
            return {"fast": False, "reason": "the Admin API lists %s, the last full run left %s"
                    % (", ".join(ids) or "no node", ", ".join(record["nodes"]) or "no node")}
    return {"fast": True, "reason": "as the last full run %d s ago left it (same inputs, containers and registrations)" % age}


def fast_path_with_hosts(verdict, hosts, hostvars):
    """A network node keeps the fast path only when each of its ML ``hosts`` takes it too: an ML
    host that takes the full run (or gave no verdict: unreachable) registers through it."""
    if not verdict.get("fast"):
        return verdict
    full = [host for host in hosts if not ((hostvars[host] if host in hostvars else {}).get("gonka_fast_path_verdict") or {}).get("fast")]
    if full:
        return {"fast": False, "reason": "its ML hosts %s take the full run (their registrations go through it)" % ", ".join(sorted(full))}
    return verdict


class FilterModule(object):
    def filters(self):
        return {"fleet_fingerprint": fleet_fingerprint, "fast_path_read": fast_path_read, "fast_path_record": fast_path_record,
                "fast_path_verdict": fast_path_verdict, "fast_path_with_hosts": fast_path_with_hosts}
