# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU metrics of an ML host for node exporter's textfile collector (gonka.fleet.monitoring).

Runs ``nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`` once and writes, atomically
(a temporary file in the same directory, then a rename), a ``.prom`` file with:

* gonka_gpu_scrape_success   1 when nvidia-smi answered, else 0 (no driver, driver gone, timeout)
* gonka_gpu_count            GPUs nvidia-smi listed (0 when it failed)
* gonka_gpu_expected         GPUs the ML node was deployed with (--expected)
* per GPU, labels gpu (index), uuid, name: memory used/total bytes, utilization ratio, temperature,
  power draw and limit; a field nvidia-smi answers "[N/A]" (or "[Not Supported]") is left out.

Standard library only; Python 3.6 or later. Exit status 0 whenever the file was written.
"""

import argparse
import os
import subprocess
import sys
import tempfile

# (nvidia-smi field, metric, help, scale): the value written is float(field) * scale
GAUGES = (
    ("memory.used", "gonka_gpu_memory_used_bytes", "GPU memory in use.", 1024 * 1024),
    ("memory.total", "gonka_gpu_memory_total_bytes", "GPU memory in all.", 1024 * 1024),
    ("utilization.gpu", "gonka_gpu_utilization_ratio", "Share of time a kernel ran (0-1).", 0.01),
    ("temperature.gpu", "gonka_gpu_temperature_celsius", "GPU core temperature.", 1),
    ("power.draw", "gonka_gpu_power_draw_watts", "Board power draw.", 1),
    ("power.limit", "gonka_gpu_power_limit_watts", "Board power limit.", 1),
)
LABEL_FIELDS = ("index", "uuid", "name")
FIELDS = LABEL_FIELDS + tuple(gauge[0] for gauge in GAUGES)


def parse_csv(fields, text):
    """Rows of ``--format=csv,noheader,nounits`` output as dicts; "[...]" values (N/A) become None."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != len(fields):
            raise ValueError("nvidia-smi answered %d columns for %d fields: %r" % (len(cells), len(fields), line))
        rows.append({field: (None if cell.startswith("[") else cell) for field, cell in zip(fields, cells)})
    return rows


def query(nvidia_smi, timeout):
    """(rows, error): rows is None when nvidia-smi cannot be run or fails."""
    command = [nvidia_smi, "--query-gpu=" + ",".join(FIELDS), "--format=csv,noheader,nounits"]
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        return None, "rc %d: %s" % (result.returncode, reason[0] if reason else "no output")
    try:
        return parse_csv(FIELDS, result.stdout), None
    except ValueError as exc:
        return None, str(exc)


def escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value):
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def render(rows, expected):
    """The .prom text for rows (None: nvidia-smi failed) and the expected GPU count."""
    lines = [
        "# HELP gonka_gpu_scrape_success 1 when nvidia-smi answered the query.",
        "# TYPE gonka_gpu_scrape_success gauge",
        "gonka_gpu_scrape_success %d" % (0 if rows is None else 1),
        "# HELP gonka_gpu_count GPUs nvidia-smi lists.",
        "# TYPE gonka_gpu_count gauge",
        "gonka_gpu_count %d" % len(rows or []),
        "# HELP gonka_gpu_expected GPUs the ML node was deployed with.",
        "# TYPE gonka_gpu_expected gauge",
        "gonka_gpu_expected %d" % expected,
    ]
    for field, metric, text, scale in GAUGES:
        samples = []
        for row in rows or []:
            value = row.get(field)
            try:
                value = float(value) * scale if value is not None else None
            except ValueError:
                value = None
            if value is None:
                continue
            labels = 'gpu="%s",uuid="%s",name="%s"' % tuple(escape(row.get(key) or "") for key in LABEL_FIELDS)
            samples.append("%s{%s} %s" % (metric, labels, number(value)))
        if samples:
            lines += ["# HELP %s %s" % (metric, text), "# TYPE %s gauge" % metric] + samples
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--expected", type=int, default=0, help="GPUs the ML node was deployed with")
    parser.add_argument("--nvidia-smi", default="nvidia-smi", help="nvidia-smi program")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds nvidia-smi may take")
    args = parser.parse_args(argv)
    rows, error = query(args.nvidia_smi, args.timeout)
    if error:
        sys.stderr.write("nvidia-smi failed: %s\n" % error)
    write_atomically(args.output, render(rows, args.expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
