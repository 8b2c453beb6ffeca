#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: inference_nodes
short_description: Reconcile the ML nodes registered on a Gonka network node with a desired list
version_added: 0.2.0
description:
  - Brings the registrations of a network node's Admin API to a desired list of ML nodes in one task.
  - Reads the registered nodes with one C(GET); registers all new nodes with one batch C(POST)
    (C(/admin/v1/nodes/batch)); re-registers changed nodes with C(DELETE) then C(POST), which never
    leaves a duplicate in the API's persisted list; sets the admin state of nodes whose C(enabled)
    differs; with O(exclusive=true) removes nodes that are not in the list.
  - When nothing differs it makes exactly one HTTP request, whatever the number of nodes.
  - The whole list is validated before any request. A node the API rejects is reported with the API's
    message and its models; a rejected update puts the previous definition back. The other nodes are
    still converged, and the result says what happened to each node.
author:
  - gonka.fleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - gonka.fleet.admin_api
options:
  nodes:
    description:
      - The desired ML nodes. Each element takes the options C(id), C(host), C(inference_port),
        C(poc_port), C(inference_segment), C(poc_segment), C(max_concurrent), C(models), C(hardware),
        C(version) and C(enabled), with the meaning and defaults they have in M(gonka.fleet.inference_node).
      - C(id), C(host) and C(models) are required in each element. Ids must be unique, and no two
        nodes may share a host and port.
    type: list
    elements: dict
    required: true
  exclusive:
    description:
      - Remove every registered node whose id is not in O(nodes).
    type: bool
    default: false
  disable_before_remove:
    description:
      - With O(exclusive=true), disable a node before deregistering it, so the API stops scheduling it
        from the next epoch. To let it finish the epoch first, use C(playbooks/remove_ml_node.yml).
    type: bool
    default: false
  keep:
    description:
      - Ids of registered nodes to leave exactly as they are, even with O(exclusive=true) - neither
        removed, re-registered, enabled nor disabled. For ML hosts a play could not reach, whose
        definition it does not know. An id may not be both here and in O(nodes).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    description: Reports exactly which nodes would be added, updated, enabled, disabled and removed; only one C(GET) is sent.
  diff_mode:
    support: full
    description: Shows, for each node that changes, its node object and admin state before and after.
seealso:
  - module: gonka.fleet.inference_node
  - module: gonka.fleet.inference_node_info
"""

EXAMPLES = r"""
- name: Register the ML nodes of this network node, and only these
  gonka.fleet.inference_nodes:
    exclusive: true
    disable_before_remove: true
    nodes:
      - id: ml1
        host: 10.0.0.21
        models:
          Qwen/Qwen3-32B-FP8: {args: [--quantization, fp8, --kv-cache-dtype, fp8]}
      - id: ml2
        host: 10.0.0.22
        max_concurrent: 300
        models:
          Qwen/Qwen3-235B-A22B-Instruct-2507-FP8:
            args: [--quantization, fp8, --kv-cache-dtype, fp8, --tensor-parallel-size, "4"]
  register: registration

- name: Show what changed
  ansible.builtin.debug:
    msg: "added {{ registration.added }}, updated {{ registration.updated }}, removed {{ registration.removed }}"
"""

RETURN = r"""
added:
  description: Ids of the nodes registered (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [ml3]
updated:
  description: Ids of the nodes re-registered with a new definition.
  returned: always
  type: list
  elements: str
  sample: [ml1]
removed:
  description: Ids of the nodes deregistered.
  returned: always
  type: list
  elements: str
  sample: [ml2]
enabled:
  description: Ids of the nodes enabled.
  returned: always
  type: list
  elements: str
  sample: []
disabled:
  description: Ids of the nodes disabled, including nodes disabled before removal.
  returned: always
  type: list
  elements: str
  sample: [ml2]
kept:
  description: Ids of O(keep) that are registered, left as they were.
  returned: always
  type: list
  elements: str
  sample: [ml2]
  version_added: 0.2.0
unchanged:
  description: Ids of the desired nodes that were already registered as requested.
  returned: always
  type: list
  elements: str
  sample: [ml4, ml5]
restored:
  description: Ids of nodes whose update the API rejected and whose previous definition was registered again.
  returned: always
  type: list
  elements: str
  sample: []
failures:
  description:
    - One entry for each node that did not converge, with C(id), C(action) (registration, update,
      enable, disable, removal) and C(error). The task fails when this is not empty.
  returned: always
  type: list
  elements: dict
  sample:
    - id: ml3
      action: registration
      error: >-
        POST http://127.0.0.1:9200/admin/v1/nodes/batch answered HTTP 201 without this node: ...
        (one possible cause: the chain accepts only governance models; this node asks for: Qwen/QwQ-32B)
http_requests:
  description: Number of HTTP requests the task made to the Admin API, retries included.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import (
    AdminAPI, AdminAPIError, admin_api_argument_spec)
from ansible_collections.gonka.fleet.plugins.module_utils.nodes import (
    ValidationError, admin_enabled, apply_plan, desired_entries_from_list, index_live, make_plan, node_label,
    port_conflicts)


def planned(plan):
    """The result lists as check mode predicts them."""
    return dict(
        added=[e["node"]["id"] for e in plan.add],
        updated=[e["node"]["id"] for _live, e, _fields in plan.update],
        removed=[live["node"]["id"] for live in plan.remove],
        enabled=[node_id for node_id, enabled in plan.admin if enabled],
        disabled=[node_id for node_id, enabled in plan.admin if not enabled],
        restored=[],
        failures=[],
    )


def main():
    argument_spec = dict(
        nodes=dict(type="list", elements="dict", required=True),
        exclusive=dict(type="bool", default=False),
        disable_before_remove=dict(type="bool", default=False),
        keep=dict(type="list", elements="str", default=[]),
    )
    argument_spec.update(admin_api_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        desired = desired_entries_from_list(params["nodes"])
    except ValidationError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)

    keep = set(params["keep"])
    both = sorted(keep.intersection(e["node"]["id"] for e in desired))
    if both:
        module.fail_json(msg="ids both in nodes and in keep: %s" % ", ".join(both))

    api = AdminAPI.from_module(module)
    try:
        everything = api.list_nodes()
    except AdminAPIError as exc:
        module.fail_json(msg=str(exc))
    kept = [e for e in everything if e["node"]["id"] in keep]
    # the plan never sees the kept nodes: nothing can remove or change them
    live_entries = [e for e in everything if e["node"]["id"] not in keep]
    index = index_live(live_entries)
    wanted = set(e["node"]["id"] for e in desired)
    staying = kept + ([e for e in live_entries if e["node"]["id"] not in wanted] if not params["exclusive"] else [])
    conflicts = []
    for position, entry in enumerate(desired):
        label = node_label(entry["node"], position)
        conflicts.extend(text for _other, text in port_conflicts(entry["node"], staying, label))
    if conflicts:
        module.fail_json(msg="; ".join(conflicts), errors=conflicts)

    plan = make_plan(live_entries, desired, exclusive=params["exclusive"])
    disabling = params["exclusive"] and params["disable_before_remove"]
    result = dict(changed=plan.changed, unchanged=plan.unchanged, kept=[e["node"]["id"] for e in kept],
                  **planned(plan))
    if disabling:
        result["disabled"] += [live["node"]["id"] for live in plan.remove if admin_enabled(live)]
    if module._diff:
        result["diff"] = plan.diff(index)
    if plan.changed and not module.check_mode:
        outcome = apply_plan(api, plan, batch=True, disable_before_remove=disabling)
        result.update(outcome.as_dict(), changed=outcome.changed)
        result["http_requests"] = api.requests_made
        if outcome.failed:
            module.fail_json(msg=outcome.message(), **result)
    result["http_requests"] = api.requests_made
    module.exit_json(**result)


if __name__ == "__main__":
    main()
