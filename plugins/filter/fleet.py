# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that read the fleet's shape from the inventory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.gonka.fleet.plugins.plugin_utils.catalog import CatalogError, vllm_args


def network_node_of(ml_host, groups, hostvars):
    """The network node an ML host registers with: its gonka_network_node, else the only network node."""
    network_nodes = list(groups.get("network_nodes") or [])
    chosen = hostvars[ml_host].get("gonka_network_node")
    if chosen is None:
        if len(network_nodes) != 1:
            raise AnsibleFilterError("%s: gonka_network_node is not set and the inventory has %d network nodes"
                                     % (ml_host, len(network_nodes)))
        return network_nodes[0]
    if chosen not in network_nodes:
        raise AnsibleFilterError("%s: gonka_network_node %s is not a host of the group network_nodes"
                                 % (ml_host, chosen))
    return chosen


def ml_hosts(network_node, groups, hostvars):
    """The ML hosts (group ml_nodes) that register with ``network_node``, in inventory order."""
    return [host for host in groups.get("ml_nodes") or []
            if network_node_of(host, groups, hostvars) == network_node]


def _models(host, models, model_args, catalog, gpu_memory_mib=None):
    """{model: {"args": [...]}} of one ML host, or raise naming the host and the model."""
    try:
        return dict((model, {"args": vllm_args(catalog, model, gpu_memory_mib, model_args.get(model), host)})
                    for model in models)
    except CatalogError as exc:
        raise AnsibleFilterError(str(exc))


def registration_problems(ml_host_names, hostvars, catalog):
    """What would stop the registration of these ML hosts, from inventory variables only:
    no models, models missing from the catalog, ids used twice. Each problem names the host."""
    problems, seen = [], {}
    for host in ml_host_names:
        variables = hostvars[host]
        node_id = variables.get("gonka_ml_node_id") or host
        if node_id in seen:
            problems.append("%s: node id %r is already used by %s" % (host, node_id, seen[node_id]))
        seen.setdefault(node_id, host)
        models = variables.get("gonka_ml_node_models") or []
        if not models:
            problems.append("%s: gonka_ml_node_models is empty" % host)
        try:
            _models(host, models, variables.get("gonka_ml_node_model_args") or {}, catalog)
        except AnsibleFilterError as exc:
            problems.append(str(exc))
    return problems


def gpus_given(gpus, wanted):
    """The GPUs (gonka.fleet.gpu_facts entries) the mlnode container gets: none with ``wanted`` 0,
    the first N with a number N (all of them when the host has fewer), every GPU with "all"."""
    gpus = list(gpus or [])
    if str(wanted) == "all":
        return gpus
    try:
        return gpus[:max(0, int(wanted))]
    except (TypeError, ValueError):
        raise AnsibleFilterError("gpus_given: gonka_ml_node_gpus must be 'all' or a number, not %r" % (wanted,))


NOT_A_FAILURE = "No epoch models available"


def nodes_in_state(entries, ids, statuses):
    """The GET /admin/v1/nodes entries of the node ids ``ids`` whose current status is one of
    ``statuses`` (a status or a list). FAILED leaves out a node FAILED only for want of epoch models:
    one registered during an epoch is told to serve before the next epoch gives it models, which is
    expected (docs/conformance.md R2.3)."""
    statuses = [statuses] if isinstance(statuses, str) else list(statuses)
    picked = []
    for entry in entries or []:
        node, state = entry.get("node") or {}, entry.get("state") or {}
        status = state.get("current_status")
        if node.get("id") not in ids or status not in statuses:
            continue
        if status == "FAILED" and NOT_A_FAILURE in (state.get("failure_reason") or ""):
            continue
        picked.append(entry)
    return picked


def hardware(gpu_names):
    """The node's ``hardware`` ([{type, count}] sorted by type) from the model names of its GPUs;
    empty without GPUs. The launch api detects none itself (docs/conformance.md R7.1)."""
    counts = {}
    for name in gpu_names or []:
        if name:
            counts[name] = counts.get(name, 0) + 1
    return [{"type": name, "count": counts[name]} for name in sorted(counts)]


def registrations(ml_host_names, hostvars, catalog, skip_missing=False):
    """The node objects (inference_nodes' ``nodes``) of these ML hosts, from the fact
    ``gonka_ml_node_registration`` the ml_node role sets and the model catalog; the tensor-parallel
    size follows the GPUs the fact reports (``gpu_memory_mib``), the hardware their names
    (``gpu_names``; left out when the host has none). A host without the fact fails, or with
    ``skip_missing`` is left out (see registration_gaps)."""
    nodes = []
    for host in ml_host_names:
        record = hostvars[host].get("gonka_ml_node_registration")
        if not record and skip_missing:
            continue
        if not record:
            raise AnsibleFilterError("%s: no gonka_ml_node_registration fact; run the gonka.fleet.ml_node role "
                                     "(or its facts entry point) on it first" % host)
        nodes.append({
            "id": record["id"],
            "host": record["host"],
            "inference_port": int(record["inference_port"]),
            "poc_port": int(record["poc_port"]),
            "max_concurrent": int(record["max_concurrent"]),
            "models": _models(host, record["models"], record.get("model_args") or {}, catalog,
                              record.get("gpu_memory_mib")),
        })
        if hardware(record.get("gpu_names")):
            nodes[-1]["hardware"] = hardware(record.get("gpu_names"))
    return nodes


def _node_id(host, hostvars):
    record = hostvars[host].get("gonka_ml_node_registration")
    return record["id"] if record else (hostvars[host].get("gonka_ml_node_id") or host)


def registration_gaps(ml_host_names, hostvars):
    """The ML hosts without the fact ``gonka_ml_node_registration`` (unreachable or failed before
    the ml_node role set it), as ``[{host, id}]``; ``id`` is the node id the inventory gives them
    (``gonka_ml_node_id``, else the host name), under which they may already be registered."""
    return [{"host": host, "id": _node_id(host, hostvars)}
            for host in ml_host_names if not hostvars[host].get("gonka_ml_node_registration")]


def node_config(ml_host_names, hostvars, nodes, previous):
    """node-config.json's list: for each ML host in inventory order, its node object of this run
    (``nodes``) or, for a host this run could not reach, its entry in the ``previous`` file (left
    as it was; none when it had none)."""
    current = dict((node["id"], node) for node in nodes)
    kept = dict((node.get("id"), node) for node in previous or [] if isinstance(node, dict))
    entries = []
    for host in ml_host_names:
        node_id = _node_id(host, hostvars)
        if hostvars[host].get("gonka_ml_node_registration"):
            entries.append(current[node_id])
        elif node_id in kept:
            entries.append(kept[node_id])
    return entries


def governance_problems(nodes, governance, hosts_by_id=None, source="the chain"):
    """Models of these node objects that are not governance models of the chain (a registration
    would get a 500, docs/conformance.md R8.2): one line per node naming its host and models."""
    allowed = set(model.get("id") if isinstance(model, dict) else model for model in governance or [])
    problems = []
    for node in nodes:
        missing = sorted(model for model in node.get("models") or {} if model not in allowed)
        if missing:
            problems.append("%s: %s not a governance model of %s (it has: %s)" % (
                (hosts_by_id or {}).get(node["id"], node["id"]), ", ".join(missing),
                source, ", ".join(sorted(allowed)) or "none"))
    return problems


def probe_report(results):
    """One line per ML node from the results of ``ansible.builtin.wait_for`` looped over
    ``[GET /admin/v1/nodes entry, port key]`` pairs: which of its ports did not answer from the
    network node, or that they answer although the api has not reached the node yet."""
    order, closed = [], {}
    for result in results or []:
        entry, key = result["item"]
        node = entry["node"]
        if node["id"] not in closed:
            order.append(node)
            closed[node["id"]] = []
        # wait_for's success carries the state it waited for; a timeout only msg and elapsed
        if result.get("failed") or "state" not in result:
            closed[node["id"]].append("%s %s:%s does not answer (%s)" % (
                key, node["host"], node[key], result.get("msg") or "closed"))
    lines = []
    for node in order:
        if closed[node["id"]]:
            lines.append("%s: %s" % (node["id"], ", ".join(closed[node["id"]])))
        else:
            lines.append("%s: ports %s:%s and %s:%s answer from here, but the api has not reached the node yet"
                         % (node["id"], node["host"], node["poc_port"], node["host"], node["inference_port"]))
    return lines


def retries(timeout, interval):
    """How many times a task polling every ``interval`` seconds retries to wait ``timeout`` seconds
    (``until`` / ``retries`` / ``delay``): the ceiling of their ratio, at least 1."""
    timeout, interval = float(timeout), float(interval)
    if interval <= 0:
        raise AnsibleFilterError("retries: the interval must be positive, not %s" % interval)
    return max(1, int(-(-timeout // interval)))


def status_row(entry, row_format):
    """One line of the status table for a GET /admin/v1/nodes entry."""
    node = entry.get("node") or {}
    state = entry.get("state") or {}
    host = "%s:%s/%s" % (node.get("host"), node.get("inference_port"), node.get("poc_port"))
    admin = "enabled" if (state.get("admin_state") or {}).get("enabled", True) else "disabled"
    status = state.get("current_status") or "?"
    if state.get("failure_reason"):
        status = "%s (%s)" % (status, state["failure_reason"])
    return row_format % (node.get("id"), host, ",".join(sorted(node.get("models") or {})), status, admin)


def model_seeds(hosts, hostvars):
    """{model: host}: for each model, the first of ``hosts`` whose gonka_ml_node_resources (the
    ml_node role's fact) lists it - the host that downloads it from the Hub in peer mode."""
    seeds = {}
    for host in hosts:
        for model in (hostvars[host].get("gonka_ml_node_resources") or {}).get("models") or []:
            seeds.setdefault(model, host)
    return seeds


def model_sources(hosts, hostvars, fanout=2, zone_var="gonka_model_cache_zone"):
    """{model: {host: source}}: where each ML host that is not a model's seed fetches it from in peer
    mode - a tree rooted at the seed (``model_seeds``) in which no host serves more than ``fanout``
    others. Hosts are taken in order; each goes under the earliest host with room left in its own
    zone (``hostvars[host][zone_var]``: a rack, a room), else under the earliest with room anywhere
    (one copy crosses into each zone), and is a source for the hosts after it. The copies run at
    once: a host still copying serves what it has (hf_serve), so the tree costs about one copy's
    time, and the Hub and every host upload at most ``fanout`` copies whatever the fleet's size."""
    fanout = int(fanout)
    if fanout < 1:
        raise AnsibleFilterError("model_sources: fanout must be at least 1, not %s" % fanout)
    sources = {}
    for model, seed in model_seeds(hosts, hostvars).items():
        holders = [host for host in hosts
                   if model in ((hostvars[host].get("gonka_ml_node_resources") or {}).get("models") or [])]
        room = [[seed, fanout]]                        # hosts that can serve, in the order they joined
        placed = {}
        for host in holders[1:]:
            zone = hostvars[host].get(zone_var)
            free = [slot for slot in room if slot[1] > 0]
            slot = next((slot for slot in free if hostvars[slot[0]].get(zone_var) == zone), free[0])
            slot[1] -= 1
            placed[host] = slot[0]
            room.append([host, fanout])
        sources[model] = placed
    return sources


class FilterModule(object):
    def filters(self):
        return {"ml_hosts": ml_hosts, "network_node_of": network_node_of, "registrations": registrations,
                "registration_problems": registration_problems, "registration_gaps": registration_gaps,
                "node_config": node_config, "status_row": status_row, "retries": retries,
                "model_seeds": model_seeds, "model_sources": model_sources, "hardware": hardware,
                "gpus_given": gpus_given, "nodes_in_state": nodes_in_state, "governance_problems": governance_problems,
                "probe_report": probe_report}
