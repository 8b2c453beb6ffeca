#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: deployment_lock
short_description: Take or release the lock of a Gonka deploy directory that upstream's scripts take
version_added: 0.2.0
description:
  - Upstream's deploy scripts take an exclusive C(flock) on C(<deploy directory>/.gonka-deployment.lock) while
    they change a deployment, and give up at once when someone else holds it. This module takes the same lock
    for a play, so a play never races the official scripts or another play.
  - With O(state=present) a small detached process keeps the lock until O(state=absent) with the same O(owner), or
    until O(ttl) seconds have passed (a play that was killed cannot block the host for longer). Who holds it is
    written next to the lock (C(.gonka-deployment.lock.holder)).
  - Fails at once, naming the holder, when the lock is held by anyone else. Taking it again with the same O(owner)
    is a no-op.
  - A lock held for the length of a play is not a change of the host - the module never reports C(changed).
author:
  - gonka.fleet contributors (!UNKNOWN)
options:
  path:
    description: The deploy directory (created with mode C(0750) when missing, as the roles create it).
    type: path
    required: true
  owner:
    description: Who takes the lock - the same value releases it. Each run must use its own.
    type: str
    required: true
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  ttl:
    description: Seconds after which the lock is let go even if never released.
    type: int
    default: 7200
attributes:
  check_mode:
    support: full
    description: Checks that the lock is free, without taking it.
  diff_mode:
    support: none
    description: Nothing to show.
seealso:
  - name: upstream's deployment-lock.sh
    description: The lock the official deploy scripts take (gonka-ai/gonka deploy/join).
    link: https://github.com/gonka-ai/gonka/tree/main/deploy/join
"""

EXAMPLES = r"""
- name: Change the network node under its lock
  block:
    - name: Take the lock
      gonka.fleet.deployment_lock:
        path: /opt/gonka
        owner: "{{ lock_owner }}"

    - name: Start the containers
      community.docker.docker_compose_v2:
        project_src: /opt/gonka
  always:
    - name: Release the lock
      gonka.fleet.deployment_lock:
        path: /opt/gonka
        owner: "{{ lock_owner }}"
        state: absent
"""

RETURN = r"""
lock:
  description: The lock file.
  returned: always
  type: str
  sample: /opt/gonka/.gonka-deployment.lock
held:
  description: Whether the lock is held for O(owner) when the module returns.
  returned: always
  type: bool
holder:
  description: The holding process (C(pid), C(owner), C(since), C(ttl)) after taking it; null otherwise.
  returned: always
  type: dict
  sample: {pid: 4711, owner: "net1 2026-11-28T01:00:00 81723", since: 1795827600, ttl: 7200}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gonka.fleet.plugins.module_utils import deployment_lock


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), owner=dict(type="str", required=True),
                           state=dict(type="str", choices=["present", "absent"], default="present"),
                           ttl=dict(type="int", default=7200)),
        supports_check_mode=True)
    params = module.params
    lock = deployment_lock.paths(params["path"])[0]
    if params["state"] == "absent":
        if not module.check_mode:
            deployment_lock.release(params["path"], params["owner"])
        module.exit_json(changed=False, lock=lock, held=False, holder=None)
    if params["ttl"] < 1:
        module.fail_json(msg="ttl must be 1 or more", lock=lock)
    try:
        _held_before, holder = deployment_lock.acquire(params["path"], params["owner"], params["ttl"],
                                                       check_mode=module.check_mode)
    except deployment_lock.LockBusy as exc:
        module.fail_json(msg=str(exc), lock=lock, held=False, holder=None)
    module.exit_json(changed=False, lock=lock, held=holder is not None, holder=holder)


if __name__ == "__main__":
    main()
