# Stand-in for nvidia-smi of the NVIDIA driver (lab apt repository). It answers from outputs captured
# on a real NVIDIA H200 host (tests/unit/fixtures/gpu/h200-x1, installed beside it):
#   nvidia-smi                                        -> the banner (nvidia-smi.txt)
#   nvidia-smi --query-gpu=F1,F2 --format=csv[,noheader][,nounits]
#                                                     -> those columns of query-gpu.csv, the captured
#                                                        full query, with its header and units dropped
#                                                        on request as the real tool does
import os
import re
import sys

DATA = os.environ.get("NVIDIA_SMI_STANDIN_DATA", "/usr/share/nvidia-smi-standin")


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return handle.read()


args = sys.argv[1:]
if not args:
    sys.stdout.write(read("nvidia-smi.txt"))
    sys.exit(0)
options = dict(arg.split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)
if "--query-gpu" not in options:
    sys.stderr.write("nvidia-smi stand-in: only the banner and --query-gpu\n")
    sys.exit(2)
lines = [line for line in read("query-gpu.csv").splitlines() if line.strip()]
header = [re.sub(r" \[.*\]$", "", cell.strip()) for cell in lines[0].split(",")]
formats = options.get("--format", "csv").split(",")
wanted = [field.strip() for field in options["--query-gpu"].split(",")]
unknown = [field for field in wanted if field not in header]
if unknown:
    sys.stdout.write('Field "%s" is not a valid field to query.\n' % unknown[0])
    sys.exit(2)
out = []
if "noheader" not in formats:
    full = [cell.strip() for cell in lines[0].split(",")]
    out.append(", ".join(full[header.index(field)] if "nounits" not in formats else field for field in wanted))
for line in lines[1:]:
    cells = [cell.strip() for cell in line.split(",")]
    if "nounits" in formats:
        cells = [re.sub(r" (MiB|W|MHz|%)$", "", cell) for cell in cells]
    out.append(", ".join(cells[header.index(field)] for field in wanted))
sys.stdout.write("\n".join(out) + "\n")
