# Stand-in for nvidia-smi of the NVIDIA driver (lab apt repository). It answers from outputs captured
# on a real NVIDIA H200 host (tests/unit/fixtures/gpu/h200-x1, installed beside it):
#   nvidia-smi                                        -> the banner (nvidia-smi.txt)
#   nvidia-smi --query-gpu=F1,F2 --format=csv[,noheader][,nounits]
#                                                     -> those columns of query-gpu.csv, the captured
#                                                        full query, with its header and units dropped
#                                                        on request as the real tool does
# Fields the captured query lacks (XML_FIELDS: utilization, temperatures, power draw, ...) are read
# from nvidia-smi-q.xml, the `nvidia-smi -q -x` captured on the same host, matched by PCI bus id;
# where that file is not installed, or it says N/A, they answer "[N/A]" like the real tool does for a
# field the GPU does not report. Any other field is refused as the real tool refuses it.
import os
import re
import sys
from xml.etree import ElementTree

DATA = os.environ.get("NVIDIA_SMI_STANDIN_DATA", "/usr/share/nvidia-smi-standin")

# field -> (element path under <gpu> in nvidia-smi -q -x, unit of the csv header or "" for none).
# power.draw: on Ampere and later the driver reports the 1 s average (nvidia-smi --help-query-gpu).
XML_FIELDS = {
    "utilization.gpu": ("utilization/gpu_util", "%"),
    "utilization.memory": ("utilization/memory_util", "%"),
    "temperature.gpu": ("temperature/gpu_temp", ""),
    "temperature.memory": ("temperature/memory_temp", ""),
    "power.draw": ("gpu_power_readings/average_power_draw", "W"),
    "power.draw.average": ("gpu_power_readings/average_power_draw", "W"),
    "power.draw.instant": ("gpu_power_readings/instant_power_draw", "W"),
    "memory.reserved": ("fb_memory_usage/reserved", "MiB"),
    "fan.speed": ("fan_speed", "%"),
    "pstate": ("gpu_power_readings/power_state", ""),
}


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return handle.read()


def xml_gpus():
    """{pci bus id: <gpu> element} of the captured nvidia-smi -q -x; {} when it is not installed."""
    path = os.path.join(DATA, "nvidia-smi-q.xml")
    if not os.path.exists(path):
        return {}
    return {gpu.get("id", "").upper(): gpu for gpu in ElementTree.parse(path).getroot().findall("gpu")}


def xml_value(gpu, field):
    """The field's value as the csv shows it with units: '0 %', '128.86 W', '37'; '[N/A]' when unknown."""
    path, unit = XML_FIELDS[field]
    node = gpu.find(path) if gpu is not None else None
    text = (node.text or "").strip() if node is not None else ""
    if not text or text == "N/A":
        return "[N/A]"
    if not unit:                       # temperatures: the csv prints the bare number
        return re.sub(r" C$", "", text)
    return text


args = sys.argv[1:]
if not args:
    sys.stdout.write(read("nvidia-smi.txt"))
    sys.exit(0)
options = dict(arg.split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)
if "--query-gpu" not in options:
    sys.stderr.write("nvidia-smi stand-in: only the banner and --query-gpu\n")
    sys.exit(2)
lines = [line for line in read("query-gpu.csv").splitlines() if line.strip()]
full = [cell.strip() for cell in lines[0].split(",")]
header = [re.sub(r" \[.*\]$", "", cell) for cell in full]
formats = options.get("--format", "csv").split(",")
wanted = [field.strip() for field in options["--query-gpu"].split(",")]
unknown = [field for field in wanted if field not in header and field not in XML_FIELDS]
if unknown:
    sys.stdout.write('Field "%s" is not a valid field to query.\n' % unknown[0])
    sys.exit(2)
gpus = xml_gpus() if any(field not in header for field in wanted) else {}


def title(field):
    if field in header:
        return full[header.index(field)]
    unit = XML_FIELDS[field][1]
    return "%s [%s]" % (field, unit) if unit else field


out = []
if "noheader" not in formats:
    out.append(", ".join(title(field) if "nounits" not in formats else field for field in wanted))
for line in lines[1:]:
    cells = [cell.strip() for cell in line.split(",")]
    gpu = gpus.get(cells[header.index("pci.bus_id")].upper()) if gpus else None
    values = [cells[header.index(field)] if field in header else xml_value(gpu, field) for field in wanted]
    if "nounits" in formats:
        values = [re.sub(r" (MiB|W|MHz|%)$", "", value) for value in values]
    out.append(", ".join(values))
sys.stdout.write("\n".join(out) + "\n")
