# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment lock upstream's scripts take (deploy/join/deployment-lock.sh, docs/conformance.md
R14.1): an exclusive flock on ``<deploy dir>/.gonka-deployment.lock``, tried without waiting.

A play runs as many short processes, so the lock is held by a small detached process of ours
that keeps the locked file open until it is released (SIGTERM) or its time to live runs out.
What it holds for is written next to the lock (``.gonka-deployment.lock.holder``, JSON: pid,
owner, since, ttl), so a second run is told who holds it and our own run can take it again or
release it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import signal
import time

LOCK_NAME = ".gonka-deployment.lock"
HOLDER_NAME = LOCK_NAME + ".holder"


class LockBusy(Exception):
    pass


def paths(directory):
    return os.path.join(directory, LOCK_NAME), os.path.join(directory, HOLDER_NAME)


def read_holder(directory):
    """The holder file's content when its process is still the one that holds the lock, else None."""
    try:
        with open(paths(directory)[1]) as handle:
            holder = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return holder if _alive(holder.get("pid"), holder.get("start")) else None


def _start_time(pid):
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22): with the pid it
    names one process, not a later one that got the same pid. None without /proc."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            stat = handle.read()
    except (IOError, OSError, TypeError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if fields and fields[0] == "Z":       # a zombie holds nothing
        return None
    return fields[19] if len(fields) > 19 else None


def _alive(pid, start=None):
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, OSError):
        return False
    return start is None or _start_time(pid) == start


def _open_lock(directory):
    lock, _holder = paths(directory)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o750)
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o600)
    return fd


def _try_lock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def describe(directory, holder):
    lock = paths(directory)[0]
    if holder is None:
        return ("another deployment operation holds %s (not a gonka.fleet run: an upstream script such as "
                "deployment-lock.sh, or a tool using it); wait until it ends" % lock)
    return ("another gonka.fleet run holds %s: %s since %s (pid %s, released after %s s at the latest)"
            % (lock, holder.get("owner"), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(holder.get("since", 0))),
               holder.get("pid"), holder.get("ttl")))


def acquire(directory, owner, ttl, check_mode=False):
    """Hold the lock for ``owner`` (at most ``ttl`` seconds). Returns (held_before, holder);
    raises LockBusy naming whoever holds it."""
    holder = read_holder(directory)
    if holder is not None and holder.get("owner") == owner:
        return True, holder
    if check_mode and not os.path.exists(paths(directory)[0]):
        return False, None
    fd = _open_lock(directory)
    try:
        if not _try_lock(fd):
            raise LockBusy(describe(directory, read_holder(directory)))
        if check_mode:
            return False, None
        pid = _spawn_holder(fd, ttl)
    finally:
        os.close(fd)
    holder = {"pid": pid, "start": _start_time(pid), "owner": owner, "since": int(time.time()), "ttl": int(ttl)}
    holder_path = paths(directory)[1]
    tmp = holder_path + ".tmp"
    try:
        with open(tmp, "w") as handle:
            json.dump(holder, handle)
        os.chmod(tmp, 0o600)
        os.rename(tmp, holder_path)
    except (IOError, OSError):
        _stop(pid)          # nobody could release a lock whose holder is unknown
        raise
    return False, holder


def release(directory, owner):
    """Let go of the lock held for ``owner``; True when it was held."""
    holder = read_holder(directory)
    if holder is None or holder.get("owner") != owner:
        return False
    # the holder file goes first: once the process is gone another run may take the lock and
    # write its own
    try:
        os.remove(paths(directory)[1])
    except OSError:
        pass
    _stop(holder["pid"], holder.get("start"))
    return True


def _stop(pid, start=None):
    try:
        os.kill(int(pid), signal.SIGTERM)
    except OSError:
        return
    deadline = time.time() + 10
    while _alive(pid, start) and time.time() < deadline:
        time.sleep(0.05)


def _spawn_holder(fd, ttl):
    """A detached process that keeps ``fd`` (locked) open for ``ttl`` seconds or until SIGTERM;
    returns its pid."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            os.setsid()
            second = os.fork()
            if second:
                os.write(write_end, str(second).encode())
                os._exit(0)
            os.close(write_end)
            os.chdir("/")
            devnull = os.open(os.devnull, os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(devnull, target)
            # keep only the locked file: an inherited pipe of the module's session would hold it open
            os.closerange(3, fd)
            os.closerange(fd + 1, 4096)
            signal.signal(signal.SIGTERM, lambda *_args: os._exit(0))
            deadline = time.time() + ttl
            while time.time() < deadline:
                time.sleep(min(1.0, max(0.0, deadline - time.time())))
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    while True:
        chunk = os.read(read_end, 32)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    os.waitpid(first, 0)
    return int(data)
