# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/backup.yml and playbooks/restore.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.errors import AnsibleFilterError


def _relative(path, base):
    relative = posixpath.relpath(path, base)
    if relative.startswith("../") or relative == "..":
        raise AnsibleFilterError("backup_manifest: %s is not under %s" % (path, base))
    return relative


def backup_manifest(found, stats, base):
    """The backup's manifest: one ``{path, sha256, size, mode}`` per file, ``path`` relative to the
    deploy directory ``base``, sorted. ``found`` is ansible.builtin.find's ``files`` (with
    sha256 checksums), ``stats`` the ``results`` of ansible.builtin.stat looped over single files
    (missing ones are left out)."""
    entries = {}
    for item in found or []:
        entries[_relative(item["path"], base)] = {"sha256": item["checksum"], "size": item["size"],
                                                  "mode": item["mode"]}
    for result in stats or []:
        stat = result.get("stat") or {}
        if stat.get("exists") and stat.get("isreg"):
            entries[_relative(stat["path"], base)] = {"sha256": stat["checksum"], "size": stat["size"],
                                                      "mode": stat["mode"]}
    return [dict(path=path, **entries[path]) for path in sorted(entries)]


def restore_plan(manifest, stats):
    """The manifest's entries whose file on the host is missing or differs (sha256), from the
    ``results`` of ansible.builtin.stat looped over the manifest."""
    current = dict((result["item"]["path"], (result.get("stat") or {}).get("checksum")) for result in stats or [])
    return [entry for entry in manifest if current.get(entry["path"]) != entry["sha256"]]


class FilterModule(object):
    def filters(self):
        return {"backup_manifest": backup_manifest, "restore_plan": restore_plan}
