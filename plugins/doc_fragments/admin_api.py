# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of plugins/module_utils/admin_api.py:admin_api_argument_spec()
    DOCUMENTATION = r"""
options:
  admin_url:
    description:
      - Base URL of the network node's Admin API, without the C(/admin/v1) path.
      - The Admin API has no authentication and listens on C(127.0.0.1:9200) of the network node,
        so run the task on the network node itself.
    type: str
    default: http://127.0.0.1:9200
  timeout:
    description:
      - Seconds to wait for each HTTP request.
      - C(DELETE) waits for the node's pending jobs, so do not set this too low.
    type: float
    default: 30
  retries:
    description:
      - How many times an idempotent request (C(GET), C(DELETE), enable, disable) is retried, with
        exponential backoff, after a connection error or an HTTP 5xx answer.
      - Registrations (C(POST)) are never retried, because on the launch release a repeated C(POST)
        appends a duplicate to the API's persisted node list.
    type: int
    default: 3
  validate_certs:
    description:
      - Verify the TLS certificate when O(admin_url) is C(https) (for instance behind a tunnel).
    type: bool
    default: true
notes:
  - Error messages name the HTTP method, the URL and the text of the API's own C(error) answer.
"""
