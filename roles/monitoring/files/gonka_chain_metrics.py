# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gonka metrics of a network node for node exporter's textfile collector (gonka.fleet.monitoring).

What no release in the collection's catalog exposes itself (0.2.0 and 0.2.9 publish no metrics
endpoint): the chain's height against the seed's, catching up, the epoch, this participant's PoC
weight and the ML nodes' states. Each run asks, once and with a timeout:

* the node's CometBFT RPC            GET <rpc>/status            (source chain_rpc)
* the seed's RPC                     GET <seed-rpc>/status       (source seed_rpc)
* the api's Admin API                GET <admin>/admin/v1/nodes  (source admin_api)
* the public API (through the proxy) GET <api>/v1/epochs/current/participants (source public_api)

and writes, atomically (temporary file in the same directory, then a rename), a ``.prom`` file.
A source that does not answer is reported by gonka_exporter_source_up{source} 0 and its metrics
are left out (never a stale or made-up value). Standard library only; Python 3.6 or later.
"""

import argparse
import calendar
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request

# docs/conformance.md R2.5: the chain's node status enum and the PoC sub-statuses
STATUSES = ("UNKNOWN", "INFERENCE", "POC", "TRAINING", "STOPPED", "FAILED")
POC_STATUSES = ("IDLE", "GENERATING", "VALIDATING")
SOURCES = ("chain_rpc", "seed_rpc", "admin_api", "public_api")
_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class SourceError(Exception):
    """A source did not answer as expected."""

    def __init__(self, message, status=None):
        super(SourceError, self).__init__(message)
        self.status = status


def get_json(url, timeout):
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "gonka-chain-metrics"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise SourceError("GET %s: HTTP %d" % (url, exc.code), exc.code)
    except (OSError, ValueError) as exc:
        raise SourceError("GET %s: %s" % (url, exc))


def join(base, path):
    return base.rstrip("/") + path


def parse_time(text):
    """RFC 3339 (CometBFT's latest_block_time, nanoseconds allowed) -> Unix seconds, or None."""
    match = _TIME.match(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    fraction = float("0" + match.group(7)) if match.group(7) else 0.0
    zone = match.group(8)
    if zone != "Z":
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        seconds -= offset if zone[0] == "+" else -offset
    return seconds + fraction


def sync_info(status):
    info = status["result"]["sync_info"]
    return int(info["latest_block_height"]), bool(info["catching_up"]), parse_time(info.get("latest_block_time"))


class Metrics(object):
    """Samples grouped by metric name, rendered in the text exposition format."""

    def __init__(self):
        self.families = []      # (name, help, [(labels, value)])
        self._index = {}

    def add(self, name, text, value, **labels):
        if name not in self._index:
            self._index[name] = len(self.families)
            self.families.append((name, text, []))
        self.families[self._index[name]][2].append((labels, value))

    def render(self):
        lines = []
        for name, text, samples in self.families:
            lines += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name]
            for labels, value in samples:
                label_text = ",".join('%s="%s"' % (key, escape(labels[key])) for key in sorted(labels))
                lines.append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", number(value)))
        return "\n".join(lines) + "\n"


def escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def collect(args):
    """The Metrics of one run, and the errors met (one line per source that failed)."""
    metrics, errors, up = Metrics(), [], {}

    try:
        height, catching_up, block_time = sync_info(get_json(join(args.rpc_url, "/status"), args.timeout))
        metrics.add("gonka_block_height", "Latest block height of the local chain node.", height)
        metrics.add("gonka_catching_up", "1 while the local chain node catches up.", catching_up)
        if block_time is not None:
            metrics.add("gonka_latest_block_time_seconds", "Time of the local node's latest block.", block_time)
        up["chain_rpc"] = True
    except (SourceError, KeyError, TypeError, ValueError) as exc:
        errors.append("chain_rpc: %s" % exc)
        up["chain_rpc"] = False

    if args.seed_rpc_url:
        try:
            seed_height, _catching_up, _time = sync_info(get_json(join(args.seed_rpc_url, "/status"), args.timeout))
            metrics.add("gonka_seed_block_height", "Latest block height of the seed's chain node.", seed_height)
            up["seed_rpc"] = True
        except (SourceError, KeyError, TypeError, ValueError) as exc:
            errors.append("seed_rpc: %s" % exc)
            up["seed_rpc"] = False

    if args.admin_url:
        try:
            entries = get_json(join(args.admin_url, "/admin/v1/nodes"), args.timeout)
            if not isinstance(entries, list):
                raise ValueError("not a list: %r" % (entries,))
            add_ml_nodes(metrics, entries)
            up["admin_api"] = True
        except (SourceError, KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.append("admin_api: %s" % exc)
            up["admin_api"] = False

    if args.api_url:
        try:
            add_epoch(metrics, get_json(join(args.api_url, "/v1/epochs/current/participants"), args.timeout),
                      args.participant)
            up["public_api"] = True
        except SourceError as exc:
            # docs/conformance.md R6.4: epoch 0 (before the first PoC) answers 400; the api is up
            up["public_api"] = exc.status == 400
            if exc.status != 400:
                errors.append("public_api: %s" % exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.append("public_api: %s" % exc)
            up["public_api"] = False

    for source in SOURCES:
        if source in up:
            metrics.add("gonka_exporter_source_up", "1 when the source answered this run.", up[source],
                        source=source)
    return metrics, errors


def add_ml_nodes(metrics, entries):
    """GET /admin/v1/nodes: [{"node": {"id", "host", ...}, "state": {"current_status", ...}}] (R2.5)."""
    metrics.add("gonka_ml_nodes", "ML nodes registered with the network node.", len(entries))
    for entry in sorted(entries, key=lambda e: str(e["node"]["id"])):
        node, state = entry["node"], entry.get("state") or {}
        node_id = str(node["id"])
        metrics.add("gonka_ml_node_info", "A registered ML node and its host.", 1, node=node_id,
                    host=str(node.get("host", "")))
        current = str(state.get("current_status") or "UNKNOWN")
        for status in STATUSES + ((current,) if current not in STATUSES else ()):
            metrics.add("gonka_ml_node_status", "1 for the ML node's current status.", status == current,
                        node=node_id, status=status)
        poc = str(state.get("poc_current_status") or "IDLE")
        for status in POC_STATUSES + ((poc,) if poc not in POC_STATUSES else ()):
            metrics.add("gonka_ml_node_poc_status", "1 for the ML node's current PoC status.", status == poc,
                        node=node_id, status=status)
        admin = state.get("admin_state") or {}
        if "enabled" in admin:
            metrics.add("gonka_ml_node_enabled", "1 when the ML node is enabled (admin state).",
                        bool(admin["enabled"]), node=node_id)


def add_epoch(metrics, body, participant):
    """GET /v1/epochs/current/participants (R6.4): the epoch and, for our account, its PoC weight."""
    active = body["active_participants"]
    epoch = active.get("epoch_group_id", active.get("epoch_id"))
    if epoch is not None:
        metrics.add("gonka_epoch", "Index of the chain's current epoch.", int(epoch))
    if participant:
        listed = [p for p in active.get("participants") or [] if p.get("index") == participant]
        metrics.add("gonka_participant_active", "1 when this network node's account takes part in the epoch.",
                    bool(listed))
        if listed:
            metrics.add("gonka_participant_weight", "PoC weight of this network node's account in the epoch.",
                        int(listed[0].get("weight") or 0))


def write_atomically(path, text):
    """Write text to path through a temporary file in the same directory (not *.prom) and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="the .prom file to write")
    parser.add_argument("--rpc-url", required=True, help="the local chain node's RPC, e.g. http://127.0.0.1:26657")
    parser.add_argument("--seed-rpc-url", default="", help="the seed's RPC (empty: no seed height)")
    parser.add_argument("--admin-url", default="", help="the Admin API, e.g. http://127.0.0.1:9200")
    parser.add_argument("--api-url", default="", help="the public API as the host reaches it")
    parser.add_argument("--participant", default="", help="this network node's gonka1... account address")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    args = parser.parse_args(argv)
    metrics, errors = collect(args)
    for error in errors:
        sys.stderr.write(error + "\n")
    write_atomically(args.output, metrics.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
