# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in programs of the lab's apt repository (lab/apt/) behave like the real ones on what
the roles rely on: nvidia-smi answers gpu_facts' query as the captured H200 does, and nvidia-ctk
merges the nvidia runtime into daemon.json keeping every other key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.gonka.fleet.plugins.module_utils import gpu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APT = os.path.join(ROOT, "lab", "apt")
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "gpu", "h200-x1")


def run(program, *args, **env):
    result = subprocess.run([sys.executable, os.path.join(APT, program + ".py")] + list(args), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env), check=False)
    return result.returncode, result.stdout


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def test_nvidia_smi_answers_the_module_query_like_the_captured_h200():
    rc, out = run("nvidia-smi", "--query-gpu=%s" % ",".join(gpu.QUERY_FIELDS), "--format=csv,noheader,nounits",
                  NVIDIA_SMI_STANDIN_DATA=FIXTURES)
    assert rc == 0
    # the captured noheader query has the same first seven columns (it was taken without mig.mode.current)
    assert [line.rsplit(", ", 1)[0] for line in out.splitlines()] == fixture("query-gpu-noheader.csv").splitlines()
    facts = gpu.facts_from_rows(gpu.parse_query_csv(out))
    assert facts["count"] == 1 and facts["names"] == ["NVIDIA H200"] and facts["total_memory_mib"] == 143771
    assert facts["gpus"][0]["mig_mode"] == "disabled"


def test_nvidia_smi_header_units_banner_and_bad_field():
    rc, out = run("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv", NVIDIA_SMI_STANDIN_DATA=FIXTURES)
    assert (rc, out) == (0, "name, memory.total [MiB]\nNVIDIA H200, 143771 MiB\n")
    rc, out = run("nvidia-smi", NVIDIA_SMI_STANDIN_DATA=FIXTURES)
    assert rc == 0 and out == fixture("nvidia-smi.txt")
    assert gpu.parse_cuda_version(out) == "13.0"
    rc, out = run("nvidia-smi", "--query-gpu=name,bogus", "--format=csv", NVIDIA_SMI_STANDIN_DATA=FIXTURES)
    assert rc == 2 and 'Field "bogus" is not a valid field to query.' in out


def test_nvidia_ctk_merges_the_runtime_and_keeps_other_keys(tmp_path):
    config = tmp_path / "daemon.json"
    config.write_text(json.dumps({"log-opts": {"max-size": "100m"}, "runtimes": {"other": {"path": "x"}}}))
    log = tmp_path / "ctk.log"
    rc, out = run("nvidia-ctk", "runtime", "configure", "--runtime=docker", "--config=%s" % config,
                  NVIDIA_CTK_STANDIN_LOG=str(log))
    assert rc == 0 and "It is recommended that docker daemon be restarted." in out
    assert json.loads(config.read_text()) == {
        "log-opts": {"max-size": "100m"},
        "runtimes": {"other": {"path": "x"}, "nvidia": {"args": [], "path": "nvidia-container-runtime"}}}
    assert config.read_text().startswith('{\n    "log-opts"')          # 4-space indent, as the real one
    rc, out = run("nvidia-ctk", "--version", NVIDIA_CTK_STANDIN_LOG=str(log))
    assert rc == 0 and out.startswith("NVIDIA Container Toolkit CLI version ")
    assert [line.split(" ", 1)[1] for line in log.read_text().splitlines()] == [
        "runtime configure --runtime=docker --config=%s" % config, "--version"]


def test_nvidia_ctk_refuses_what_it_does_not_know(tmp_path):
    rc, _out = run("nvidia-ctk", "runtime", "configure", "--runtime=containerd", NVIDIA_CTK_STANDIN_LOG=str(tmp_path / "l"))
    assert rc == 1
