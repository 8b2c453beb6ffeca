# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release catalog (roles/release) and its filters: release, mlnode_image."""

from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.releases import mlnode_image, release, release_older

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "roles", "release", "vars", "main.yml"), encoding="utf-8") as _handle:
    CATALOG = yaml.safe_load(_handle)["_gonka_release_catalog_shipped"]
with open(os.path.join(ROOT, "roles", "release", "defaults", "main.yml"), encoding="utf-8") as _handle:
    DEFAULT = yaml.safe_load(_handle)["gonka_release"]
# gpus entries as gonka.fleet.gpu_facts returns them
H200 = {"name": "NVIDIA H200", "compute_capability": "9.0", "memory_mib": 143771}
B200 = {"name": "NVIDIA B200", "compute_capability": "10.0", "memory_mib": 183359}
RTX5090 = {"name": "NVIDIA GeForce RTX 5090", "compute_capability": "12.0", "memory_mib": 32607}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_shipped_release_passes_its_own_check(name):
    entry = release(CATALOG, name)
    assert entry["name"] == name
    assert set(entry["services"]) <= set(entry["images"])


def test_the_default_release_is_in_the_catalog():
    assert release(CATALOG, DEFAULT)["name"] == DEFAULT


def test_launch_is_the_0_2_0_layout_and_0_2_9_adds_the_bridge():
    """docs/conformance.md R10.1 (launch services), R9.1-R9.2 (0.2.9 images, bridge)."""
    launch, later = release(CATALOG, "launch"), release(CATALOG, "0.2.9")
    assert launch["services"] == ["tmkms", "node", "api", "proxy", "explorer"]
    assert all(launch["images"][s].endswith(":0.2.0") for s in ("tmkms", "node", "api", "proxy"))
    assert later["services"] == ["tmkms", "node", "api", "bridge", "proxy", "explorer"]
    assert all(later["images"][s].endswith(":0.2.9-post3") for s in ("tmkms", "node", "api", "proxy"))
    assert (launch["api_node_store"], later["api_node_store"]) == ("config", "database")
    # R6.5: the launch proxy looks its upstreams up once; later ones again
    assert (launch["proxy_resolves_once"], later["proxy_resolves_once"]) == (True, False)
    # R6.6: only the 0.2.9 proxy serves HTTPS
    assert (launch["proxy_https"], later["proxy_https"]) == (False, True)


def test_0_2_14_adds_versiond_and_publishes_the_bridge_p2p_port():
    """docs/conformance.md R17.1-R17.4: versiond after the api, the NodeManager port it dials, geth's
    p2p port public, one mlnode image for every GPU."""
    previous, current = release(CATALOG, "0.2.9"), release(CATALOG, "0.2.14")
    assert current["services"] == ["tmkms", "node", "api", "versiond", "bridge", "proxy", "explorer"]
    assert all(current["images"][s].endswith(":0.2.14") for s in ("tmkms", "node", "api", "versiond", "proxy"))
    assert current["environment"]["api"]["DAPI_API__NODE_MANAGER_GRPC_PORT"] == "9400"
    assert (previous["bridge_p2p_published"], current["bridge_p2p_published"]) == (False, True)
    assert "CHAIN_ID" not in current["environment"]["node"]
    assert current["seeds"]["beacon_state_url"] == "https://mainnet.checkpoint.sigp.io/"
    assert current["environment"]["mlnode"] == {"POC_BATCH_SIZE_DEFAULT": "32"}
    assert release_older(previous["version"], current["version"])
    for gpus in ([H200], [B200], [RTX5090]):
        assert mlnode_image(current, gpus) == "ghcr.io/gonka-ai/mlnode:3.0.14-post2"


def test_versiond_without_the_node_manager_port_is_refused():
    entry = copy.deepcopy(CATALOG["0.2.14"])
    del entry["environment"]["api"]["DAPI_API__NODE_MANAGER_GRPC_PORT"]
    with pytest.raises(AnsibleFilterError, match="services lists versiond, which needs "
                                                 "environment.api.DAPI_API__NODE_MANAGER_GRPC_PORT"):
        release(CATALOG, "x", {"x": entry})


def test_an_entry_without_proxy_https_has_none_and_a_wrong_value_is_refused():
    entry = dict((k, v) for k, v in CATALOG["0.2.9"].items() if k != "proxy_https")
    assert release(CATALOG, "x", {"x": entry})["proxy_https"] is False
    with pytest.raises(AnsibleFilterError, match="proxy_https must be true or false"):
        release(CATALOG, "y", {"y": dict(entry, proxy_https="yes")})


def test_an_unknown_release_names_the_variable_and_the_known_ones():
    with pytest.raises(AnsibleFilterError, match=r"gonka_release: '0\.1' is not a release of the catalog "
                                                 r"\(known: 0\.2\.14, 0\.2\.9, launch\)"):
        release(CATALOG, "0.1")


def test_extra_adds_a_release_and_replaces_one():
    added = copy.deepcopy(CATALOG["0.2.9"])
    added["images"]["api"] = "ghcr.io/product-science/api:0.2.10"
    assert release(CATALOG, "0.2.10", {"0.2.10": added})["images"]["api"].endswith(":0.2.10")
    assert release(CATALOG, "launch", {"launch": added})["version"] == CATALOG["0.2.9"]["version"]


def test_an_entry_missing_what_the_roles_read_is_refused():
    broken = copy.deepcopy(CATALOG["0.2.9"])
    del broken["images"]["bridge"]
    del broken["seeds"]["api_url"]
    del broken["seeds"]["beacon_state_url"]
    broken["api_node_store"] = "yaml"
    broken["proxy_resolves_once"] = "yes"
    with pytest.raises(AnsibleFilterError) as info:
        release(CATALOG, "x", {"x": broken})
    message = str(info.value)
    assert "gonka_release 'x'" in message
    assert "services lists bridge, which has no image" in message
    assert "seeds.api_url is missing" in message
    assert "services lists bridge, which needs seeds.beacon_state_url" in message
    assert "api_node_store must be one of config, database" in message
    assert "proxy_resolves_once must be true or false" in message
    with pytest.raises(AnsibleFilterError, match="environment is missing"):
        release(CATALOG, "y", {"y": dict((k, v) for k, v in CATALOG["launch"].items() if k != "environment")})


@pytest.mark.parametrize("gpus, expected", [
    ([], "ghcr.io/product-science/mlnode:3.0.12-post2"),
    ([H200] * 8, "ghcr.io/product-science/mlnode:3.0.12-post2"),
    ([B200] * 8, "ghcr.io/product-science/mlnode:3.0.12-post2-blackwell"),
    ([RTX5090], "ghcr.io/product-science/mlnode:3.0.12-post2-blackwell"),
    ([H200, B200], "ghcr.io/product-science/mlnode:3.0.12-post2-blackwell"),
])
def test_blackwell_gpus_get_the_blackwell_mlnode(gpus, expected):
    """R9.1: sm_100, sm_103 and sm_120 need the -blackwell image."""
    assert mlnode_image(release(CATALOG, "0.2.9"), gpus) == expected


def test_a_release_without_a_blackwell_image_gives_none_for_blackwell_hosts():
    launch = release(CATALOG, "launch")
    assert mlnode_image(launch, [H200]) == "ghcr.io/product-science/mlnode:3.0.9"
    assert mlnode_image(launch, [B200]) == ""


@pytest.mark.parametrize("older, newer", [
    ("0.2.0", "0.2.9"),
    ("0.2.9", "0.2.9-post3"),             # a post-release comes after its release
    ("0.2.9-post2", "0.2.9-post3"),
    ("0.2.9-post3", "0.2.14"),            # numbers compare as numbers, not as text
    ("1.0.0-rc1", "1.0.0"),               # a release candidate comes before its release
    ("0.2.14", "0.2.15-devshard-v5"),
    ("0.2", "0.2.1"),
])
def test_release_older_orders_versions_as_releases(older, newer):
    assert release_older(older, newer) is True
    assert release_older(newer, older) is False


def test_release_older_a_flavour_ranks_with_its_release():
    # -devshard-v5 and -blackwell are builds of the release, not other releases: neither is older
    assert release_older("0.2.15-devshard-v5", "0.2.15") is False
    assert release_older("0.2.15", "0.2.15-devshard-v5") is False
    assert release_older("0.2.9-post3", "0.2.9-post3") is False


def test_release_older_every_shipped_release_has_a_version_it_can_compare():
    for name in CATALOG:
        assert release_older(release(CATALOG, name)["version"], "999.0") is True
    assert release_older(CATALOG["launch"]["version"], CATALOG["0.2.9"]["version"])


def test_release_older_fails_on_a_version_without_numbers():
    with pytest.raises(AnsibleFilterError, match="'latest' is not a release version"):
        release_older("latest", "0.2.9")
