#!/usr/bin/env bash
# The preflight role measures this machine for real (facts, mounts, listening ports, Docker) and
# judges it against minimums chosen on either side of what it has: met -> table and pass; not met
# with strict -> the play fails naming the host and each failed check; not strict -> it goes on.
# It changes nothing, in check mode too.
set -euo pipefail
out="$OUTPUT_DIR"
run() { ansible-playbook -i inventory.yml preflight.yml "$@"; }

low=(-e gonka_preflight_network_node_min_cores=1 -e gonka_preflight_ml_node_min_cores=1
     -e gonka_preflight_network_node_min_memory_gb=1 -e gonka_preflight_ml_node_min_memory_gb=1
     -e gonka_preflight_network_node_min_disk_free_gb=0)
run "${low[@]}" > "$out/pass.txt" 2>&1 || { cat "$out/pass.txt"; exit 1; }
grep -q "box preflight" "$out/pass.txt" || { echo "no summary table"; cat "$out/pass.txt"; exit 1; }
grep -qE '"CPU cores +>= 1 +[0-9]+ +ok"' "$out/pass.txt" || { echo "no CPU row"; cat "$out/pass.txt"; exit 1; }
grep -qE 'changed=0 ' "$out/pass.txt" || { echo "preflight changed something"; cat "$out/pass.txt"; exit 1; }
echo "ok: minimums met"

run "${low[@]}" --check > "$out/check.txt" 2>&1 || { cat "$out/check.txt"; exit 1; }
echo "ok: check mode"

high=(-e gonka_preflight_network_node_min_cores=100000 -e gonka_preflight_ml_node_min_memory_gb=100000000)
if run "${high[@]}" > "$out/fail.txt" 2>&1; then echo "preflight passed impossible minimums"; cat "$out/fail.txt"; exit 1; fi
grep -qF "box fails the preflight: CPU cores; RAM" "$out/fail.txt" || { echo "no failure naming host and checks"; cat "$out/fail.txt"; exit 1; }
echo "ok: strict failure names the host and the checks"

run "${high[@]}" -e gonka_preflight_strict=false > "$out/warn.txt" 2>&1 || { cat "$out/warn.txt"; exit 1; }
grep -qE '"CPU cores +>= 100000 .*FAIL"' "$out/warn.txt" || { echo "no FAIL row"; cat "$out/warn.txt"; exit 1; }
echo "ok: not strict goes on with the table"

# a disk too small for the model weights (the catalog says 90000 GB): the failure names the host
# and the check, its row the path and both sizes
huge='{"gonka_model_catalog_extra": {"Qwen/Qwen3-32B-FP8": {"args": [], "weights_gb": 90000, "min_vram_gib": 64}}}'
if run "${low[@]}" -e "$huge" > "$out/disk.txt" 2>&1; then echo "preflight passed a disk too small"; cat "$out/disk.txt"; exit 1; fi
grep -qF "box fails the preflight: disk free for the weights" "$out/disk.txt" \
  || { echo "no failure naming host and check"; cat "$out/disk.txt"; exit 1; }
grep -qE "\"disk free for the weights +>= 90000 GB in $out +[0-9]+ GB +FAIL\"" "$out/disk.txt" \
  || { echo "no row with the path and the sizes"; cat "$out/disk.txt"; exit 1; }
echo "ok: a disk too small for the weights names host, path and sizes"
