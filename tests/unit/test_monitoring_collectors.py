# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two textfile collectors of gonka.fleet.monitoring (roles/monitoring/files/): the GPU collector
on the outputs captured on a real H200 (through the lab's nvidia-smi stand-in, which answers from
them), the chain collector against the repository's simulators of the chain node, the Admin API and
the public API."""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.gonka.fleet.tests.simulators import admin_api, chain_node, gonka_api, inferenced
from ansible_collections.gonka.fleet.tests.unit.helpers import node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(ROOT, "roles", "monitoring", "files")
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "gpu", "h200-x1")
STANDIN = os.path.join(ROOT, "lab", "apt", "nvidia-smi.py")
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FILES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_metrics = load("gonka_gpu_metrics")
chain_metrics = load("gonka_chain_metrics")


def samples(text):
    """{(metric, ((label, value), ...)): float} of a text exposition; fails on a malformed line."""
    found = {}
    helped = set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            helped.add(line.split()[2])
            continue
        match = _SAMPLE.match(line)
        assert match, "not a sample line: %r" % line
        name, labels, value = match.groups()
        assert name in helped, "%s has no HELP/TYPE before its samples" % name
        key = (name, tuple(sorted(_LABEL.findall(labels or ""))))
        assert key not in found, "duplicate sample %r" % (key,)
        found[key] = float(value)
    return found


def value(found, metric, **labels):
    return found[(metric, tuple(sorted(labels.items())))]


@pytest.fixture
def standin(tmp_path):
    """An nvidia-smi program that is the lab's stand-in reading the captured H200 outputs."""
    program = tmp_path / "nvidia-smi"
    program.write_text("#!/bin/sh\nNVIDIA_SMI_STANDIN_DATA=%s exec %s %s \"$@\"\n" % (FIXTURES, sys.executable, STANDIN))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return str(program)


# ---- GPU collector ----------------------------------------------------------------------
def test_gpu_parser_reads_the_captured_noheader_query():
    fields = ("index", "uuid", "name", "memory.total", "driver_version", "compute_cap", "pci.bus_id")
    with open(os.path.join(FIXTURES, "query-gpu-noheader.csv"), encoding="utf-8") as handle:
        rows = gpu_metrics.parse_csv(fields, handle.read())
    assert rows == [{"index": "0", "uuid": "GPU-fcb7ca97-bfcc-fefd-ace7-bc505d8b2d51", "name": "NVIDIA H200",
                     "memory.total": "143771", "driver_version": "580.159.04", "compute_cap": "9.0",
                     "pci.bus_id": "00000000:00:06.0"}]


def test_gpu_parser_drops_not_available_and_refuses_a_short_row():
    rows = gpu_metrics.parse_csv(("index", "power.draw", "fan.speed"), "0, [N/A], [Not Supported]\n\n")
    assert rows == [{"index": "0", "power.draw": None, "fan.speed": None}]
    with pytest.raises(ValueError):
        gpu_metrics.parse_csv(("index", "name"), "0\n")


def test_gpu_collector_on_the_captured_h200(standin, tmp_path):
    out = tmp_path / "gonka_gpu.prom"
    assert gpu_metrics.main(["--output", str(out), "--expected", "1", "--nvidia-smi", standin]) == 0
    found = samples(out.read_text())
    gpu = dict(gpu="0", uuid="GPU-fcb7ca97-bfcc-fefd-ace7-bc505d8b2d51", name="NVIDIA H200")
    assert value(found, "gonka_gpu_scrape_success") == 1
    assert value(found, "gonka_gpu_count") == 1
    assert value(found, "gonka_gpu_expected") == 1
    # query-gpu.csv: memory.total 143771 MiB, memory.used 0 MiB, power.limit 700.00 W
    assert value(found, "gonka_gpu_memory_total_bytes", **gpu) == 143771 * 1024 * 1024
    assert value(found, "gonka_gpu_memory_used_bytes", **gpu) == 0
    assert value(found, "gonka_gpu_power_limit_watts", **gpu) == 700
    # nvidia-smi-q.xml: gpu_util 0 %, gpu_temp 37 C, average_power_draw 128.86 W
    assert value(found, "gonka_gpu_utilization_ratio", **gpu) == 0
    assert value(found, "gonka_gpu_temperature_celsius", **gpu) == 37
    assert value(found, "gonka_gpu_power_draw_watts", **gpu) == pytest.approx(128.86)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gonka_gpu.prom", "nvidia-smi"]   # no temporary left


def test_gpu_collector_leaves_out_what_nvidia_smi_does_not_report(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("query-gpu.csv", "nvidia-smi.txt"):      # no nvidia-smi-q.xml: those fields are [N/A]
        (data / name).write_text((open(os.path.join(FIXTURES, name), encoding="utf-8")).read())
    program = tmp_path / "nvidia-smi"
    program.write_text("#!/bin/sh\nNVIDIA_SMI_STANDIN_DATA=%s exec %s %s \"$@\"\n" % (data, sys.executable, STANDIN))
    program.chmod(0o755)
    out = tmp_path / "gonka_gpu.prom"
    gpu_metrics.main(["--output", str(out), "--expected", "1", "--nvidia-smi", str(program)])
    names = {name for name, _labels in samples(out.read_text())}
    assert "gonka_gpu_memory_total_bytes" in names and "gonka_gpu_power_limit_watts" in names
    assert not names & {"gonka_gpu_utilization_ratio", "gonka_gpu_temperature_celsius", "gonka_gpu_power_draw_watts"}


@pytest.mark.parametrize("program", ["missing", "failing"])
def test_gpu_collector_reports_a_gone_driver(tmp_path, program):
    path = str(tmp_path / "no-such-nvidia-smi")
    if program == "failing":     # what nvidia-smi prints when the driver is not loaded
        path = str(tmp_path / "nvidia-smi")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\necho 'NVIDIA-SMI has failed because it couldn'\"'\"'t communicate with the "
                         "NVIDIA driver.'\nexit 9\n")
        os.chmod(path, 0o755)
    out = tmp_path / "gonka_gpu.prom"
    assert gpu_metrics.main(["--output", str(out), "--expected", "8", "--nvidia-smi", path]) == 0
    found = samples(out.read_text())
    assert found == {("gonka_gpu_scrape_success", ()): 0, ("gonka_gpu_count", ()): 0,
                     ("gonka_gpu_expected", ()): 8}


def test_gpu_collector_replaces_the_file_atomically(standin, tmp_path, monkeypatch):
    out = tmp_path / "gonka_gpu.prom"
    out.write_text("old\n")
    calls = []
    real = os.replace
    monkeypatch.setattr(gpu_metrics.os, "replace", lambda src, dst: calls.append((src, dst)) or real(src, dst))
    gpu_metrics.main(["--output", str(out), "--nvidia-smi", standin])
    (src, dst), = calls
    assert os.path.dirname(src) == str(tmp_path) and not src.endswith(".prom") and dst == str(out)
    assert oct(out.stat().st_mode & 0o777) == "0o644"


# ---- chain collector --------------------------------------------------------------------
@pytest.fixture
def fleet(tmp_path):
    """A chain node, a seed chain node ahead of it, and an api (Admin API + public API) on loopback."""
    servers = []
    local = chain_node.Chain(block_seconds=1.0)
    seed = chain_node.Chain(block_seconds=1.0, genesis=time.time() - 120)     # ~120 blocks ahead
    for chain in (local, seed):
        servers.append(chain_node.serve_rpc(chain, host="127.0.0.1", port=0))
    sim = admin_api.Simulator(epoch=7)
    admin = admin_api.serve_in_thread(sim)
    public = gonka_api.serve(0, gonka_api.PublicHandler, host="127.0.0.1", sim=sim,
                             participants=gonka_api.Participants(str(tmp_path / "participants.json")))
    servers += [admin, public]

    class Fleet(object):
        pass

    lab = Fleet()
    lab.local, lab.seed, lab.sim = local, seed, sim
    lab.rpc_url, lab.seed_url = ["http://127.0.0.1:%d" % s.server_address[1] for s in servers[:2]]
    lab.admin_url = admin.url
    lab.api_url = "http://127.0.0.1:%d" % public.server_address[1]
    lab.args = ["--rpc-url", lab.rpc_url, "--seed-rpc-url", lab.seed_url + "/", "--admin-url", lab.admin_url,
                "--api-url", lab.api_url, "--timeout", "2"]
    yield lab
    for server in servers:
        server.shutdown()
        server.server_close()


def run_chain(args, tmp_path):
    out = tmp_path / "gonka_chain.prom"
    assert chain_metrics.main(args + ["--output", str(out)]) == 0
    return samples(out.read_text())


def test_chain_collector_heights_epoch_and_ml_nodes(fleet, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNT_PUBKEY", "AkxhYk9ubHlBY2NvdW50UHVibGljS2V5U3RhbmRJbg==")
    account = inferenced.address_of("AkxhYk9ubHlBY2NvdW50UHVibGljS2V5U3RhbmRJbg==")   # the participant's index
    fleet.sim.create(node("ml1", "10.0.0.11"))
    fleet.sim.create(node("ml2", "10.0.0.12"))
    fleet.sim.set_status("ml2", "FAILED", "unreachable")
    fleet.sim.set_enabled("ml2", False)
    found = run_chain(fleet.args + ["--participant", account], tmp_path)
    height, seed_height = value(found, "gonka_block_height"), value(found, "gonka_seed_block_height")
    assert 1 <= height <= fleet.local.height() and 115 <= seed_height - height <= 125
    assert value(found, "gonka_catching_up") == 0
    assert abs(value(found, "gonka_latest_block_time_seconds") - time.time()) < 5
    assert value(found, "gonka_epoch") == 7
    assert value(found, "gonka_participant_active") == 1
    assert value(found, "gonka_participant_weight") == 2          # the stand-in's weight: its node count
    assert value(found, "gonka_ml_nodes") == 2
    for source in ("chain_rpc", "seed_rpc", "admin_api", "public_api"):
        assert value(found, "gonka_exporter_source_up", source=source) == 1
    # one-hot statuses: exactly one 1 per node
    for node_id, status in (("ml1", "UNKNOWN"), ("ml2", "FAILED")):
        row = {labels[1][1]: v for (name, labels), v in found.items()
               if name == "gonka_ml_node_status" and labels[0] == ("node", node_id)}
        assert row == {s: (1 if s == status else 0) for s in chain_metrics.STATUSES}
        assert value(found, "gonka_ml_node_poc_status", node=node_id, status="IDLE") == 1
    assert value(found, "gonka_ml_node_enabled", node="ml1") == 1
    assert value(found, "gonka_ml_node_enabled", node="ml2") == 0
    assert value(found, "gonka_ml_node_info", node="ml2", host="10.0.0.12") == 1


def test_chain_collector_catching_up_and_other_participant(fleet, tmp_path):
    fleet.local.sync_seconds = 3600         # a node that syncs: catching_up, behind
    found = run_chain(fleet.args + ["--participant", "gonka1someoneelse"], tmp_path)
    assert value(found, "gonka_catching_up") == 1
    assert value(found, "gonka_ml_nodes") == 0
    assert ("gonka_epoch", ()) in found
    # no node registered: the stand-in lists no participant, so ours is not active and has no weight
    assert value(found, "gonka_participant_active") == 0 and ("gonka_participant_weight", ()) not in found


def test_chain_collector_reports_sources_that_do_not_answer(fleet, tmp_path, closed_port, capsys):
    args = ["--rpc-url", closed_port, "--seed-rpc-url", fleet.seed_url, "--admin-url", closed_port,
            "--api-url", fleet.rpc_url, "--timeout", "2"]            # the api URL answers 404 there
    found = run_chain(args, tmp_path)
    assert value(found, "gonka_exporter_source_up", source="chain_rpc") == 0
    assert value(found, "gonka_exporter_source_up", source="seed_rpc") == 1
    assert value(found, "gonka_exporter_source_up", source="admin_api") == 0
    assert value(found, "gonka_exporter_source_up", source="public_api") == 0
    names = {name for name, _labels in found}
    assert names == {"gonka_seed_block_height", "gonka_exporter_source_up"}    # nothing made up
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["chain_rpc", "admin_api", "public_api"]
    assert "HTTP 404" in errors[2]


def test_chain_collector_epoch_zero_means_the_api_is_up(fleet, tmp_path, monkeypatch):
    # R6.4: before the first epoch the route answers 400; the api answered, there is no epoch yet
    monkeypatch.setattr(gonka_api.PublicHandler, "do_GET", lambda self: self.send_json(400, {"error": "epoch 0"}))
    found = run_chain(["--rpc-url", fleet.rpc_url, "--api-url", fleet.api_url], tmp_path)
    assert value(found, "gonka_exporter_source_up", source="public_api") == 1
    assert ("gonka_epoch", ()) not in found
    assert ("gonka_exporter_source_up", (("source", "seed_rpc"),)) not in found     # not asked


def test_chain_collector_keeps_a_status_outside_the_enum(fleet, tmp_path):
    fleet.sim.create(node("ml1", "10.0.0.11"))
    fleet.sim.set_status("ml1", "SOMETHING_NEW")
    found = run_chain(["--rpc-url", fleet.rpc_url, "--admin-url", fleet.admin_url], tmp_path)
    assert value(found, "gonka_ml_node_status", node="ml1", status="SOMETHING_NEW") == 1
    assert value(found, "gonka_ml_node_status", node="ml1", status="UNKNOWN") == 0


def test_time_parser():
    assert chain_metrics.parse_time("1970-01-01T00:00:10.5Z") == 10.5
    assert chain_metrics.parse_time("2025-08-25T10:00:00.123456789Z") == pytest.approx(1756116000.123456789)
    assert chain_metrics.parse_time("1970-01-01T01:00:00+01:00") == 0
    assert chain_metrics.parse_time("yesterday") is None


@pytest.mark.parametrize("script", ["gonka_gpu_metrics", "gonka_chain_metrics"])
def test_scripts_run_as_programs(script, tmp_path, closed_port):
    args = {"gonka_gpu_metrics": ["--nvidia-smi", str(tmp_path / "none")],
            "gonka_chain_metrics": ["--rpc-url", closed_port, "--timeout", "1"]}[script]
    out = tmp_path / "x.prom"
    result = subprocess.run([sys.executable, os.path.join(FILES, script + ".py"), "--output", str(out)] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 0 and samples(out.read_text())


def test_standin_answers_the_collector_fields_with_units_like_the_real_tool():
    result = subprocess.run([sys.executable, STANDIN, "--query-gpu=index,utilization.gpu,temperature.gpu,power.draw,fan.speed",
                             "--format=csv"], stdout=subprocess.PIPE, text=True, check=False,
                            env=dict(os.environ, NVIDIA_SMI_STANDIN_DATA=FIXTURES))
    # values of nvidia-smi-q.xml (gpu_util, gpu_temp, average_power_draw, fan_speed N/A)
    assert (result.returncode, result.stdout) == (0, "index, utilization.gpu [%], temperature.gpu, power.draw [W], "
                                                     "fan.speed [%]\n0, 0 %, 37, 128.86 W, [N/A]\n")


def test_rules_and_dashboards_read_only_metrics_the_collectors_write(fleet, standin, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNT_PUBKEY", "AkxhYk9ubHlBY2NvdW50UHVibGljS2V5U3RhbmRJbg==")
    fleet.sim.create(node("ml1", "10.0.0.11"))
    written = set()
    gpu_metrics.main(["--output", str(tmp_path / "gpu.prom"), "--nvidia-smi", standin])
    chain = run_chain(fleet.args + ["--participant", inferenced.address_of(os.environ["ACCOUNT_PUBKEY"])], tmp_path)
    written |= {name for name, _labels in samples((tmp_path / "gpu.prom").read_text())}
    written |= {name for name, _labels in chain}
    role = os.path.join(ROOT, "roles", "monitoring")
    with open(os.path.join(role, "templates", "gonka-rules.yml.j2"), encoding="utf-8") as handle:
        texts = [re.sub(r"\[\[.*?\]\]", "", handle.read())]          # the role's variables are not metrics
    for name in ("gonka-fleet.json", "gonka-hosts.json"):
        with open(os.path.join(role, "files", "dashboards", name), encoding="utf-8") as handle:
            texts.append(handle.read())
    read = {name for text in texts for name in re.findall(r"\bgonka_[a-z_]+\b", text)
            if not name.startswith("gonka_monitoring_")} - {"gonka_kind"}      # variables, a label
    assert read and read <= written, "read but never written: %s" % sorted(read - written)
