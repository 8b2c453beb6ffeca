#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: inference_node
short_description: Register, update or remove one ML node on a Gonka network node
version_added: 0.2.0
description:
  - Manages one ML node registration through the network node's Admin API (C(/admin/v1/nodes)).
  - Reports a change only when the registered node differs from the requested one. An update is
    a C(DELETE) followed by a C(POST), which behaves the same on every release and never leaves a
    duplicate in the API's persisted node list.
  - If the API rejects the new definition during an update (for instance a model that is not a
    governance model), the previous definition is registered again and the task fails saying so.
  - With O(enabled) and neither O(host) nor O(models), only the admin state of the registered node
    is changed (its definition is read from the API and kept); the task fails when the node is not
    registered.
  - To manage the whole list of a network node in one task, use M(gonka.fleet.inference_nodes).
author:
  - gonka.fleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - gonka.fleet.inference_node
  - gonka.fleet.admin_api
options:
  state:
    description:
      - V(present) registers the node or brings it to the requested definition; V(absent) deregisters it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Predicts exactly the requests a real run would make; nothing is sent but one C(GET).
  diff_mode:
    support: full
    description: Shows the node object and its admin state before and after.
seealso:
  - module: gonka.fleet.inference_nodes
  - module: gonka.fleet.inference_node_info
"""

EXAMPLES = r"""
- name: Register an ML node on its private address
  gonka.fleet.inference_node:
    id: ml1
    host: 10.0.0.21
    models:
      Qwen/Qwen3-32B-FP8:
        args: [--quantization, fp8, --kv-cache-dtype, fp8]

- name: Single-machine topology (the ML node runs beside the network node)
  gonka.fleet.inference_node:
    id: node1
    host: inference
    inference_port: 5000
    poc_port: 8080
    models:
      Qwen/Qwen3-32B-FP8:
        args: [--quantization, fp8, --kv-cache-dtype, fp8]

- name: Stop sending work to ml1 from the next epoch (its registration is kept as it is)
  gonka.fleet.inference_node:
    id: ml1
    enabled: false

- name: Deregister ml1
  gonka.fleet.inference_node:
    id: ml1
    state: absent
"""

RETURN = r"""
node:
  description:
    - The node object as registered (with C(node_num)), or as it will be in check mode.
    - Empty when the node is absent.
  returned: always
  type: dict
  sample:
    id: ml1
    host: 10.0.0.21
    inference_port: 5050
    inference_segment: ""
    poc_port: 8080
    poc_segment: ""
    max_concurrent: 500
    models: {"Qwen/Qwen3-32B-FP8": {"args": ["--quantization", "fp8"]}}
    hardware: [{"type": "NVIDIA H200", "count": 1}]
    version: ""
    node_num: 3
node_state:
  description:
    - The node's state object from the API (C(current_status), C(intended_status), C(admin_state), ...).
    - Empty when the node is absent or not registered yet (check mode).
  returned: always
  type: dict
  sample:
    current_status: INFERENCE
    intended_status: INFERENCE
    failure_reason: ""
    admin_state: {"enabled": true, "epoch": 12}
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [update, disable]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import (
    AdminAPI, AdminAPIError, admin_api_argument_spec)
from ansible_collections.gonka.fleet.plugins.module_utils.nodes import (
    NODE_ARGUMENT_SPEC, apply_plan, desired_entry, index_live, live_node, make_plan, node_label,
    port_conflicts, validate_node)


def plan_actions(plan):
    actions = []
    if plan.add:
        actions.append("create")
    if plan.update:
        actions.append("update")
    actions.extend("enable" if enabled else "disable" for _id, enabled in plan.admin)
    if plan.remove:
        actions.append("delete")
    return actions


def main():
    argument_spec = dict(NODE_ARGUMENT_SPEC)
    argument_spec.update(state=dict(type="str", default="present", choices=["present", "absent"]))
    argument_spec.update(admin_api_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=[("host", "models")],
                           required_if=[("state", "present", ("host", "enabled"), True)])
    params = module.params
    present = params["state"] == "present"
    # enabled without host and models: change the admin state of the registered node only
    admin_only = present and params["host"] is None
    entry = desired_entry(params)
    node_id = entry["node"]["id"]
    label = node_label(entry["node"])
    errors = validate_node(entry["node"], label) if present and not admin_only else []
    if (admin_only or not present) and (not node_id.strip() or "/" in node_id):
        errors.append("%s: id must be a non-empty string without '/'" % label)
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    api = AdminAPI.from_module(module)
    try:
        live_entries = api.list_nodes()
    except AdminAPIError as exc:
        module.fail_json(msg=str(exc))
    index = index_live(live_entries)
    if admin_only:
        if node_id not in index:
            module.fail_json(msg="%s: not registered on %s; give host and models to register it"
                             % (label, params["admin_url"]))
        entry = {"node": live_node(index[node_id]), "enabled": params["enabled"]}
    elif present:
        conflicts = [text for _other, text in port_conflicts(entry["node"], live_entries, label)]
        if conflicts:
            module.fail_json(msg="; ".join(conflicts), errors=conflicts)
    plan = make_plan(live_entries, [entry] if present else [], remove_ids=() if present else (node_id,))

    result = dict(changed=plan.changed, actions=plan_actions(plan))
    if module._diff:
        diff = plan.diff(index)
        result["diff"] = dict(before=diff["before"].get(node_id, {}), after=diff["after"].get(node_id, {}))

    if plan.changed and not module.check_mode:
        outcome = apply_plan(api, plan, batch=False)
        if outcome.failed:
            result.update(outcome.as_dict(), changed=outcome.changed)
            module.fail_json(msg=outcome.message(), **result)
        try:
            index = index_live(api.list_nodes())
        except AdminAPIError as exc:
            module.fail_json(msg="the change was made, but reading it back failed: %s" % exc, **result)
        final = index.get(node_id)
        result["node"] = dict(final["node"]) if final else {}
        result["node_state"] = dict(final["state"] or {}) if final else {}
        module.exit_json(**result)

    node, enabled = plan.predicted(node_id, index)
    live = index.get(node_id)
    result["node"] = {} if node is None else dict(node)
    result["node_state"] = {}
    if node is not None and live is not None:
        if not plan.update:
            result["node"]["node_num"] = live["node"].get("node_num")
        state = dict(live.get("state") or {})
        state["admin_state"] = dict(state.get("admin_state") or {}, enabled=enabled)
        result["node_state"] = state
    module.exit_json(**result)


if __name__ == "__main__":
    main()
