# Stand-in for nvidia-ctk of the NVIDIA Container Toolkit (lab apt repository). It reproduces what
# the nvidia_runtime role relies on: `nvidia-ctk --version`, and `nvidia-ctk runtime configure
# --runtime=docker [--config=PATH] [--set-as-default]`, which merges the "nvidia" runtime
# ({"args": [], "path": "nvidia-container-runtime"}) into /etc/docker/daemon.json, keeps every other
# key, writes it indented by 4 spaces and asks for a Docker restart - as the real command does.
# Each call is appended to /var/log/nvidia-ctk-standin.log so tests can count them.
import json
import os
import sys
import time

VERSION = "1.17.8"
args = sys.argv[1:]
with open(os.environ.get("NVIDIA_CTK_STANDIN_LOG", "/var/log/nvidia-ctk-standin.log"), "a", encoding="utf-8") as log:
    log.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), " ".join(args)))

if args in (["--version"], ["-v"]):
    print("NVIDIA Container Toolkit CLI version %s\ncommit: standin" % VERSION)
    sys.exit(0)
if args[:2] != ["runtime", "configure"]:
    sys.stderr.write("nvidia-ctk stand-in: unsupported arguments %s\n" % " ".join(args))
    sys.exit(1)
options = dict(arg[2:].split("=", 1) if "=" in arg else (arg[2:], "true") for arg in args[2:])
if options.get("runtime", "docker") != "docker":
    sys.stderr.write("nvidia-ctk stand-in: only --runtime=docker\n")
    sys.exit(1)
path = options.get("config", "/etc/docker/daemon.json")
config = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
config.setdefault("runtimes", {})["nvidia"] = {"args": [], "path": "nvidia-container-runtime"}
if options.get("set-as-default") == "true":
    config["default-runtime"] = "nvidia"
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w", encoding="utf-8") as handle:
    json.dump(config, handle, indent=4)
print('INFO[0000] Loading config from %s' % path)
print('INFO[0000] Wrote updated config to %s' % path)
print('INFO[0000] It is recommended that docker daemon be restarted.')
