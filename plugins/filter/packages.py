# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters about the Python packages the roles install on hosts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def _canonical(name):
    """PEP 503: huggingface_hub, HuggingFace-Hub and huggingface.hub are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_met(requirements, installed):
    """True when every requirement is an exact pin (``name==version``) that ``installed`` (the
    packages of one client in community.general.pip_package_info: name -> [{version}]) holds.
    Anything else - a range, an unpinned name, a missing package - is not known to be met."""
    versions = {}
    for name, entries in (installed or {}).items():
        versions.setdefault(_canonical(name), set()).update(str(entry.get("version")) for entry in entries or [])
    for requirement in requirements or []:
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s,;]+)\s*$", str(requirement))
        if not match or match.group(2) not in versions.get(_canonical(match.group(1)), set()):
            return False
    return bool(requirements)


class FilterModule(object):
    def filters(self):
        return {"pins_met": pins_met}
