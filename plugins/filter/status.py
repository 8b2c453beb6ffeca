# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/status.yml and validate.yml --tags health: the health report of a network
node and its ML hosts, its checks, and the table an operator reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.fleet import status_row

# An ML node in one of these is not serving (docs/conformance.md R2: UNKNOWN until reachable,
# FAILED when its start failed).
_BAD_STATES = ("FAILED", "UNKNOWN")
_ROW = "%-12s %-24s %-32s %-12s %s"


def running_images(host_info, project_dir):
    """{service: image} of the containers of the compose project in ``project_dir``, from
    community.docker.docker_host_info (containers, verbose): the image reference each was created with."""
    images = {}
    for container in host_info.get("containers") or []:
        labels = container.get("Labels") or {}
        if labels.get("com.docker.compose.project.working_dir") != project_dir:
            continue
        service = labels.get("com.docker.compose.service")
        if service and (container.get("State") or "running") == "running":
            images[service] = container.get("Image")
    return images


def _check(checks, name, ok, detail):
    checks.append({"check": name, "ok": bool(ok), "detail": detail})


def _host_checks(checks, host, facts, min_free_percent):
    if not facts:
        _check(checks, "%s facts" % host, False, "no status from the host (unreachable, or it failed earlier in the play)")
        return
    for path, disk in sorted((facts.get("disk") or {}).items()):
        total = disk.get("total_bytes") or 0
        percent = 100.0 * disk.get("free_bytes", 0) / total if total else 0.0
        _check(checks, "%s disk %s" % (host, path), percent >= min_free_percent,
               "%.1f GB free of %.1f GB (%.1f%%, at least %g%% wanted)"
               % (disk.get("free_bytes", 0) / 1e9, total / 1e9, percent, min_free_percent))
    running = facts.get("images_running") or {}
    for service, wanted in sorted((facts.get("images_wanted") or {}).items()):
        got = running.get(service)
        if got is None:
            detail = "not running (the release wants %s)" % wanted
        elif got != wanted:
            detail = "runs %s, the release wants %s" % (got, wanted)
        else:
            detail = got
        _check(checks, "%s image %s" % (host, service), got == wanted, detail)


def status_report(info, network_node, hosts, hostvars, settings):
    """The health report of one network node.

    ``info``: gonka.fleet.node_info's result on the network node; ``hosts``: the network node and
    its ML hosts, whose ``gonka_status_host`` fact (gonka.fleet.status main: ``disk`` {path:
    {free_bytes, total_bytes}}, ``images_wanted`` and ``images_running`` {service: image}) is read
    from ``hostvars`` (a host without it is a failed check); ``settings``:
    ``max_block_lag``, ``min_disk_free_percent``, ``account_address`` (empty: participation is
    not checked) and ``run_hosts`` (the hosts of this run: the others, left out with --limit, are
    listed in ``not_in_run`` and not checked; absent: every host is checked). Returns the report
    with ``checks`` [{check, ok, detail}] and ``ok``."""
    try:
        max_lag = int(settings["max_block_lag"])
        min_free = float(settings["min_disk_free_percent"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("status_report: settings need max_block_lag and min_disk_free_percent (%s)" % exc)
    errors = info.get("errors") or {}
    run_hosts = settings.get("run_hosts")
    skipped = [host for host in hosts if run_hosts is not None and host not in run_hosts]
    hosts = dict((host, (hostvars[host] if host in hostvars else {}).get("gonka_status_host"))
                 for host in hosts if host not in skipped)
    checks = []
    chain = info.get("chain")
    _check(checks, "chain", chain is not None,
           errors.get("chain") or "height %s" % (chain or {}).get("height"))
    if chain is not None:
        _check(checks, "catching_up", not chain["catching_up"],
               "still syncing at height %s" % chain["height"] if chain["catching_up"] else "in sync")
        lag = info.get("block_lag")
        if lag is None:
            _check(checks, "block_lag", False, "not measured: %s" % (errors.get("seed") or "no seed RPC set"))
        else:
            _check(checks, "block_lag", lag <= max_lag, "%d blocks behind the seed (at most %d)" % (lag, max_lag))
    nodes = info.get("ml_nodes")
    _check(checks, "admin_api", nodes is not None, errors.get("ml_nodes") or "%d ML node(s)" % len(nodes or []))
    for entry in nodes or []:
        node, state = entry.get("node") or {}, entry.get("state") or {}
        status = state.get("current_status") or "?"
        detail = status + (" (%s)" % state["failure_reason"] if state.get("failure_reason") else "")
        _check(checks, "ml_node %s" % node.get("id"), status not in _BAD_STATES, detail)
    if settings.get("account_address"):
        participation = info.get("participation")
        if participation is None:
            _check(checks, "participation", False, "not read: %s" % (errors.get("participation") or "no public API set"))
        else:
            listed = "listed" if participation["listed"] else "not listed"
            _check(checks, "participation", participation["listed"] and participation["weight"] > 0,
                   "%s in epoch %s, weight %s" % (listed, participation.get("epoch"), participation["weight"]))
    for host in sorted(hosts, key=lambda name: (name != network_node, name)):
        _host_checks(checks, host, hosts[host], min_free)
    return {"network_node": network_node, "ok": all(check["ok"] for check in checks), "checks": checks,
            "not_in_run": skipped,
            "chain": chain, "seed": info.get("seed"), "block_lag": info.get("block_lag"), "epoch": info.get("epoch"),
            "participation": info.get("participation"), "setup_report": info.get("setup_report"),
            "ml_nodes": nodes, "hosts": hosts}


def status_table(report):
    """The report as lines: a header, the ML nodes' table, then each check."""
    chain, seed, epoch = report.get("chain") or {}, report.get("seed") or {}, report.get("epoch") or {}
    participation = report.get("participation")
    lines = ["%s: height %s, seed %s, lag %s, %s; epoch %s %s; %s" % (
        report["network_node"], chain.get("height", "?"), seed.get("height", "?"),
        "?" if report.get("block_lag") is None else report["block_lag"],
        "catching up" if chain.get("catching_up") else ("in sync" if chain else "chain unknown"),
        epoch.get("index", "?"), epoch.get("phase") or "",
        "participant not read" if participation is None else "participant %s, weight %s" % (
            "listed" if participation["listed"] else "NOT listed", participation["weight"]))]
    lines.append(_ROW % ("node", "host:inference/poc", "models", "status", "admin"))
    lines.extend(status_row(entry, _ROW) for entry in report.get("ml_nodes") or [])
    lines.extend("%-4s %-40s %s" % ("ok" if check["ok"] else "FAIL", check["check"], check["detail"])
                 for check in report["checks"])
    lines.extend("%-4s %-40s %s" % ("-", host, "not in this run (--limit): not checked")
                 for host in report.get("not_in_run") or [])
    return lines


def status_failures(report):
    """'<network node>: <check>: <detail>' for each failed check."""
    return ["%s: %s: %s" % (report["network_node"], check["check"], check["detail"])
            for check in report["checks"] if not check["ok"]]


class FilterModule(object):
    def filters(self):
        return {"running_images": running_images, "status_report": status_report, "status_table": status_table,
                "status_failures": status_failures}
