# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.deployment_lock with real flocks: the holder process it leaves, another process
holding the lock as upstream's deployment-lock.sh does, release and time to live."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.gonka.fleet.plugins.modules import deployment_lock


def lock_is_free(directory):
    """Try the lock the way upstream's script does (flock -n on a read-only descriptor)."""
    fd = os.open(os.path.join(directory, ".gonka-deployment.lock"), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.fixture
def deploy(tmp_path):
    directory = tmp_path / "gonka"
    yield str(directory)
    holder = os.path.join(str(directory), ".gonka-deployment.lock.holder")
    if os.path.exists(holder):       # never leave a holder process behind
        import json
        with open(holder) as handle:
            try:
                os.kill(json.load(handle)["pid"], 15)
            except OSError:
                pass


def test_taken_held_and_released(run_module, deploy):
    result = run_module(deployment_lock, {"path": deploy, "owner": "run-1"})
    assert result["changed"] is False and result["held"] is True
    assert result["lock"] == os.path.join(deploy, ".gonka-deployment.lock")
    assert stat.S_IMODE(os.stat(result["lock"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(deploy).st_mode) == 0o750
    pid = result["holder"]["pid"]
    assert pid != os.getpid() and not lock_is_free(deploy)      # the holder keeps it after the module ended

    again = run_module(deployment_lock, {"path": deploy, "owner": "run-1"})
    assert again["held"] is True and again["holder"]["pid"] == pid

    other = run_module(deployment_lock, {"path": deploy, "owner": "run-2"})
    assert other["failed"] and "another gonka.fleet run holds" in other["msg"]
    assert "run-1 since" in other["msg"] and "pid %d" % pid in other["msg"]

    released = run_module(deployment_lock, {"path": deploy, "owner": "run-1", "state": "absent"})
    assert released["held"] is False and lock_is_free(deploy)
    assert not os.path.exists(os.path.join(deploy, ".gonka-deployment.lock.holder"))
    assert run_module(deployment_lock, {"path": deploy, "owner": "run-2"})["held"] is True


def test_held_by_an_upstream_script(run_module, deploy):
    os.makedirs(deploy)
    script = ("import fcntl, os, sys, time\n"
              "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o600)\n"
              "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
              "print('locked', flush=True)\n"
              "time.sleep(30)\n")
    other = subprocess.Popen([sys.executable, "-c", script, os.path.join(deploy, ".gonka-deployment.lock")],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        result = run_module(deployment_lock, {"path": deploy, "owner": "run-1"})
        assert result["failed"] and "not a gonka.fleet run" in result["msg"]
        checked = run_module(deployment_lock, {"path": deploy, "owner": "run-1"}, check_mode=True)
        assert checked["failed"]                                        # check mode sees it too
    finally:
        other.kill()
        other.wait()
    assert run_module(deployment_lock, {"path": deploy, "owner": "run-1"})["held"] is True


def test_released_by_itself_after_its_time_to_live(run_module, deploy):
    result = run_module(deployment_lock, {"path": deploy, "owner": "run-1", "ttl": 1})
    assert not lock_is_free(deploy)
    deadline = time.time() + 10
    while not lock_is_free(deploy) and time.time() < deadline:
        time.sleep(0.1)
    assert lock_is_free(deploy)
    assert run_module(deployment_lock, {"path": deploy, "owner": "run-2"})["holder"]["pid"] != result["holder"]["pid"]


def test_check_mode_takes_nothing(run_module, deploy):
    result = run_module(deployment_lock, {"path": deploy, "owner": "run-1"}, check_mode=True)
    assert result["held"] is False and not os.path.exists(deploy)     # nothing created either
    os.makedirs(deploy)
    open(os.path.join(deploy, ".gonka-deployment.lock"), "w").close()
    assert run_module(deployment_lock, {"path": deploy, "owner": "run-1"}, check_mode=True)["held"] is False
    assert lock_is_free(deploy)


def test_releasing_what_another_run_holds_does_nothing(run_module, deploy):
    run_module(deployment_lock, {"path": deploy, "owner": "run-1"})
    run_module(deployment_lock, {"path": deploy, "owner": "run-2", "state": "absent"})
    assert not lock_is_free(deploy)
    run_module(deployment_lock, {"path": deploy, "owner": "run-1", "state": "absent"})
    assert lock_is_free(deploy)


def test_a_stale_holder_file_is_not_trusted(run_module, deploy):
    """A holder file left behind whose pid now names another process (here: this test's own
    process, started at another time) neither counts as the lock nor gets that process killed."""
    import json
    os.makedirs(deploy)
    with open(os.path.join(deploy, ".gonka-deployment.lock.holder"), "w") as handle:
        json.dump({"pid": os.getpid(), "start": "1", "owner": "run-1", "since": 0, "ttl": 7200}, handle)
    released = run_module(deployment_lock, {"path": deploy, "owner": "run-1", "state": "absent"})
    assert released["held"] is False                      # and this process is still alive to check it
    taken = run_module(deployment_lock, {"path": deploy, "owner": "run-1"})
    assert taken["held"] is True and taken["holder"]["pid"] != os.getpid() and not lock_is_free(deploy)
