# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU inventory of a host: from NVML (nvidia-ml-py) when it is importable, else from nvidia-smi.

Every value ends up in the same shape (see empty_facts()), whichever source gave it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The nvidia-smi query the module runs (csv, noheader, nounits), in this order.
QUERY_FIELDS = ("index", "uuid", "name", "memory.total", "driver_version", "compute_cap", "pci.bus_id",
                "mig.mode.current")
_UNIT = re.compile(r"^(-?[0-9.]+)\s*(MiB|W|MHz|%)$")
_CUDA = re.compile(r"CUDA Version:\s*([0-9.]+)")
_MISSING = ("[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "")


def empty_facts(source="none"):
    return {"source": source, "count": 0, "driver_version": None, "cuda_version": None,
            "total_memory_mib": 0, "names": [], "gpus": [], "error": None}


def _value(text):
    text = text.strip()
    if text in _MISSING:
        return None
    match = _UNIT.match(text)
    return match.group(1) if match else text


def _header_name(column):
    return column.strip().split(" [", 1)[0]


def parse_query_csv(text, fields=QUERY_FIELDS):
    """Rows of ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`` as dicts.

    With a header line the columns are named by it (units such as "[MiB]" dropped); without one
    they are ``fields`` in order. Units in values ("143771 MiB") are dropped; "[N/A]" is None.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    names = list(fields)
    if lines[0].lstrip().startswith("index,") or "[MiB]" in lines[0]:
        names = [_header_name(column) for column in lines[0].split(",")]
        lines = lines[1:]
    rows = []
    for line in lines:
        values = [_value(v) for v in line.split(",")]
        rows.append(dict(zip(names, values)))
    return rows


def parse_cuda_version(nvidia_smi_text):
    """The "CUDA Version" of plain nvidia-smi's banner (the highest the driver supports)."""
    match = _CUDA.search(nvidia_smi_text or "")
    return match.group(1) if match else None


def _int(value):
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def facts_from_rows(rows, cuda_version=None, source="nvidia-smi"):
    facts = empty_facts(source)
    for row in rows:
        mig = row.get("mig.mode.current")
        facts["gpus"].append({
            "index": _int(row.get("index")),
            "uuid": row.get("uuid"),
            "name": row.get("name"),
            "memory_mib": _int(row.get("memory.total")),
            "compute_capability": row.get("compute_cap"),
            "pci_bus_id": row.get("pci.bus_id"),
            "mig_mode": mig.lower() if mig else None,
        })
    return _summarize(facts, rows[0].get("driver_version") if rows else None, cuda_version)


def _summarize(facts, driver_version, cuda_version):
    facts["gpus"].sort(key=lambda gpu: gpu["index"] if gpu["index"] is not None else -1)
    facts["count"] = len(facts["gpus"])
    facts["driver_version"] = driver_version
    facts["cuda_version"] = cuda_version
    facts["total_memory_mib"] = sum(gpu["memory_mib"] or 0 for gpu in facts["gpus"])
    facts["names"] = sorted(set(gpu["name"] for gpu in facts["gpus"] if gpu["name"]))
    return facts


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def facts_from_nvml(nvml):
    """Facts from an initialised NVML binding (the ``pynvml`` module of nvidia-ml-py)."""
    facts = empty_facts("nvml")
    cuda = nvml.nvmlSystemGetCudaDriverVersion()
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
        try:
            current, _pending = nvml.nvmlDeviceGetMigMode(handle)
            mig = "enabled" if current else "disabled"
        except Exception:  # pylint: disable=broad-except  # NVMLError_NotSupported on GPUs without MIG
            mig = None
        facts["gpus"].append({
            "index": index,
            "uuid": _text(nvml.nvmlDeviceGetUUID(handle)),
            "name": _text(nvml.nvmlDeviceGetName(handle)),
            "memory_mib": int(nvml.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024)),
            "compute_capability": "%d.%d" % (major, minor),
            "pci_bus_id": _text(nvml.nvmlDeviceGetPciInfo(handle).busId),
            "mig_mode": mig,
        })
    return _summarize(facts, _text(nvml.nvmlSystemGetDriverVersion()),
                      "%d.%d" % (cuda // 1000, (cuda % 1000) // 10))
