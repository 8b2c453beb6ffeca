# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.hf_model with the real huggingface_hub client against the Hub stand-in
(tests/simulators/hub.py) on loopback, serving a generated repository with ~200 MB of weights."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from ansible_collections.gonka.fleet.plugins.module_utils import hf_cache, hf_serve
from ansible_collections.gonka.fleet.plugins.modules import hf_model
from ansible_collections.gonka.fleet.plugins.modules import hf_serve as hf_serve_module
from ansible_collections.gonka.fleet.tests.simulators import hub
from ansible_collections.gonka.fleet.tests.simulators.ports import free_port

REPO = "Qwen/Qwen3-32B-FP8"
SHARD_MB = 96
SHARDS = 2


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    repo = hub.generate(str(tmp_path_factory.mktemp("hub")), REPO, shards=SHARDS, shard_mb=SHARD_MB)
    server = hub.serve(0, [repo])
    server.endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    server.repo = repo
    yield server
    server.hub.release.set()
    server.shutdown()


@pytest.fixture
def hub_url(hub_server):
    hub_server.hub.reset()
    hub_server.hub.faults = {}
    return hub_server.endpoint


def stats(url, query=""):
    with urllib.request.urlopen(url + "/sim/stats" + query, timeout=5) as response:
        return json.loads(response.read())


def served(url):
    return stats(url)["bytes_served"].get(REPO, 0)


def args(url, hf_home, **extra):
    value = {"repo_id": REPO, "hf_home": str(hf_home), "endpoint": url}
    value.update(extra)
    return value


def repo_bytes(hub_server, commit):
    return sum(entry["size"] for entry in hub_server.repo["commits"][commit].values())


def test_download_verify_and_rerun(run_module, hub_server, hub_url, tmp_path):
    main = hub_server.repo["refs"]["main"]
    first = run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True))
    assert first["changed"] is True
    assert first["commit"] == main
    assert first["files"] == 5 and first["bytes"] == repo_bytes(hub_server, main)
    assert first["downloaded_bytes"] == first["bytes"] == served(hub_url)
    # by client address: what this client was served, nothing for another (fleets sharing the Hub)
    assert stats(hub_url, "?client=127.0.0.1")["bytes_served"] == {REPO: first["bytes"]}
    assert stats(hub_url, "?client=10.231.0.99&client=10.231.0.98") == {"bytes_served": {}, "files_served": {}}
    assert sorted(first["missing"]) == sorted(hub_server.repo["commits"][main])
    assert first["path"] == str(tmp_path / "hub" / "models--Qwen--Qwen3-32B-FP8" / "snapshots" / main)
    storage = hf_cache.storage_folder(str(tmp_path / "hub"), REPO)
    assert open(os.path.join(storage, "refs", "main")).read() == main      # what an offline client reads
    with open(os.path.join(storage, hf_cache.PROGRESS)) as handle:
        progress = json.load(handle)
    assert (progress["done_bytes"], progress["total_bytes"], progress["state"]) == (first["bytes"], first["bytes"], "done")

    again = run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True))
    assert again["changed"] is False and again["missing"] == {} and again["downloaded_bytes"] == 0
    assert served(hub_url) == first["bytes"]                                # nothing fetched twice


def test_revision_pinning(run_module, hub_server, hub_url, tmp_path):
    old = hub_server.repo["refs"]["v1"]
    by_tag = run_module(hf_model, args(hub_url, tmp_path, revision="v1"))
    assert by_tag["commit"] == old and by_tag["changed"] is True
    with open(os.path.join(by_tag["path"], "config.json")) as handle:
        assert json.load(handle)["commit"] == 1
    hub_server.hub.reset()
    by_commit = run_module(hf_model, args(hub_url, tmp_path, revision=old))
    assert by_commit["changed"] is False and by_commit["commit"] == old
    # a commit needs no resolving: not one request reached the Hub stand-in beyond the tree listing
    assert [path for _method, path in stats(hub_url)["requests"] if "/revision/" in path] == []
    # main shares the weights with v1: its snapshot lacks every file, but only the config differs
    hub_server.hub.reset()
    newest = run_module(hf_model, args(hub_url, tmp_path, revision="main"))
    assert newest["commit"] == hub_server.repo["refs"]["main"] != old
    assert len(newest["missing"]) == 5
    config_size = hub_server.repo["commits"][newest["commit"]]["config.json"]["size"]
    assert served(hub_url) == newest["downloaded_bytes"] == config_size


def test_check_mode_reports_what_is_missing_and_downloads_nothing(run_module, hub_server, hub_url, tmp_path):
    result = run_module(hf_model, args(hub_url, tmp_path, allow_patterns=["*.json"]), check_mode=True)
    assert result["changed"] is True
    assert sorted(result["missing"]) == ["config.json", "generation_config.json", "tokenizer.json"]
    assert result["missing_bytes"] == result["bytes"] < 1024 * 1024
    assert result["downloaded_bytes"] == 0 and served(hub_url) == 0
    assert not os.path.exists(os.path.join(str(tmp_path), "hub", "models--Qwen--Qwen3-32B-FP8", "snapshots"))


def test_truncated_and_corrupted_files_are_detected_and_repaired(run_module, hub_server, hub_url, tmp_path):
    done = run_module(hf_model, args(hub_url, tmp_path))
    shard1, shard2 = (os.path.join(done["path"], "model-%05d-of-%05d.safetensors" % (n, SHARDS)) for n in (1, 2))
    with open(os.path.realpath(shard1), "r+b") as handle:       # truncated: sizes catch it
        handle.truncate(1024 * 1024)
    with open(os.path.realpath(shard2), "r+b") as handle:       # same size, one byte flipped: only hashes catch it
        handle.seek(12345)
        byte = handle.read(1)
        handle.seek(12345)
        handle.write(bytes([byte[0] ^ 0xFF]))
    quick = run_module(hf_model, args(hub_url, tmp_path), check_mode=True)
    assert quick["missing"] == {os.path.basename(shard1): "size 1048576, expected %d" % (SHARD_MB * 1024 * 1024)}
    hub_server.hub.reset()
    repaired = run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True))
    assert repaired["changed"] is True
    assert repaired["missing"] == {os.path.basename(shard1): "size 1048576, expected %d" % (SHARD_MB * 1024 * 1024),
                                   os.path.basename(shard2): "sha256 differs"}
    assert served(hub_url) == repaired["downloaded_bytes"] == 2 * SHARD_MB * 1024 * 1024
    assert run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True))["changed"] is False


def test_offline_verification_without_the_hub(run_module, hub_url, tmp_path):
    run_module(hf_model, args(hub_url, tmp_path))
    offline = dict(args("http://127.0.0.1:9", tmp_path, offline=True, verify_checksums=True))  # nothing listens
    result = run_module(hf_model, offline)
    assert result["changed"] is False and result["missing"] == {}
    os.remove(os.path.join(result["path"], "tokenizer.json"))
    broken = run_module(hf_model, offline)
    assert broken["failed"] and "is incomplete" in broken["msg"] and broken["missing"] == {"tokenizer.json": "missing"}
    never = run_module(hf_model, dict(offline, revision="v1"))
    assert never["failed"] and "cannot be verified offline" in never["msg"]


def test_download_killed_midway_restarts_cleanly(hub_server, hub_url, tmp_path, run_module):
    """A download killed in the middle of a shard (SIGKILL: no cleanup runs) leaves a partial blob; the
    next run removes it, fetches what is missing and ends with a verified snapshot."""
    hub_server.hub.faults = {"stall_after_bytes": 20 * 1024 * 1024}
    spec = tmp_path / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args(hub_url, tmp_path, max_workers=1)}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    process = subprocess.Popen([sys.executable, "-m", "ansible_collections.gonka.fleet.plugins.modules.hf_model", str(spec)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while served(hub_url) < 20 * 1024 * 1024 and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert served(hub_url) >= 20 * 1024 * 1024, "the download did not reach the stall"
    storage = hf_cache.storage_folder(str(tmp_path / "hub"), REPO)
    blobs = os.path.join(storage, "blobs")
    # the bytes the Hub sent may still sit in the socket buffers: wait until the client wrote some
    wait_until(lambda: any(name.endswith(".incomplete") and size_of(os.path.join(blobs, name)) > 0
                           for name in (os.listdir(blobs) if os.path.isdir(blobs) else [])),
               "the client writes a partial blob")
    with open(os.path.join(storage, hf_cache.PROGRESS)) as handle:
        assert json.load(handle)["state"] == "running"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    hub_server.hub.reset()                                       # releases the stalled connection
    leftovers = [name for name in os.listdir(blobs) if name.endswith(".incomplete")]
    assert leftovers, "the killed download left no partial blob to clean up"
    leftover_bytes = sum(os.path.getsize(os.path.join(blobs, name)) for name in leftovers)

    result = run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True))
    assert result["changed"] is True and result["removed_bytes"] == leftover_bytes
    assert [name for name in os.listdir(os.path.join(storage, "blobs")) if name.endswith(".incomplete")] == []
    assert run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True, offline=True))["missing"] == {}


def test_absent_and_errors(run_module, hub_url, tmp_path):
    run_module(hf_model, args(hub_url, tmp_path, allow_patterns=["*.json"]))
    predicted = run_module(hf_model, args(hub_url, tmp_path, state="absent"), check_mode=True)
    assert predicted["changed"] is True and predicted["removed_bytes"] > 0
    removed = run_module(hf_model, args(hub_url, tmp_path, state="absent"))
    assert removed["changed"] is True and removed["removed_bytes"] == predicted["removed_bytes"]
    assert run_module(hf_model, args(hub_url, tmp_path, state="absent"))["changed"] is False
    unknown = run_module(hf_model, args(hub_url, tmp_path, revision="v9"))
    assert unknown["failed"] and unknown["msg"].startswith("Qwen/Qwen3-32B-FP8@v9: RevisionNotFoundError")
    nothing = run_module(hf_model, args(hub_url, tmp_path, repo_id="acme/none"))
    assert nothing["failed"] and nothing["msg"].startswith("acme/none@main: RepositoryNotFoundError")


def test_a_verified_cache_serves_another_host(run_module, hub_server, hub_url, tmp_path):
    """Peer mode: a seed's cache, served by hf_serve.CacheSource from its manifests, is a complete
    HF_ENDPOINT for the next host; the Hub serves the repository once."""
    seed, peer = tmp_path / "seed", tmp_path / "peer"
    first = run_module(hf_model, args(hub_url, seed, revision="v1"))
    source = hf_serve.CacheSource(str(seed / "hub"))
    server = hf_serve.serve(source, hf_serve.CacheServerHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        copy = run_module(hf_model, args("http://127.0.0.1:%d" % server.server_address[1], peer, revision="v1",
                                         verify_checksums=True))
    finally:
        server.shutdown()
    assert copy["changed"] is True and copy["commit"] == first["commit"]
    assert copy["downloaded_bytes"] == source.bytes_served == first["bytes"]
    assert served(hub_url) == first["bytes"]                        # the Hub served it once
    assert open(str(peer / "hub" / "models--Qwen--Qwen3-32B-FP8" / "refs" / "v1")).read() == first["commit"]
    # the copy verifies offline on its own
    assert run_module(hf_model, args("http://127.0.0.1:9", peer, revision="v1", offline=True))["missing"] == {}


# ---- transfer=gonka: resumed files, bytes verified while written, a copy in progress served ----

SHARD = "model-00001-of-00002.safetensors"


def start_module(workdir, module_args, module="hf_model"):
    """A module (hf_model by default) in a process of its own (one that can be killed)."""
    spec = workdir / ("args-%d.json" % time.time_ns())
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen([sys.executable, "-m", "ansible_collections.gonka.fleet.plugins.modules." + module, str(spec)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out waiting until " + what
        time.sleep(0.05)


def shard_entry(hub_server):
    return hub_server.repo["commits"][hub_server.repo["refs"]["main"]][SHARD]


def partial_of(hf_home, entry):
    return os.path.join(hf_cache.storage_folder(str(hf_home / "hub"), REPO), "blobs", entry["lfs"]["oid"] + ".incomplete")


def size_of(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def test_gonka_transfer_writes_the_cache_huggingface_hub_reads(run_module, hub_server, hub_url, tmp_path):
    main = hub_server.repo["refs"]["main"]
    result = run_module(hf_model, args(hub_url, tmp_path, transfer="gonka", verify_checksums=True))
    assert result["changed"] is True and result["resumed_bytes"] == 0
    assert result["downloaded_bytes"] == result["bytes"] == repo_bytes(hub_server, main) == served(hub_url)
    storage = hf_cache.storage_folder(str(tmp_path / "hub"), REPO)
    for path, entry in hub_server.repo["commits"][main].items():
        blob = (entry.get("lfs") or {}).get("oid") or entry["oid"]
        assert os.readlink(os.path.join(storage, "snapshots", main, path)) == os.path.join("..", "..", "blobs", blob)
    # huggingface_hub (what vLLM loads through) finds the snapshot offline
    import huggingface_hub  # pylint: disable=import-outside-toplevel
    assert huggingface_hub.snapshot_download(REPO, cache_dir=str(tmp_path / "hub"), local_files_only=True) == result["path"]
    assert run_module(hf_model, args(hub_url, tmp_path, transfer="gonka", verify_checksums=True))["changed"] is False


def test_gonka_transfer_killed_at_half_resumes_without_fetching_the_first_half(run_module, hub_server, hub_url, tmp_path):
    entry = shard_entry(hub_server)
    half = entry["size"] // 2
    hub_server.hub.faults = {"stall_after_bytes": half, "file": SHARD}
    process = start_module(tmp_path, args(hub_url, tmp_path, transfer="gonka", max_workers=1, verify_checksums=True))
    partial = partial_of(tmp_path, entry)
    wait_until(lambda: size_of(partial) >= half, "half of the shard is on disk")
    process.kill()                                               # SIGKILL: nothing of the module runs after it
    process.wait(10)
    hub_server.hub.reset()                                       # releases the stalled connection, counts from 0
    assert size_of(partial) == half

    result = run_module(hf_model, args(hub_url, tmp_path, transfer="gonka", verify_checksums=True))
    assert result["changed"] is True and result["resumed_bytes"] == half and result["removed_bytes"] == 0
    assert SHARD in result["missing"]
    assert result["downloaded_bytes"] == result["missing_bytes"] - half == served(hub_url)
    assert ["GET", "/%s/resolve/%s/%s" % (REPO, result["commit"], SHARD)] in stats(hub_url)["requests"]
    assert run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True, offline=True))["missing"] == {}


def test_gonka_transfer_detects_corrupted_bytes(run_module, hub_server, hub_url, tmp_path):
    """A resumed prefix with a flipped byte: the digest differs, the shard is fetched once more from
    zero. A source that serves bad bytes: the file is given up, named, and nothing of it is kept."""
    entry = shard_entry(hub_server)
    half = entry["size"] // 2
    partial = partial_of(tmp_path, entry)
    os.makedirs(os.path.dirname(partial))
    with open(entry["data"], "rb") as handle:
        prefix = bytearray(handle.read(half))
    prefix[half // 3] ^= 0xFF
    with open(partial, "wb") as handle:
        handle.write(prefix)
    result = run_module(hf_model, args(hub_url, tmp_path, transfer="gonka", verify_checksums=True))
    assert result["changed"] is True and result["resumed_bytes"] == half
    # the second half on top of the bad prefix, then the whole shard again
    assert result["downloaded_bytes"] == result["missing_bytes"] - half + entry["size"] == served(hub_url)
    assert run_module(hf_model, args(hub_url, tmp_path, verify_checksums=True, offline=True))["missing"] == {}

    blob = os.path.join(hf_cache.storage_folder(str(tmp_path / "hub"), REPO), "blobs", entry["lfs"]["oid"])
    with open(blob, "r+b") as handle:                            # the seed's copy goes bad on its disk
        handle.seek(entry["size"] - 10)
        handle.write(b"\0" * 10)
    source = hf_serve.CacheSource(str(tmp_path / "hub"))
    server = hf_serve.serve(source, hf_serve.CacheServerHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    peer = tmp_path / "peer"
    try:
        failed = run_module(hf_model, args("http://127.0.0.1:%d" % server.server_address[1], peer, transfer="gonka",
                                           verify_checksums=True))
    finally:
        server.shutdown()
    assert failed["failed"] and SHARD in failed["msg"] and "digest differs" in failed["msg"]
    peer_storage = hf_cache.storage_folder(str(peer / "hub"), REPO)
    assert not [name for name in os.listdir(os.path.join(peer_storage, "blobs")) if name.startswith(entry["lfs"]["oid"])]
    assert not os.path.lexists(os.path.join(peer_storage, "snapshots", hub_server.repo["refs"]["main"], SHARD))


def test_a_copy_in_progress_is_served_to_the_next_host(hub_server, hub_url, tmp_path):
    """The fan-out tree: a host still copying serves what it has; the next host streams the growing
    file and both end verified, the Hub having served one copy and the seed one."""
    entry = shard_entry(hub_server)
    half = entry["size"] // 2
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    hub_server.hub.faults = {"stall_after_bytes": half, "file": SHARD}
    upstream = start_module(tmp_path, args(hub_url, first, transfer="gonka", max_workers=1, verify_checksums=True))
    wait_until(lambda: size_of(partial_of(first, entry)) >= half, "the first host holds half of the shard")
    source = hf_serve.CacheSource(str(first / "hub"))
    server = hf_serve.serve(source, hf_serve.CacheServerHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        downstream = start_module(tmp_path, args("http://127.0.0.1:%d" % server.server_address[1], second,
                                                 transfer="gonka", max_workers=1, verify_checksums=True, source_wait=30))
        wait_until(lambda: size_of(partial_of(second, entry)) >= half, "the second host streamed the first half")
        assert upstream.poll() is None and not os.path.exists(partial_of(first, entry)[:-len(".incomplete")])
        hub_server.hub.reset()                                   # the Hub's connection drops; the first host resumes
        outputs = [json.loads(process.communicate(timeout=120)[0]) for process in (upstream, downstream)]
    finally:
        server.shutdown()
    assert [process.returncode for process in (upstream, downstream)] == [0, 0], outputs
    total = repo_bytes(hub_server, hub_server.repo["refs"]["main"])
    assert outputs[0]["downloaded_bytes"] == total                # the first host fetched each byte once
    assert outputs[1]["downloaded_bytes"] == total == source.bytes_served
    offline = dict(verify_checksums=True, offline=True)
    for home in (first, second):
        check = start_module(tmp_path, args(hub_url, home, **offline))
        assert json.loads(check.communicate(timeout=60)[0])["missing"] == {}


def test_gonka_transfer_sends_the_token_to_the_endpoint_host_only(tmp_path):
    """The Hub answers an LFS file with a redirect to a CDN's signed URL: the copier follows it and
    keeps the token for the endpoint's own host."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # pylint: disable=import-outside-toplevel
    from ansible_collections.gonka.fleet.plugins.module_utils import hf_transfer  # pylint: disable=import-outside-toplevel
    body = b"weights" * 1000
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

        def do_GET(self):  # noqa: N802
            seen.append((self.headers.get("Host").split(":")[0], self.path, self.headers.get("Authorization")))
            if self.path.startswith("/cdn/"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            target = "/again" + self.path if not self.path.startswith("/again") else "http://localhost:%d/cdn/x" % port
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        import hashlib  # pylint: disable=import-outside-toplevel
        entry = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "blob_id": None}
        copier = hf_transfer.Transfer("http://127.0.0.1:%d" % port, REPO, "0" * 40, str(tmp_path / "models--x"),
                                      token="hf_secret", workers=1)
        assert copier.run({"model.safetensors": entry}) == {"fetched_bytes": len(body), "resumed_bytes": 0}
    finally:
        server.shutdown()
    assert [(host, auth) for host, _path, auth in seen] == [
        ("127.0.0.1", "Bearer hf_secret"), ("127.0.0.1", "Bearer hf_secret"), ("localhost", None)]
    assert os.readlink(str(tmp_path / "models--x" / "snapshots" / ("0" * 40) / "model.safetensors")) == \
        os.path.join("..", "..", "blobs", entry["sha256"])


# ---- the module gonka.fleet.hf_serve, as the model_cache role runs it ----------------------
def test_hf_serve_module_serves_until_stopped(run_module, hub_server, hub_url, tmp_path):
    """The module in a process of its own (as an async task runs it) serves the seed's verified
    cache to the next host, stops on POST /_gonka/stop and returns the bytes it served."""
    seed, peer = tmp_path / "seed", tmp_path / "peer"
    first = run_module(hf_model, args(hub_url, seed))
    port = free_port()
    server = start_module(tmp_path, {"hf_home": str(seed), "bind": "127.0.0.1", "port": port, "timeout": 120},
                          module="hf_serve")
    try:
        wait_until(lambda: hf_serve_answers(port), "hf_serve answers")
        copy = run_module(hf_model, args("http://127.0.0.1:%d" % port, peer, verify_checksums=True))
        request = urllib.request.Request("http://127.0.0.1:%d/_gonka/stop" % port, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            stop = json.loads(response.read())
        out, _err = server.communicate(timeout=30)
    finally:
        server.kill()
    result = json.loads(out)
    assert copy["changed"] is True and copy["commit"] == first["commit"] and copy["missing"] != {}
    assert stop["bytes_served"] == result["bytes_served"] == copy["downloaded_bytes"] == first["bytes"]
    assert result["stopped_by"] == "request" and result["changed"] is False and server.returncode == 0
    assert served(hub_url) == first["bytes"]                        # the Hub served it once


def hf_serve_answers(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/models/%s/revision/main" % (port, REPO), timeout=2):
            return True
    except OSError:
        return False


def test_hf_serve_module_stops_at_its_timeout_and_names_a_busy_port(run_module, tmp_path):
    port = free_port()
    server = start_module(tmp_path, {"hf_home": str(tmp_path), "bind": "127.0.0.1", "port": port, "timeout": 0.5},
                          module="hf_serve")
    out, _err = server.communicate(timeout=30)
    assert json.loads(out)["stopped_by"] == "timeout" and server.returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        failed = run_module(hf_serve_module, {"hf_home": str(tmp_path), "bind": "127.0.0.1", "port": taken})
    assert failed["failed"] and failed["msg"].startswith("cannot serve %s on 127.0.0.1:%d: " % (tmp_path, taken))
    checked = run_module(hf_serve_module, {"hf_home": str(tmp_path), "bind": "127.0.0.1", "port": taken}, check_mode=True)
    assert checked["stopped_by"] == "check_mode" and checked["bytes_served"] == 0
