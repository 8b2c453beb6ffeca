# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.gpu_facts on the real outputs of an NVIDIA H200 (tests/unit/fixtures/gpu/h200-x1),
and on multi-GPU and no-GPU hosts derived from them."""

from __future__ import annotations

import json
import os
import stat
import sys
import types

import pytest

from ansible_collections.gonka.fleet.plugins.module_utils import gpu
from ansible_collections.gonka.fleet.plugins.modules import gpu_facts

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "fixtures", "gpu", "h200-x1")
H200 = {"index": 0, "uuid": "GPU-fcb7ca97-bfcc-fefd-ace7-bc505d8b2d51", "name": "NVIDIA H200",
        "memory_mib": 143771, "compute_capability": "9.0", "pci_bus_id": "00000000:00:06.0"}


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def eight_h200_rows():
    """An 8 x H200 host, derived from the real row: new index, UUID and bus id per GPU."""
    line = fixture("query-gpu-noheader.csv").strip() + ", Disabled"
    rows = []
    for index in range(8):
        fields = [f.strip() for f in line.split(",")]
        fields[0] = str(index)
        fields[1] = fields[1][:-2] + "%02x" % index
        fields[6] = "00000000:%02X:00.0" % (0x18 + index)
        rows.append(", ".join(fields))
    return "\n".join(rows) + "\n"


# ---- parsing the real outputs -------------------------------------------------------------
def test_query_with_header_and_units():
    rows = gpu.parse_query_csv(fixture("query-gpu.csv"))
    assert len(rows) == 1
    assert rows[0]["memory.total"] == "143771"
    assert rows[0]["mig.mode.current"] == "Disabled"
    assert rows[0]["power.limit"] == "700.00"
    facts = gpu.facts_from_rows(rows, gpu.parse_cuda_version(fixture("nvidia-smi.txt")))
    assert facts["gpus"] == [dict(H200, mig_mode="disabled")]
    assert (facts["count"], facts["driver_version"], facts["cuda_version"]) == (1, "580.159.04", "13.0")


def test_query_noheader_nounits():
    rows = gpu.parse_query_csv(fixture("query-gpu-noheader.csv"))
    facts = gpu.facts_from_rows(rows)
    assert facts["gpus"] == [dict(H200, mig_mode=None)]
    assert facts["total_memory_mib"] == 143771
    assert facts["names"] == ["NVIDIA H200"]


def test_cuda_version_of_the_banner():
    assert gpu.parse_cuda_version(fixture("nvidia-smi.txt")) == "13.0"
    assert gpu.parse_cuda_version("no banner") is None


def test_eight_gpus():
    facts = gpu.facts_from_rows(gpu.parse_query_csv(eight_h200_rows()), "13.0")
    assert facts["count"] == 8
    assert facts["total_memory_mib"] == 8 * 143771
    assert [g["index"] for g in facts["gpus"]] == list(range(8))
    assert len(set(g["uuid"] for g in facts["gpus"])) == 8
    assert facts["gpus"][7]["pci_bus_id"] == "00000000:1F:00.0"


def test_missing_values_are_none():
    rows = gpu.parse_query_csv("0, GPU-x, NVIDIA H100 80GB HBM3, [N/A], 580.1, 9.0, 0000:01:00.0, [N/A]\n")
    facts = gpu.facts_from_rows(rows)
    assert facts["gpus"][0]["memory_mib"] is None and facts["gpus"][0]["mig_mode"] is None


# ---- NVML ----------------------------------------------------------------------------------
def fake_nvml(capture):
    """A pynvml stand-in answering with what NVML reported on the H200 (nvml.json)."""
    devices = capture["gpus"]
    module = types.ModuleType("pynvml")
    module.calls = []
    module.nvmlInit = lambda: module.calls.append("init")
    module.nvmlShutdown = lambda: module.calls.append("shutdown")
    module.nvmlSystemGetDriverVersion = lambda: capture["driver"]
    module.nvmlSystemGetCudaDriverVersion = lambda: capture["cuda_driver"]
    module.nvmlDeviceGetCount = lambda: len(devices)
    module.nvmlDeviceGetHandleByIndex = lambda i: devices[i]
    module.nvmlDeviceGetName = lambda d: d["name"]
    module.nvmlDeviceGetUUID = lambda d: d["uuid"].encode()       # older bindings return bytes
    module.nvmlDeviceGetMemoryInfo = lambda d: types.SimpleNamespace(total=d["mem_total"], used=d["mem_used"])
    module.nvmlDeviceGetCudaComputeCapability = lambda d: tuple(d["cc"])
    module.nvmlDeviceGetPciInfo = lambda d: types.SimpleNamespace(busId=d["pci"])

    def mig_mode(_device):
        raise RuntimeError("NVMLError_NotSupported")

    module.nvmlDeviceGetMigMode = mig_mode
    return module


def test_nvml_facts_equal_the_nvidia_smi_facts():
    nvml = gpu.facts_from_nvml(fake_nvml(json.loads(fixture("nvml.json"))))
    smi = gpu.facts_from_rows(gpu.parse_query_csv(fixture("query-gpu-noheader.csv")),
                              gpu.parse_cuda_version(fixture("nvidia-smi.txt")))
    assert nvml["source"] == "nvml"
    for key in ("count", "driver_version", "cuda_version", "total_memory_mib", "names", "gpus"):
        assert nvml[key] == smi[key], key


# ---- the module ----------------------------------------------------------------------------
@pytest.fixture
def fake_smi(tmp_path, monkeypatch):
    """Put an nvidia-smi on PATH that prints the given query output and the real banner."""

    def make(query_output, rc=0, stderr=""):
        (tmp_path / "query.csv").write_text(query_output)
        (tmp_path / "banner.txt").write_text(fixture("nvidia-smi.txt"))
        (tmp_path / "stderr.txt").write_text(stderr + "\n")
        script = tmp_path / "nvidia-smi"
        script.write_text("#!/bin/sh\n"
                          "if [ %d -ne 0 ]; then cat '%s' >&2; exit %d; fi\n"
                          "case \"$1\" in --query-gpu=*) cat '%s' ;; *) cat '%s' ;; esac\n"
                          % (rc, tmp_path / "stderr.txt", rc, tmp_path / "query.csv", tmp_path / "banner.txt"))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", "%s:%s" % (tmp_path, os.environ["PATH"]))
        return script

    monkeypatch.setitem(sys.modules, "pynvml", None)         # no NVML binding: nvidia-smi is used
    return make


def test_module_on_the_h200(run_module, fake_smi):
    fake_smi(fixture("query-gpu-noheader.csv").strip() + ", Disabled\n")
    result = run_module(gpu_facts, {})
    facts = result["ansible_facts"]["gonka_gpus"]
    assert result["changed"] is False
    assert facts["source"] == "nvidia-smi" and facts["error"] is None
    assert facts["gpus"] == [dict(H200, mig_mode="disabled")]
    assert facts["cuda_version"] == "13.0"


def test_module_on_eight_gpus(run_module, fake_smi):
    fake_smi(eight_h200_rows())
    facts = run_module(gpu_facts, {"source": "nvidia-smi"})["ansible_facts"]["gonka_gpus"]
    assert facts["count"] == 8 and facts["total_memory_mib"] == 1150168


def test_module_prefers_nvml(run_module, monkeypatch):
    nvml = fake_nvml(json.loads(fixture("nvml.json")))
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    facts = run_module(gpu_facts, {})["ansible_facts"]["gonka_gpus"]
    assert facts["source"] == "nvml" and facts["count"] == 1
    assert nvml.calls == ["init", "shutdown"]


def test_module_without_driver(run_module, fake_smi):
    fake_smi("", rc=9, stderr="NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")
    result = run_module(gpu_facts, {})
    facts = result["ansible_facts"]["gonka_gpus"]
    assert result.get("failed") is not True
    assert facts["count"] == 0 and facts["gpus"] == []
    assert "nvidia-smi failed (rc 9): NVIDIA-SMI has failed because it couldn't communicate" in facts["error"]


def test_module_without_gpu(run_module, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    result = run_module(gpu_facts, {"nvidia_smi": "nvidia-smi-that-does-not-exist"})
    facts = result["ansible_facts"]["gonka_gpus"]
    assert facts["count"] == 0 and facts["source"] == "none"
    assert "nvidia-smi-that-does-not-exist not found: no NVIDIA driver on this host" in facts["error"]
