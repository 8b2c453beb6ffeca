#!/usr/bin/env bash
# Start the Admin API simulator on a free loopback port, run the playbook against it, stop it.
set -euo pipefail

python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
# ansible-test runs this from a copy under <collection>/tests/output/.tmp/
collection_root="${PWD%%/tests/output/*}"
simulator="$collection_root/tests/simulators/admin_api.py"
state_dir="$OUTPUT_DIR"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"$python" "$simulator" --port "$port" --persist "$state_dir/nodes.json" \
  --detected-hardware "NVIDIA H200:1" > "$state_dir/simulator.log" 2>&1 &
simulator_pid=$!
trap 'kill "$simulator_pid" 2>/dev/null || true' EXIT

# bounded wait (10 s) for the simulator to answer
"$python" - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/admin/v1/nodes" % sys.argv[1], timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the Admin API simulator did not start")
PY

export ANSIBLE_ROLES_PATH=..
ansible-playbook -i "${INVENTORY_PATH}" playbook.yml \
  -e "admin_url=http://127.0.0.1:$port" -e "persisted_file=$state_dir/nodes.json" "$@"

# The same desired list again, at the CLI: the recap must say changed=0.
ansible-playbook -i "${INVENTORY_PATH}" converge.yml -e "admin_url=http://127.0.0.1:$port" "$@" | tee "$state_dir/rerun.txt"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' "$state_dir/rerun.txt"
ansible-playbook -i "${INVENTORY_PATH}" converge.yml --check -e "admin_url=http://127.0.0.1:$port" "$@" | tee "$state_dir/check.txt"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' "$state_dir/check.txt"
