# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run make targets as stages in tracks: the stages of a track one after the other, the tracks
side by side (`make test`, `make molecule`).

    stages.py [--set VAR=VALUE ...] [--logs DIR] TRACK [TRACK ...]

A TRACK is make targets separated by commas. Each stage's output goes to DIR/<stage>.log and is
printed whole when the stage ends, so the output of stages that run at the same time is not
mixed. A failed stage stops its track, and no track starts a new stage after it; the stages
already running finish. At the end: the time of each stage, and the exit status 1 if one failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time


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
            status = subprocess.call(["make", "--no-print-directory", name] + self.make_args,
                                     stdout=log, stderr=subprocess.STDOUT)
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
    return 1 if runner.failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
