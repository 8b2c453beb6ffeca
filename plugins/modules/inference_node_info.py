#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: inference_node_info
short_description: List the ML nodes registered on a Gonka network node, with their state
version_added: 0.2.0
description:
  - Reads C(GET /admin/v1/nodes) of the network node's Admin API. Changes nothing.
author:
  - gonka.fleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - gonka.fleet.admin_api
options:
  id:
    description:
      - Return only the node with this id. The result is an empty list when it is not registered.
    type: str
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
seealso:
  - module: gonka.fleet.inference_node
  - module: gonka.fleet.inference_nodes
"""

EXAMPLES = r"""
- name: Read the registrations
  gonka.fleet.inference_node_info:
  register: info

- name: Fail when an ML node cannot be reached by the network node
  ansible.builtin.assert:
    that: item.state.current_status != 'FAILED'
    fail_msg: "{{ item.node.id }}: {{ item.state.failure_reason }}"
    quiet: true
  loop: "{{ info.nodes }}"
  loop_control:
    label: "{{ item.node.id }}"

- name: One node
  gonka.fleet.inference_node_info:
    id: ml1
  register: ml1
"""

RETURN = r"""
nodes:
  description:
    - The registered nodes in the API's order, each as the API gives it, C({node, state}).
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The node object (C(id), C(host), ports, segments, C(models), C(max_concurrent), C(hardware), C(version), C(node_num)).
      type: dict
    state:
      description:
        - The node's state (C(current_status), C(intended_status), C(poc_current_status), C(failure_reason),
          C(admin_state) with C(enabled) and C(epoch), ...).
        - C(current_status) is one of C(UNKNOWN), C(INFERENCE), C(POC), C(TRAINING), C(STOPPED), C(FAILED).
      type: dict
  sample:
    - node: {"id": "ml1", "host": "10.0.0.21", "inference_port": 5050, "poc_port": 8080, "node_num": 1,
             "models": {"Qwen/Qwen3-32B-FP8": {"args": ["--quantization", "fp8"]}}}
      state: {"current_status": "INFERENCE", "admin_state": {"enabled": true, "epoch": 12}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import (
    AdminAPI, AdminAPIError, admin_api_argument_spec)


def main():
    argument_spec = dict(id=dict(type="str"))
    argument_spec.update(admin_api_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        nodes = AdminAPI.from_module(module).list_nodes()
    except AdminAPIError as exc:
        module.fail_json(msg=str(exc))
    if module.params["id"] is not None:
        nodes = [entry for entry in nodes if (entry.get("node") or {}).get("id") == module.params["id"]]
    module.exit_json(changed=False, nodes=nodes)


if __name__ == "__main__":
    main()
