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
expect_failure unknown_release "gonka_release: '0.1.0' is not a release of the catalog (known: 0.2.9, launch)"

for inventory in example single lab; do
  ansible-playbook -i "$collection_root/inventories/$inventory" "$validate" --skip-tags reachability > "$out/$inventory.txt" 2>&1 \
    || { echo "validate.yml refused inventories/$inventory"; cat "$out/$inventory.txt"; exit 1; }
  echo "ok: inventories/$inventory passes"
done
