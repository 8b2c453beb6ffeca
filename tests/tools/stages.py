# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run make targets as stages in tracks: the stages of a track one after the other, the tracks
side by side (`make test`, `make molecule`).

    stages.py [--set VAR=VALUE ...] [--logs DIR] TRACK [TRACK ...]

A TRACK is make targets separated by commas. Each stage's output goes to DIR/<stage>.log and is
printed whole when the stage ends, so the output of stages that run at the same time is not
mixed. A failed stage stops its track, and no track starts a new stage after it; the stages
already running finish. At the end: the time of each stage, the lines of each failed stage's log
that say what failed (the last ones of a long log are all that some CI pages show), and the exit
status 1 if one failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time


# lines of a stage's log that say what failed: Ansible's task failures and recaps, molecule's and
# make's errors, pytest's failures; not the retries of an `until` nor failures Ansible ignored
FAILURE_LINE = re.compile(r"fatal: \[|FAILED!|failed: \[|unreachable=[1-9]|failed=[1-9]|ERROR|^E  |Error [0-9]")
RETRY_LINE = re.compile(r"FAILED - RETRYING")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
FRAME = re.compile(r"^\s*[\u2502\u250c\u2514]\s?")       # molecule's frame around a command's output
TASK_START = re.compile(r"^(TASK|PLAY|RUNNING HANDLER) \[|^PLAY RECAP")


def failure_lines(log_path, limit=40, width=1000):
    """The last `limit` lines of the log at `log_path` that say what failed, each cut to `width`."""
    with open(log_path, "rb") as log:
        lines = [FRAME.sub("", COLOUR.sub("", raw.decode("utf-8", "replace"))).rstrip() for raw in log]
    found, task = [], []
    for index, line in enumerate(lines):
        task.append(line)
        if index + 1 == len(lines) or TASK_START.search(lines[index + 1]):
            # the output of one task ends: its failures count unless Ansible ignored them
            if not any(seen.strip() == "...ignoring" for seen in task):
                found.extend(seen[:width] for seen in task
                             if FAILURE_LINE.search(seen) and not RETRY_LINE.search(seen))
            task = []
    return found[-limit:]


class Runner:
    def __init__(self, make_args, logs):
        self.make_args = make_args
        self.logs = logs
        self.failed = threading.Event()
        self.print_lock = threading.Lock()
        self.results = []                       # (track, stage, status, seconds)

    def stage(self, track, name):
        log_path = os.path.join(self.logs, name + ".log")
        began = time.time()
        with open(log_path, "wb") as log:
            # wide enough that molecule does not wrap a failed task's message across lines
            status = subprocess.call(["make", "--no-print-directory", name] + self.make_args,
                                     stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, COLUMNS="1000"))
        took = int(time.time() - began)
        verdict = "passed" if status == 0 else "FAILED (exit %d)" % status
        with self.print_lock:
            sys.stdout.write("\n==== stage %s (track %d) %s in %d s; its output (%s):\n" % (name, track, verdict, took, log_path))
            sys.stdout.flush()
            with open(log_path, "rb") as log:
                sys.stdout.buffer.write(log.read())
            sys.stdout.write("==== end of stage %s: %s in %d s\n" % (name, verdict, took))
            sys.stdout.flush()
            self.results.append((track, name, verdict, took))
        return status == 0

    def track(self, number, stages):
        for name in stages:
            if self.failed.is_set():
                with self.print_lock:
                    self.results.append((number, name, "not run (another stage failed)", 0))
                continue
            if not self.stage(number, name):
                self.failed.set()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="VAR=VALUE", help="passed to each make")
    parser.add_argument("--logs", default=os.path.join(".build", "stages"), help="directory of the stage logs")
    parser.add_argument("tracks", nargs="+", metavar="TRACK")
    args = parser.parse_args(argv)
    os.makedirs(args.logs, exist_ok=True)
    runner = Runner(args.set, args.logs)
    tracks = [[name for name in track.split(",") if name] for track in args.tracks]
    began = time.time()
    threads = [threading.Thread(target=runner.track, args=(number, stages))
               for number, stages in enumerate(tracks, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = int(time.time() - began)
    order = dict(((number, name), index) for number, stages in enumerate(tracks, 1) for index, name in enumerate(stages))
    print("\nstage times (%d tracks side by side):" % len(tracks))
    for number, name, verdict, took in sorted(runner.results, key=lambda row: (row[0], order[row[:2]])):
        print("  track %d  %-20s %6d s  %s" % (number, name, took, verdict))
    print("all stages: %d s of wall time" % wall)
    for number, name, verdict, took in runner.results:
        if verdict.startswith("FAILED"):
            print("\nwhat failed in stage %s (%s):" % (name, os.path.join(args.logs, name + ".log")))
            for line in failure_lines(os.path.join(args.logs, name + ".log")):
                print("  " + line)
    return 1 if runner.failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
