# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the model catalog and the host checks of the preflight role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.gonka.fleet.plugins.plugin_utils.catalog import (
    CatalogError, catalog_entry, tensor_parallel_size, vllm_args as _vllm_args)

GB = 1000 ** 3
MIB = 1024 ** 2


def vllm_args(model, catalog, gpu_memory_mib=None, override=None, host="?"):
    try:
        return _vllm_args(catalog, model, gpu_memory_mib, override, host)
    except CatalogError as exc:
        raise AnsibleFilterError(str(exc))


def _row(check, wanted, found, ok, measured=True):
    """One row; a check that could not measure is not a failure, and says so (measured false)."""
    return {"check": check, "wanted": wanted, "found": found, "ok": bool(ok), "measured": measured}


def _free_bytes(path, disk_free):
    """Bytes free where ``path`` lives (disk_free module's ``paths``), None when not measured."""
    return ((disk_free or {}).get(path) or {}).get("free_bytes")


def _version_row(check, found, minimum, install_note):
    if not found:
        return _row(check, ">= %s" % minimum, "not installed (%s)" % install_note, True)
    return _row(check, ">= %s" % minimum, found, LooseVersion(found.lstrip("v")) >= LooseVersion(minimum))


def _ml_rows(inputs, facts, memory_mb):
    ml = inputs["ml_node"]
    catalog = inputs.get("catalog") or {}
    gpu_memory = [int(memory) for memory in ml.get("gpu_memory_mib") or []]
    rows = []
    if boolean(ml.get("gpus_requested"), strict=False):
        gpus = inputs.get("gpus") or {}
        rows.append(_row("GPUs", "at least 1 with a working driver",
                         "%d (%s)" % (len(gpu_memory), ", ".join(gpus.get("names") or []) or gpus.get("error") or "none"),
                         gpu_memory))
        vram_gib, ratio = sum(gpu_memory) / 1024.0, float(inputs["minimums"]["memory_per_vram"])
        wanted_mb = ratio * vram_gib * 1024
        rows.append(_row("RAM for the GPU memory", ">= %g x %.0f GiB VRAM = %.0f GiB" % (
            ratio, vram_gib, wanted_mb / 1024.0), "%.0f GiB" % (memory_mb / 1024.0),
            memory_mb >= wanted_mb))
    for model in ml.get("models") or []:
        try:
            entry = catalog_entry(catalog, model, inputs["host"])
            size = tensor_parallel_size(entry, gpu_memory, inputs["host"], model)
            found, ok = ("tensor parallel %d" % size if size else "no GPU given to the container"), True
        except CatalogError as exc:
            entry, found, ok = {}, str(exc).split(": ", 1)[1], False
        rows.append(_row("GPU memory for %s" % model, "%s GiB per instance" % entry.get("min_vram_gib", "?"), found, ok))
    weights_gb = sum(float((catalog.get(model) or {}).get("weights_gb") or 0) for model in ml.get("models") or [])
    free = _free_bytes(ml["hf_home"], inputs.get("disk_free"))
    rows.append(_row("disk free for the weights", ">= %g GB in %s" % (weights_gb, ml["hf_home"]),
                     "%.0f GB" % (free / GB) if free is not None else "unknown",
                     free is not None and free >= weights_gb * GB))
    return rows


def preflight_checks(inputs):
    """Rows (check, wanted, found, ok) of one host against the minimums of its kinds.

    ``inputs``: host, facts (architecture, processor_nproc, memtotal_mb), disk_free (the ``paths`` of
    gonka.fleet.disk_free), minimums
    (architectures, cores, memory_gb; chain_disk_free_gb for a network node, memory_per_vram for an
    ML node), docker_version, compose_version, docker_min_version, ports (published by the roles),
    listening (listen_ports_facts' tcp_listen; None when it could not run, listening_error saying
    why: the port rows then say so), network_node (its data directory) and/or ml_node (the ML
    node's resources fact: hf_home, models, gpus_requested, gpu_memory_mib), gpus (gonka_gpus)
    and catalog.
    """
    facts = inputs.get("facts") or {}
    minimums = dict(inputs["minimums"], cores=int(inputs["minimums"]["cores"]),
                    memory_gb=float(inputs["minimums"]["memory_gb"]))
    memory_mb = int(facts.get("memtotal_mb") or 0)
    cores = int(facts.get("processor_nproc") or 0)
    rows = [
        _row("architecture", " or ".join(minimums["architectures"]), facts.get("architecture"),
             facts.get("architecture") in minimums["architectures"]),
        _row("CPU cores", ">= %d" % minimums["cores"], cores, cores >= minimums["cores"]),
        _row("RAM", ">= %g GB" % minimums["memory_gb"], "%.0f GB" % (memory_mb * MIB / GB),
             memory_mb * MIB >= minimums["memory_gb"] * GB),
    ]
    data_dir = inputs.get("network_node")
    if data_dir:
        free = _free_bytes(data_dir, inputs.get("disk_free"))
        wanted_gb = float(minimums["chain_disk_free_gb"])
        rows.append(_row("disk free for the chain", ">= %g GB in %s" % (wanted_gb, data_dir),
                         "%.0f GB" % (free / GB) if free is not None else "unknown",
                         free is not None and free >= wanted_gb * GB))
    if inputs.get("ml_node"):
        rows.extend(_ml_rows(inputs, facts, memory_mb))
    rows.append(_version_row("Docker Engine", inputs.get("docker_version"), inputs["docker_min_version"],
                             "the docker role installs it"))
    rows.append(_version_row("Docker Compose", inputs.get("compose_version"), "2", "the docker role installs v2"))
    listening = inputs.get("listening")
    taken = dict((int(entry["port"]), entry.get("name") or "?") for entry in listening or []
                 if entry.get("name") != "docker-proxy")
    for port in sorted(set(int(port) for port in inputs.get("ports") or [])):
        if listening is None:
            rows.append(_row("port %d" % port, "free or published by Docker",
                             "not measured (%s)" % (inputs.get("listening_error") or "no ss or netstat"), True, False))
            continue
        rows.append(_row("port %d" % port, "free or published by Docker", "used by %s" % taken[port]
                         if port in taken else "free", port not in taken))
    return rows


def preflight_table(rows, host):
    """The rows as one aligned text table, first line naming the host."""
    header = ("check", "wanted", "found", "")
    lines = [header] + [(row["check"], str(row["wanted"]), str(row["found"]),
                         "?" if not row.get("measured", True) else "ok" if row["ok"] else "FAIL")
                        for row in rows]
    widths = [max(len(line[column]) for line in lines) for column in range(3)]
    text = ["%s preflight" % host]
    text.extend("  ".join(cell.ljust(width) for cell, width in zip(line, widths + [0])).rstrip() for line in lines)
    return text


class FilterModule(object):
    def filters(self):
        return {"vllm_args": vllm_args, "preflight_checks": preflight_checks, "preflight_table": preflight_table}
