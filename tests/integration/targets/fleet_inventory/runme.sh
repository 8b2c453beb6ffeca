#!/usr/bin/env bash
# playbooks/validate.yml stops a bad inventory before anything changes, naming the host and
# the variable; the example inventories pass. No host is contacted (--skip-tags reachability).
set -euo pipefail

collection_root="${PWD%%/tests/output/*}"
validate="$collection_root/playbooks/validate.yml"
out="$OUTPUT_DIR"

expect_failure() {
  local inventory="$1" message="$2"
  if ansible-playbook -i "inventories/$inventory.yml" "$validate" --skip-tags reachability > "$out/$inventory.txt" 2>&1; then
    echo "validate.yml accepted inventories/$inventory.yml"; cat "$out/$inventory.txt"; exit 1
  fi
  grep -qF -- "$message" "$out/$inventory.txt" || { echo "no '$message' in:"; cat "$out/$inventory.txt"; exit 1; }
  echo "ok: $inventory -> $message"
}

expect_failure duplicate_ids "ml2: node id 'ml1' is already used by ml1"
expect_failure unknown_network_node "ml1: gonka_network_node net9"
expect_failure model_not_in_catalog "ml1: model 'Qwen/QwQ-32B' of gonka_ml_node_models is not in the model catalog"
expect_failure no_private_address "ml1: gonka_private_address is not set"
expect_failure unknown_release "gonka_release: '0.1.0' is not a release of the catalog (known: 0.2.14, 0.2.9, launch)"

# more than gonka_max_fail_percentage (50) of the hosts failed: the play stops for every host, the
# one good host included; with the limit raised (-e, as play keywords read it) that host goes on
most_fail() {
  ansible-playbook -i inventories/most_hosts_fail.yml "$validate" --skip-tags reachability "$@" > "$out/most_fail.txt" 2>&1 \
    && { echo "validate.yml accepted inventories/most_hosts_fail.yml"; cat "$out/most_fail.txt"; exit 1; }
  true
}
most_fail
grep -qF "NO MORE HOSTS LEFT" "$out/most_fail.txt" && ! grep -qF "TASK [The release catalog]" "$out/most_fail.txt" \
  || { echo "3 of 4 hosts failed and the play went on:"; cat "$out/most_fail.txt"; exit 1; }
echo "ok: most_hosts_fail stops the play for every host"
most_fail -e gonka_max_fail_percentage=100
grep -qF "TASK [The release catalog]" "$out/most_fail.txt" \
  || { echo "gonka_max_fail_percentage=100 and net1 stopped anyway:"; cat "$out/most_fail.txt"; exit 1; }
echo "ok: with gonka_max_fail_percentage=100 the good host goes on"

for inventory in example single lab; do
  ansible-playbook -i "$collection_root/inventories/$inventory" "$validate" --skip-tags reachability > "$out/$inventory.txt" 2>&1 \
    || { echo "validate.yml refused inventories/$inventory"; cat "$out/$inventory.txt"; exit 1; }
  echo "ok: inventories/$inventory passes"
done
