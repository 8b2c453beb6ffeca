# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the release catalog (roles/release/vars/main.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

# What every entry of the catalog must have, and the images every release deploys.
REQUIRED_KEYS = ("version", "images", "services", "api_node_store", "seeds", "environment",
                 "proxy_api_port_variable", "proxy_resolves_once")
REQUIRED_IMAGES = ("tmkms", "node", "api", "proxy", "explorer", "mlnode", "inference")
REQUIRED_SEEDS = ("api_url", "node_rpc_url", "node_p2p_url", "rpc_server_urls")
# What an entry may leave out, and the value it then has.
OPTIONAL_KEYS = {"proxy_https": False, "bridge_p2p_published": False}
API_NODE_STORES = ("config", "database")
# Compute capabilities of the GPUs that need the -blackwell mlnode image (sm_100, sm_103, sm_120;
# docs/conformance.md R9.1).
BLACKWELL_CAPABILITIES = ("10.0", "10.3", "12.0")


def release(catalog, name, extra=None):
    """The catalog entry of release ``name`` (the shipped catalog combined with ``extra``), checked.

    Fails naming the variable and the problem: an unknown release lists the known ones."""
    releases = dict(catalog or {})
    releases.update(extra or {})
    name = str(name)
    if name not in releases:
        raise AnsibleFilterError("gonka_release: %r is not a release of the catalog (known: %s)"
                                 % (name, ", ".join(sorted(releases))))
    entry = releases[name]
    problems = ["%s is missing" % key for key in REQUIRED_KEYS if key not in (entry or {})]
    if not problems:
        images = entry["images"] or {}
        problems += ["images.%s is missing" % key for key in REQUIRED_IMAGES if not images.get(key)]
        problems += ["services lists %s, which has no image" % service
                     for service in entry["services"] or [] if not images.get(service)]
        problems += ["seeds.%s is missing" % key for key in REQUIRED_SEEDS if not (entry["seeds"] or {}).get(key)]
        if entry["api_node_store"] not in API_NODE_STORES:
            problems.append("api_node_store must be one of %s" % ", ".join(API_NODE_STORES))
        if not isinstance(entry["proxy_resolves_once"], bool):
            problems.append("proxy_resolves_once must be true or false")
        problems += ["%s must be true or false" % key for key in OPTIONAL_KEYS
                     if key in entry and not isinstance(entry[key], bool)]
        if "bridge" in (entry["services"] or []) and not (entry["seeds"] or {}).get("beacon_state_url"):
            problems.append("services lists bridge, which needs seeds.beacon_state_url")
        # versiond dials the api's NodeManager at the port the api is given (R17.2, R17.3)
        if "versiond" in (entry["services"] or []) and not (
                ((entry["environment"] or {}).get("api") or {}).get("DAPI_API__NODE_MANAGER_GRPC_PORT")):
            problems.append("services lists versiond, which needs environment.api.DAPI_API__NODE_MANAGER_GRPC_PORT")
    if problems:
        raise AnsibleFilterError("gonka_release %r: the catalog entry is wrong: %s" % (name, "; ".join(problems)))
    return dict(OPTIONAL_KEYS, **dict(entry, name=name))


# A release version as the catalog writes them: 0.2.0, 0.2.9-post3, 0.2.15-devshard-v5, 1.0.0-rc1.
VERSION = re.compile(r"^v?(?P<numbers>[0-9]+(?:\.[0-9]+)*)(?:[-.+]?(?P<label>[a-z]+)[-.]?v?(?P<number>[0-9]+)?)?(?P<rest>.*)$", re.I)
# Labels that come before the release they name (1.0.0-rc1 < 1.0.0), and after it (0.2.9-post3 > 0.2.9);
# any other label (a build's flavour: -devshard-v5, -blackwell) ranks with the release itself.
PRE_RELEASE = ("dev", "a", "alpha", "b", "beta", "pre", "rc")
POST_RELEASE = ("post",)


def version_key(version):
    """A sort key of a release version: the numbers, then the post- or pre-release number."""
    match = VERSION.match(str(version).strip())
    if not match:
        raise AnsibleFilterError("%r is not a release version (like 0.2.9 or 0.2.9-post3)" % (version,))
    numbers = [int(part) for part in match.group("numbers").split(".")]
    numbers += [0] * (4 - len(numbers))
    label = (match.group("label") or "").lower()
    rank = -1 if label in PRE_RELEASE else 1 if label in POST_RELEASE else 0
    return tuple(numbers) + (rank, int(match.group("number") or 0) if rank else 0)


def release_older(version, than):
    """True when release version ``version`` is older than ``than`` (0.2.0 < 0.2.9 < 0.2.9-post3 < 0.2.14)."""
    return version_key(version) < version_key(than)


def mlnode_image(entry, gpus):
    """The mlnode image of an ML host on release ``entry``: the -blackwell one when any of its GPUs
    (gonka.fleet.gpu_facts entries) is a Blackwell, else the default one. "" when the host needs a
    Blackwell image and the release has none (the ML node role stops naming the host)."""
    images = entry["images"]
    if any(str(gpu.get("compute_capability")) in BLACKWELL_CAPABILITIES for gpu in gpus or []):
        return images.get("mlnode_blackwell") or ""
    return images["mlnode"]


class FilterModule(object):
    def filters(self):
        return {"release": release, "mlnode_image": mlnode_image, "release_older": release_older}
