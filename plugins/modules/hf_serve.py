#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hf_serve
short_description: Serve a host's Hugging Face cache to other hosts with the Hub's download routes
version_added: 0.2.0
description:
  - Serves the repositories of O(hf_home) that M(gonka.fleet.hf_model) verified and described in its
    manifests, with the routes huggingface_hub and M(gonka.fleet.hf_model) download from (model info,
    file tree, C(resolve) with C(Range)), on O(bind):O(port), until C(POST /_gonka/stop) or O(timeout).
  - A repository this host is still copying is served too, each file not finished yet from its
    C(.incomplete) file as it grows, so hosts can copy from each other at once (the model_cache
    role's fan-out tree). Clients verify every byte.
  - Meant to run as an async task (C(async), C(poll 0)) while the other hosts copy; it returns when
    it stops.
author:
  - gonka.fleet contributors (!UNKNOWN)
options:
  hf_home:
    description: The Hugging Face home whose C(hub) cache is served.
    type: path
    required: true
  bind:
    description: Address to listen on (the host's private address).
    type: str
    required: true
  port:
    description: Port to listen on.
    type: int
    required: true
  timeout:
    description: Seconds after which the server stops even without a stop request.
    type: float
    default: 21600
attributes:
  check_mode:
    support: full
    description: Serves nothing in check mode.
  diff_mode:
    support: none
    description: Nothing to show.
"""

EXAMPLES = r"""
- name: Serve the cache while the other ML hosts copy from it
  gonka.fleet.hf_serve:
    hf_home: /mnt/shared
    bind: 10.0.0.21
    port: 8765
  async: 21660
  poll: 0

- name: Stop it, and read what it served
  ansible.builtin.uri:
    url: http://10.0.0.21:8765/_gonka/stop
    method: POST
  register: stopped
"""

RETURN = r"""
bytes_served:
  description: Bytes of file bodies sent to clients.
  returned: always
  type: int
  sample: 65755463680
stopped_by:
  description: What stopped the server - C(request) (POST /_gonka/stop), C(timeout), or C(check_mode).
  returned: always
  type: str
  sample: request
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gonka.fleet.plugins.module_utils.hf_serve import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hf_home=dict(type="path", required=True),
            bind=dict(type="str", required=True),
            port=dict(type="int", required=True),
            timeout=dict(type="float", default=21600),
        ),
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=False, bytes_served=0, stopped_by="check_mode")
    try:
        bytes_served, stopped_by = run(module.params["hf_home"], module.params["bind"], module.params["port"],
                                       module.params["timeout"])
    except (OSError, IOError) as exc:
        module.fail_json(msg="cannot serve %s on %s:%d: %s" % (
            module.params["hf_home"], module.params["bind"], module.params["port"], exc))
    module.exit_json(changed=False, bytes_served=bytes_served, stopped_by=stopped_by)


if __name__ == "__main__":
    main()
