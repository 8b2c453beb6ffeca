#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gpu_facts
short_description: NVIDIA GPU inventory of a host, as facts
version_added: 0.2.0
description:
  - Reads the host's NVIDIA GPUs from NVML (the C(pynvml) module of nvidia-ml-py) when it can be imported,
    else from C(nvidia-smi --query-gpu=... --format=csv,noheader,nounits) and the CUDA version of the
    C(nvidia-smi) banner.
  - Sets the fact C(gonka_gpus) - count, names, memory, driver and CUDA versions, and per GPU its index,
    UUID, name, memory, compute capability, PCI bus id and MIG mode.
  - A host without a GPU or without a working driver is not an error - C(count) is 0 and C(error) says why.
author:
  - gonka.fleet contributors (!UNKNOWN)
options:
  source:
    description:
      - V(auto) tries NVML first, then nvidia-smi; V(nvml) and V(nvidia-smi) use only that source.
    type: str
    choices: [auto, nvml, nvidia-smi]
    default: auto
  nvidia_smi:
    description: Name or path of the nvidia-smi program.
    type: str
    default: nvidia-smi
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  facts:
    support: full
    description: Sets C(gonka_gpus).
"""

EXAMPLES = r"""
- name: Read the GPUs
  gonka.fleet.gpu_facts:

- name: Stop when an ML host has less GPU memory than its models need
  ansible.builtin.assert:
    that: ansible_facts.gonka_gpus.total_memory_mib >= 80000
    fail_msg: "{{ inventory_hostname }}: {{ ansible_facts.gonka_gpus.error or ansible_facts.gonka_gpus.names }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    gonka_gpus:
      description: The GPU inventory.
      type: dict
      contains:
        source:
          description: Where the facts came from - C(nvml), C(nvidia-smi), or C(none).
          type: str
        count:
          description: Number of GPUs.
          type: int
        names:
          description: Distinct GPU names.
          type: list
          elements: str
        total_memory_mib:
          description: Memory of all GPUs together, in MiB.
          type: int
        driver_version:
          description: NVIDIA driver version.
          type: str
        cuda_version:
          description: Highest CUDA version the driver supports.
          type: str
        gpus:
          description: One entry per GPU with C(index), C(uuid), C(name), C(memory_mib), C(compute_capability), C(pci_bus_id), C(mig_mode).
          type: list
          elements: dict
        error:
          description: Why there are no GPU facts (no nvidia-smi, driver not loaded), else null.
          type: str
  sample:
    gonka_gpus:
      source: nvidia-smi
      count: 1
      names: [NVIDIA H200]
      total_memory_mib: 143771
      driver_version: 580.159.04
      cuda_version: "13.0"
      gpus:
        - {index: 0, uuid: GPU-fcb7ca97-bfcc-fefd-ace7-bc505d8b2d51, name: NVIDIA H200, memory_mib: 143771,
           compute_capability: "9.0", pci_bus_id: "00000000:00:06.0", mig_mode: disabled}
      error: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils.gpu import (
    QUERY_FIELDS, empty_facts, facts_from_nvml, facts_from_rows, parse_cuda_version, parse_query_csv)


def from_nvml():
    """(facts, error): facts is None when NVML cannot be used."""
    try:
        import pynvml  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None, "NVML is not available (nvidia-ml-py is not installed)"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # pylint: disable=broad-except  # NVMLError: no driver, no library
        return None, "NVML could not start: %s" % exc
    try:
        return facts_from_nvml(pynvml), None
    finally:
        pynvml.nvmlShutdown()


def from_nvidia_smi(module, program):
    path = module.get_bin_path(program)
    if not path:
        return None, "%s not found: no NVIDIA driver on this host" % program
    query = "--query-gpu=%s" % ",".join(QUERY_FIELDS)
    rc, out, err = module.run_command([path, query, "--format=csv,noheader,nounits"])
    if rc != 0:
        reason = (err or out).strip().splitlines()
        return None, "nvidia-smi failed (rc %d): %s" % (rc, reason[0] if reason else "no output")
    _rc, banner, _err = module.run_command([path])
    return facts_from_rows(parse_query_csv(out), parse_cuda_version(banner)), None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            source=dict(type="str", default="auto", choices=["auto", "nvml", "nvidia-smi"]),
            nvidia_smi=dict(type="str", default="nvidia-smi"),
        ),
        supports_check_mode=True,
    )
    source = module.params["source"]
    facts, errors = None, []
    if source in ("auto", "nvml"):
        facts, error = from_nvml()
        errors.append(error)
    if facts is None and source in ("auto", "nvidia-smi"):
        facts, error = from_nvidia_smi(module, module.params["nvidia_smi"])
        errors.append(error)
    if facts is None:
        facts = empty_facts()
        facts["error"] = "; ".join(e for e in errors if e)
    module.exit_json(changed=False, ansible_facts={"gonka_gpus": facts})


if __name__ == "__main__":
    main()
