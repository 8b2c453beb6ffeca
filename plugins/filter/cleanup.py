# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/cleanup.yml: what may go, keeping the newest N."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible.errors import AnsibleFilterError

# cosmovisor names its copy of the data directory data-backup-<year>-<month>-<day>, without
# zero padding (docs/conformance.md R13.1): the date is read, not the string sorted.
_BACKUP_NAME = re.compile(r"^data-backup-(\d{4})-(\d{1,2})-(\d{1,2})$")


def _keep(keep):
    try:
        keep = int(keep)
    except (TypeError, ValueError):
        raise AnsibleFilterError("keep must be a whole number, got %r" % (keep,))
    if keep < 0:
        raise AnsibleFilterError("keep must be 0 or more, got %d" % keep)
    return keep


def backups_to_remove(found, keep):
    """Paths of cosmovisor's data backups beyond the ``keep`` newest. ``found`` is
    ansible.builtin.find's ``files`` (directories); entries whose name is not
    data-backup-<date> are never returned. Newest by the date in the name, then by mtime."""
    keep = _keep(keep)
    backups = []
    for item in found or []:
        match = _BACKUP_NAME.match(posixpath.basename(item["path"].rstrip("/")))
        if match:
            date = tuple(int(part) for part in match.groups())
            backups.append((date, float(item.get("mtime") or 0), item["path"]))
    backups.sort(reverse=True)
    return [path for _date, _mtime, path in backups[keep:]]


def _repository(reference):
    """ghcr.io/product-science/api:0.2.0 -> ghcr.io/product-science/api (a registry port stays)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def images_to_remove(host_info, repositories, keep, protect=()):
    """Tags of images no container uses (running or stopped), beyond the ``keep`` newest unused
    images of each repository in ``repositories``. ``host_info`` is
    community.docker.docker_host_info's result with ``images`` and ``containers`` (all, verbose);
    ``protect`` are references never removed (the images the release wants, even before they
    run). Returns ``[{name, repository, id, size}]``, oldest first."""
    keep = _keep(keep)
    repositories = set(repositories or [])
    protect = set(ref.split("@", 1)[0] for ref in protect or [])   # a pinned digest: its tag
    used = set()
    for container in host_info.get("containers") or []:
        used.add(container.get("ImageID") or container.get("Image"))
    by_repo = {}
    for image in host_info.get("images") or []:
        if image.get("Id") in used:
            continue
        for tag in image.get("RepoTags") or []:
            repository = _repository(tag)
            if repository in repositories and tag not in protect:
                by_repo.setdefault(repository, []).append((int(image.get("Created") or 0), tag, image))
    removed = []
    for repository, entries in by_repo.items():
        entries.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        for created, tag, image in entries[keep:]:
            removed.append((created, tag, {"name": tag, "repository": repository, "id": image.get("Id"),
                                           "size": int(image.get("Size") or 0)}))
    removed.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _created, _tag, entry in removed]


def image_repositories(catalog, exclude=()):
    """The repositories of every image of every release of a release catalog, sorted; the images
    named in ``exclude`` (keys of ``images``, such as the generic nginx of ``inference``) left out."""
    repositories = set()
    for name, release in (catalog or {}).items():
        if not isinstance(release, dict) or not isinstance(release.get("images"), dict):
            raise AnsibleFilterError("image_repositories: release %r has no images mapping" % (name,))
        repositories.update(_repository(ref) for key, ref in release["images"].items() if ref and key not in exclude)
    return sorted(repositories)


class FilterModule(object):
    def filters(self):
        return {"backups_to_remove": backups_to_remove, "images_to_remove": images_to_remove,
                "image_repositories": image_repositories}
