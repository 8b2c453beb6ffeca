#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_info
short_description: What a Gonka network node says about itself - chain height against the seed's, epoch, ML nodes
version_added: 0.2.0
description:
  - Reads, on the network node, the chain node's RPC C(/status) (height, C(catching_up)), the seed's
    RPC C(/status) (the block lag), the Admin API's ML nodes, the public API's latest epoch and the
    account's entry among the current epoch's active participants (PoC participation), and the Admin
    API's C(/admin/v1/setup/report) where the release has it.
  - Each source is read on its own; one that does not answer is named in RV(errors) and the others are
    still read. Changes nothing.
author:
  - gonka.fleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - gonka.fleet.admin_api
options:
  rpc_url:
    description: The chain node's CometBFT RPC as the network node reaches it.
    type: str
    default: http://127.0.0.1:26657
  seed_rpc_urls:
    description:
      - RPC addresses of the network's seeds; the first that answers gives the height the node is
        compared with. Empty - no lag is measured.
    type: list
    elements: str
    default: []
  api_url:
    description:
      - The node's public API (the proxy) as the network node reaches it, for the epoch and the participants.
        Empty - neither is read.
    type: str
    default: ""
  account_address:
    description: The host's account address (C(gonka1...)); its entry among the current epoch's participants is returned.
    type: str
    default: ""
  setup_report:
    description: Read C(GET /admin/v1/setup/report); a release without the route gives RV(setup_report=null).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
seealso:
  - module: gonka.fleet.inference_node_info
"""

EXAMPLES = r"""
- name: Read the network node's state
  gonka.fleet.node_info:
    seed_rpc_urls: [http://node2.gonka.ai:8000/chain-rpc/]
    api_url: http://127.0.0.1:8000
    account_address: gonka1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjn7ld8
  register: node

- name: Fail when the node is more than 50 blocks behind the seed
  ansible.builtin.assert:
    that: node.block_lag is not none and node.block_lag <= 50
    fail_msg: "{{ inventory_hostname }}: {{ node.block_lag }} blocks behind ({{ node.errors }})"
"""

RETURN = r"""
chain:
  description: The chain node's state; null when its RPC did not answer (see RV(errors)).
  returned: always
  type: dict
  contains:
    height: {description: Latest block height., type: int}
    catching_up: {description: Whether the node is still syncing., type: bool}
    latest_block_time: {description: Time of the latest block., type: str}
    network: {description: The chain id., type: str}
    moniker: {description: The node's moniker., type: str}
  sample: {height: 1204551, catching_up: false, latest_block_time: "2026-11-27T10:00:00Z", network: gonka-mainnet, moniker: node}
seed:
  description: The first seed that answered, as RV(chain) plus its C(url); null when none did.
  returned: always
  type: dict
block_lag:
  description: The seed's height minus the node's; null when either is unknown.
  returned: always
  type: int
  sample: 2
ml_nodes:
  description: The Admin API's ML nodes (as M(gonka.fleet.inference_node_info) returns them); null when it did not answer.
  returned: always
  type: list
  elements: dict
epoch:
  description: "The latest epoch: C(index), C(phase) (C(Inference), C(PoCGenerate), ...), C(block_height); null when unread."
  returned: always
  type: dict
  sample: {index: 120, phase: Inference, block_height: 1204551}
participation:
  description: >-
    The account among the current epoch's active participants: C(listed), C(weight), C(models), C(epoch);
    null when unread.
  returned: always
  type: dict
  sample: {listed: true, weight: 1450, models: [Qwen/Qwen3-32B-FP8], epoch: 120}
setup_report:
  description: The Admin API's setup report as the release gives it; null when the release has no such route.
  returned: always
  type: dict
errors:
  description: Source (C(chain), C(seed), C(ml_nodes), C(epoch), C(participation), C(setup_report)) to what went wrong.
  returned: always
  type: dict
  sample: {seed: "GET http://node2.gonka.ai:26657/status: timed out"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import admin_api_argument_spec
from ansible_collections.gonka.fleet.plugins.module_utils.node_status import read


def main():
    argument_spec = dict(
        rpc_url=dict(type="str", default="http://127.0.0.1:26657"),
        seed_rpc_urls=dict(type="list", elements="str", default=[]),
        api_url=dict(type="str", default=""),
        account_address=dict(type="str", default=""),
        setup_report=dict(type="bool", default=True),
    )
    argument_spec.update(admin_api_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(changed=False, **read(module.params))


if __name__ == "__main__":
    main()
