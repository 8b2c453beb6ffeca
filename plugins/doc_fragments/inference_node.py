# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of plugins/module_utils/nodes.py:NODE_ARGUMENT_SPEC
    DOCUMENTATION = r"""
options:
  id:
    description:
      - Unique id of the ML node on this network node. It is part of the URL path, so it must not contain C(/).
    type: str
    required: true
  host:
    description:
      - Bare hostname or IP address at which the network node reaches the ML node, without a scheme,
        a port or a path (the API builds C(http://HOST:PORT) itself).
      - The ML node's private address, or the container name C(inference) when the ML node runs on
        the network node's own Docker network.
      - Required to register the node or to change its definition.
    type: str
  inference_port:
    description:
      - Port of the ML node's inference API (the C(inference) nginx maps host port 5050 to C(mlnode) 5000).
    type: int
    default: 5050
  poc_port:
    description:
      - Port of the ML node's management API (C(/api/v1/...)), used for PoC and for the node's state.
    type: int
    default: 8080
  inference_segment:
    description:
      - URL path prefix added to the inference URL; empty or starting with C(/).
    type: str
    default: ''
  poc_segment:
    description:
      - URL path prefix added to the management URL; empty or starting with C(/).
    type: str
    default: ''
  max_concurrent:
    description:
      - Largest number of concurrent requests the network node sends to this ML node.
    type: int
    default: 500
  models:
    description:
      - Models served by the node, as a dict of governance model id to a dict whose C(args) key lists
        the vLLM arguments. Numbers in C(args) are sent as strings.
      - Every model must be a governance model of the chain, or the API rejects the node.
      - Required to register the node or to change its definition.
    type: dict
  hardware:
    description:
      - Hardware of the node, a list of dicts with the keys C(type) and C(count).
      - When left out the API detects it, and the module never reports a change for it.
    type: list
    elements: dict
  version:
    description:
      - ML node version string (URL prefix the API uses with newer ML nodes). Left unmanaged when omitted.
    type: str
  enabled:
    description:
      - Admin state of the node (the C(enable) and C(disable) routes). A disable takes effect from
        the next epoch; the node finishes the current one.
      - When omitted the admin state is left as it is, and kept across an update.
    type: bool
"""
