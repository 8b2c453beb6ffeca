# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.cleanup import backups_to_remove, image_repositories, images_to_remove


def found(*names, base="/opt/gonka/.inference"):
    return [{"path": "%s/%s" % (base, name), "mtime": index} for index, name in enumerate(names)]


def test_backups_newest_by_date_in_the_name_not_by_string():
    # 2025-9-30 sorts after 2025-10-2 as a string; by date it is older
    files = found("data-backup-2025-10-2", "data-backup-2025-9-30", "data-backup-2026-1-15", "data-backup-2025-8-1")
    assert backups_to_remove(files, 2) == ["/opt/gonka/.inference/data-backup-2025-9-30",
                                           "/opt/gonka/.inference/data-backup-2025-8-1"]


def test_backups_same_day_newest_by_mtime():
    files = [{"path": "/d/data-backup-2026-1-1", "mtime": 20}, {"path": "/e/data-backup-2026-1-1", "mtime": 10}]
    assert backups_to_remove(files, 1) == ["/e/data-backup-2026-1-1"]


def test_backups_other_names_never_go():
    files = found("data", "data-backup-2026-1-1-extra", "wasm", "data-backup-2024-1-1")
    assert backups_to_remove(files, 0) == ["/opt/gonka/.inference/data-backup-2024-1-1"]


def test_backups_keep_more_than_there_are():
    assert backups_to_remove(found("data-backup-2026-1-1"), 5) == []


@pytest.mark.parametrize("keep", [-1, "two", None])
def test_keep_must_be_a_count(keep):
    with pytest.raises(AnsibleFilterError, match="keep must be"):
        backups_to_remove([], keep)


def image(image_id, created, *tags, size=100):
    return {"Id": image_id, "Created": created, "RepoTags": list(tags), "Size": size}


API = "ghcr.io/product-science/api"
HOST = {
    "images": [
        image("sha256:a0", 100, API + ":0.2.0"),
        image("sha256:a5", 200, API + ":0.2.5"),
        image("sha256:a8", 300, API + ":0.2.8"),
        image("sha256:a9", 400, API + ":0.2.9-post3"),          # in use
        image("sha256:n1", 50, "nginx:1.28.0"),                  # another repository
        image("sha256:r1", 250, "localhost:5000/product-science/api:old"),
    ],
    "containers": [{"Id": "c1", "Image": API + ":0.2.9-post3", "ImageID": "sha256:a9"}],
}


def test_images_unused_beyond_keep_oldest_first():
    removed = images_to_remove(HOST, [API], 1)
    assert [entry["name"] for entry in removed] == [API + ":0.2.0", API + ":0.2.5"]
    assert removed[0] == {"name": API + ":0.2.0", "repository": API, "id": "sha256:a0", "size": 100}


def test_images_in_use_and_other_repositories_stay():
    names = [entry["name"] for entry in images_to_remove(HOST, [API], 0)]
    assert API + ":0.2.9-post3" not in names and "nginx:1.28.0" not in names
    assert "localhost:5000/product-science/api:old" not in names
    assert names == [API + ":0.2.0", API + ":0.2.5", API + ":0.2.8"]


def test_images_protected_reference_stays_digest_ignored():
    removed = images_to_remove(HOST, [API], 0, [API + ":0.2.8@sha256:" + "f" * 64])
    assert [entry["name"] for entry in removed] == [API + ":0.2.0", API + ":0.2.5"]


def test_images_registry_with_port_is_one_repository():
    host = {"images": [image("sha256:x", 1, "localhost:5000/product-science/api:old"),
                       image("sha256:y", 2, "localhost:5000/product-science/api:new")], "containers": []}
    removed = images_to_remove(host, ["localhost:5000/product-science/api"], 1)
    assert [entry["name"] for entry in removed] == ["localhost:5000/product-science/api:old"]


def test_images_stopped_container_counts_as_use():
    host = {"images": [image("sha256:x", 1, API + ":old")], "containers": [{"Id": "c", "ImageID": "sha256:x"}]}
    assert images_to_remove(host, [API], 0) == []


def test_image_repositories_of_every_release():
    catalog = {"launch": {"images": {"api": API + ":0.2.0", "inference": "nginx:1.28.0", "mlnode_blackwell": ""}},
               "0.2.9": {"images": {"api": API + ":0.2.9-post3",
                                    "bridge": "ghcr.io/product-science/bridge:0.2.5-post5@sha256:" + "a" * 64}}}
    assert image_repositories(catalog) == [API, "ghcr.io/product-science/bridge", "nginx"]
    assert image_repositories(catalog, ["inference"]) == [API, "ghcr.io/product-science/bridge"]


def test_image_repositories_of_the_shipped_catalog():
    import os
    import yaml
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, "roles", "release", "vars", "main.yml"), encoding="utf-8") as handle:
        catalog = yaml.safe_load(handle)["_gonka_release_catalog_shipped"]
    repositories = image_repositories(catalog)
    assert "ghcr.io/product-science/mlnode" in repositories and "ghcr.io/product-science/inferenced" in repositories
    assert all(":" not in repository and "@" not in repository for repository in repositories)


def test_image_repositories_refuses_a_release_without_images():
    with pytest.raises(AnsibleFilterError, match="release 'x' has no images"):
        image_repositories({"x": {}})
