# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model catalog filters (vllm_args, tensor-parallel choice) and the preflight checks."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.models import preflight_checks, preflight_table, vllm_args

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "roles", "model_catalog", "defaults", "main.yml"), encoding="utf-8") as _handle:
    CATALOG = yaml.safe_load(_handle)["gonka_model_catalog"]
SMALL = "Qwen/Qwen3-32B-FP8"
LARGE = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
FP8 = ["--quantization", "fp8", "--kv-cache-dtype", "fp8"]
# memory.total of the H200 in tests/unit/fixtures/gpu/h200-x1/query-gpu-noheader.csv, and the
# usual totals of the other cards the network lists (MiB as nvidia-smi reports them)
H200 = 143771
H100 = 81559
A100 = 81920
RTX4090 = 24564


@pytest.mark.parametrize("model, gpus, expected", [
    (SMALL, [], FP8),                                         # no GPU given (the lab): catalog args only
    (SMALL, [H200], FP8),                                     # 1 x H200 holds the 32B model
    (SMALL, [H100] * 8, FP8),                                 # one GPU per instance, 8 instances
    (SMALL, [RTX4090] * 8, FP8 + ["--tensor-parallel-size", "4"]),  # 64 GiB = 3 cards -> TP 4
    (LARGE, [H200] * 8, FP8 + ["--tensor-parallel-size", "4"]),     # 2 x 140 GiB < 300 GiB
    (LARGE, [H100] * 4, FP8 + ["--tensor-parallel-size", "4"]),     # the published 235B layout
    (LARGE, [A100] * 8, FP8 + ["--tensor-parallel-size", "4"]),
])
def test_tensor_parallel_choice(model, gpus, expected):
    assert vllm_args(model, CATALOG, gpus, None, "ml1") == expected


def test_model_that_does_not_fit_names_host_and_model():
    with pytest.raises(AnsibleFilterError, match=r"ml1: model 'Qwen/Qwen3-235B-A22B-Instruct-2507-FP8' needs 300 GiB.*"
                                                 r"2 GPU\(s\) of 140\.4 GiB"):
        vllm_args(LARGE, CATALOG, [H200, H200], None, "ml1")


def test_unknown_model_names_host_and_model():
    with pytest.raises(AnsibleFilterError, match=r"ml7: model .acme/none. of gonka_ml_node_models is not in the model catalog"):
        vllm_args("acme/none", CATALOG, [H200], None, "ml7")


def test_host_override_replaces_args_and_keeps_its_own_parallelism():
    override = ["--quantization", "fp8", "--tensor-parallel-size=2"]
    assert vllm_args(LARGE, CATALOG, [H200] * 8, override, "ml1") == override
    assert vllm_args(LARGE, CATALOG, [H100] * 4, ["--max-model-len", 240000], "ml1") == [
        "--max-model-len", "240000", "--tensor-parallel-size", "4"]
    # a model only the host knows: its arguments, nothing added without a memory figure
    assert vllm_args("acme/tiny", CATALOG, [H200], ["--dtype", "bfloat16"], "ml1") == ["--dtype", "bfloat16"]


MINIMUMS = {"architectures": ["x86_64"], "cores": 16, "memory_gb": 64, "memory_per_vram": 1.5, "chain_disk_free_gb": 250}
DISK = {"/opt/gonka": {"free_bytes": 2000 * 1000 ** 3}, "/mnt/shared": {"free_bytes": 100 * 1000 ** 3}}


def inputs(**changes):
    value = {"host": "ml1", "facts": {"architecture": "x86_64", "processor_nproc": 32, "memtotal_mb": 2 * 1024 ** 2},
             "disk_free": DISK,
             "minimums": MINIMUMS, "docker_version": "26.1.5", "compose_version": "2.26.1", "docker_min_version": "20.10",
             "ports": [5050, 8080], "listening": [], "catalog": CATALOG, "gpus": {"names": ["NVIDIA H200"]},
             "ml_node": {"hf_home": "/mnt/shared", "models": [SMALL], "gpus_requested": True,
                         "gpu_memory_mib": [H200] * 8}}
    value.update(changes)
    return value


def failed(rows):
    return [row["check"] for row in rows if not row["ok"]]


def test_a_fitting_ml_host_passes_every_check():
    rows = preflight_checks(inputs())
    assert failed(rows) == []
    assert [row["check"] for row in rows] == [
        "architecture", "CPU cores", "RAM", "GPUs", "RAM for the GPU memory", "GPU memory for %s" % SMALL,
        "disk free for the weights", "Docker Engine", "Docker Compose", "port 5050", "port 8080"]


def test_ml_host_shortfalls_each_fail_their_own_check():
    rows = preflight_checks(inputs(
        facts={"architecture": "aarch64", "processor_nproc": 8, "memtotal_mb": 1024 ** 2},
        compose_version="1.29.2",
        listening=[{"port": 8080, "name": "nginx"}, {"port": 5050, "name": "docker-proxy"}],
        ml_node={"hf_home": "/mnt/shared", "models": [SMALL, LARGE], "gpus_requested": True,
                 "gpu_memory_mib": [H200, H200]}))
    # 1 TiB of RAM < 1.5 x 280 GiB? no: 1024 GiB >= 421 GiB; the 235B model does not fit 2 x H200;
    # 273 GB of weights do not fit 100 GB
    assert failed(rows) == ["architecture", "CPU cores", "GPU memory for %s" % LARGE,
                            "disk free for the weights", "Docker Compose", "port 8080"]
    assert rows[-1]["found"] == "used by nginx"


def test_memory_must_be_one_and_a_half_times_the_gpu_memory():
    small_ram = inputs(facts={"architecture": "x86_64", "processor_nproc": 32, "memtotal_mb": 1024 * 1024})
    assert failed(preflight_checks(small_ram)) == ["RAM for the GPU memory"]   # 1 TiB < 1.5 x 8 x 140 GiB


def test_no_gpu_found_fails_when_gpus_are_requested():
    rows = preflight_checks(inputs(gpus={"names": [], "error": "nvidia-smi not found"},
                                   ml_node={"hf_home": "/mnt/shared", "models": [SMALL], "gpus_requested": True,
                                            "gpu_memory_mib": []}))
    assert failed(rows) == ["GPUs"]
    assert "nvidia-smi not found" in rows[3]["found"]


def test_network_node_disk_and_missing_docker():
    rows = preflight_checks(inputs(ml_node=None, docker_version=None, compose_version=None, ports=[8000],
                                   network_node="/opt/gonka", minimums=dict(MINIMUMS, chain_disk_free_gb=3000)))
    assert failed(rows) == ["disk free for the chain"]
    assert rows[4]["found"] == "not installed (the docker role installs it)"


def test_table_names_the_host_and_aligns_columns():
    lines = preflight_table(preflight_checks(inputs(ports=[])), "ml1")
    assert lines[0] == "ml1 preflight"
    assert lines[1].split() == ["check", "wanted", "found"]
    assert lines[2].startswith("architecture ") and lines[2].endswith("ok")
    wanted, found = lines[1].index("wanted"), lines[1].index("found")
    assert lines[2][wanted:].startswith("x86_64 ") and lines[2][found:].startswith("x86_64 ")
    assert lines[3][wanted:].startswith(">= 16 ") and lines[3][found:].startswith("32 ")


def test_ports_that_cannot_be_measured_say_so_and_do_not_fail():
    """A GPU server image without ss or netstat (seen on an H200 with Ubuntu 24.04): the port rows
    say why they were not measured, the table marks them '?', and nothing fails."""
    rows = preflight_checks(inputs(listening=None,
                                   listening_error="Unable to find netstat or ss in PATH"))
    ports = [row for row in rows if row["check"].startswith("port ")]
    assert [row["check"] for row in ports] == ["port 5050", "port 8080"]
    assert all(row["found"] == "not measured (Unable to find netstat or ss in PATH)" for row in ports)
    assert failed(rows) == []
    assert preflight_table(rows, "ml1")[-1].endswith("?")
