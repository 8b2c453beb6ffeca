#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hf_model_wait
short_description: Wait for a background gonka.fleet.hf_model job, showing its progress
version_added: 0.2.0
description:
  - Polls a M(gonka.fleet.hf_model) job started with C(async) and C(poll=0) until it ends, from the
    controller (an action plugin) - one C(async_status) per poll, and the download's progress record
    (C(gonka-progress.json) in the repository's cache folder) shown as a line per poll.
  - Returns the job's own result once it finished (C(changed) when it downloaded something); fails
    when the job failed, or when it still runs after O(timeout) seconds (the job keeps running).
  - A job that is already finished (a model verified in place) costs one poll and no wait.
author:
  - gonka.fleet contributors (!UNKNOWN)
options:
  jid:
    description: The C(ansible_job_id) of the M(gonka.fleet.hf_model) task.
    type: str
    required: true
  repo_id:
    description: The model the job downloads (its O(gonka.fleet.hf_model#module:repo_id)).
    type: str
    required: true
  hf_home:
    description: The job's O(gonka.fleet.hf_model#module:hf_home).
    type: str
    default: ~/.cache/huggingface
  cache_dir:
    description: The job's O(gonka.fleet.hf_model#module:cache_dir), when it set one.
    type: str
  timeout:
    description: Seconds to wait in all.
    type: int
    default: 21600
  poll_interval:
    description:
      - Seconds between two progress lines, and the longest pause between two polls. The first polls come
        sooner (0.25 s, then doubling), so that a job that ends at once (a model already complete) is seen at once.
    type: int
    default: 10
attributes:
  action:
    support: full
    description: Runs on the controller; the host runs C(async_status) and C(slurp) at each poll.
  check_mode:
    support: none
    description: There is no background job in check mode.
  diff_mode:
    support: none
    description: Nothing to compare.
seealso:
  - module: gonka.fleet.hf_model
"""

EXAMPLES = r"""
- name: Download in the background
  gonka.fleet.hf_model:
    repo_id: Qwen/Qwen3-32B-FP8
    hf_home: /mnt/shared
  async: 21600
  poll: 0
  register: job

- name: Wait for it, showing the progress
  gonka.fleet.hf_model_wait:
    jid: "{{ job.ansible_job_id }}"
    repo_id: Qwen/Qwen3-32B-FP8
    hf_home: /mnt/shared
"""

RETURN = r"""
polls:
  description: How many times the job was polled.
  returned: always
  type: int
  sample: 3
finished:
  description: Whether the job ended.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

# the action plugin (plugins/action/hf_model_wait.py) validates its arguments with this spec
ARGUMENT_SPEC = dict(
    jid=dict(type="str", required=True),
    repo_id=dict(type="str", required=True),
    hf_home=dict(type="str", default="~/.cache/huggingface"),
    cache_dir=dict(type="str"),
    timeout=dict(type="int", default=21600),
    poll_interval=dict(type="int", default=10),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC)
    module.fail_json(msg="gonka.fleet.hf_model_wait runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
