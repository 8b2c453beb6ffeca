#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk_free
short_description: Free and total space of the file systems that hold (or will hold) some paths
version_added: 0.2.0
description:
  - For each path, the free and total bytes of the file system it lives on (C(statvfs)). A path that
    does not exist yet is measured on its nearest existing parent, the file system it will be created on.
  - Unlike the C(mounts) fact, it also answers where the root file system is an overlay (containers).
  - Reads only; never changes the host.
author:
  - gonka.fleet contributors (!UNKNOWN)
options:
  paths:
    description: Absolute paths.
    type: list
    elements: path
    required: true
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing to show.
"""

EXAMPLES = r"""
- name: Space for the chain data and the model weights
  gonka.fleet.disk_free:
    paths: [/opt/gonka, /mnt/shared]
  register: space

- name: At least 250 GB free for the chain
  ansible.builtin.assert:
    that: space.paths['/opt/gonka'].free_bytes >= 250 * 1000 ** 3
"""

RETURN = r"""
paths:
  description: Path to its measurement.
  returned: always
  type: dict
  contains:
    measured_at:
      description: The existing path that was measured (the path itself, or its nearest existing parent).
      type: str
    free_bytes:
      description: Bytes available to unprivileged users.
      type: int
    total_bytes:
      description: Size of the file system.
      type: int
  sample:
    /opt/gonka: {measured_at: /opt, free_bytes: 1710000000000, total_bytes: 1920000000000}
"""

import os

from ansible.module_utils.basic import AnsibleModule


def measure(path):
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    stat = os.statvfs(existing)
    return {"measured_at": existing, "free_bytes": stat.f_bavail * stat.f_frsize,
            "total_bytes": stat.f_blocks * stat.f_frsize}


def main():
    module = AnsibleModule(argument_spec=dict(paths=dict(type="list", elements="path", required=True)),
                           supports_check_mode=True)
    relative = [path for path in module.params["paths"] if not os.path.isabs(path)]
    if relative:
        module.fail_json(msg="paths must be absolute: %s" % ", ".join(relative))
    module.exit_json(changed=False, paths=dict((path, measure(path)) for path in module.params["paths"]))


if __name__ == "__main__":
    main()
