# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup manifest and the restore plan."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gonka.fleet.plugins.filter.backup import backup_manifest, restore_plan

KEY = {"path": "/opt/gonka/.tmkms/secrets/priv_validator_key.softsign", "checksum": "aa", "size": 44, "mode": "0600"}
INFO = {"path": "/opt/gonka/.inference/keyring-file/warm.info", "checksum": "bb", "size": 400, "mode": "0600"}
DB = {"item": ".dapi/gonka.db", "stat": {"exists": True, "isreg": True, "path": "/opt/gonka/.dapi/gonka.db",
                                         "checksum": "cc", "size": 8192, "mode": "0644"}}
ABSENT = {"item": ".inference/config/priv_validator_key.json", "stat": {"exists": False}}


def test_the_manifest_lists_every_file_relative_to_the_deploy_directory():
    assert backup_manifest([KEY, INFO], [DB, ABSENT], "/opt/gonka") == [
        {"path": ".dapi/gonka.db", "sha256": "cc", "size": 8192, "mode": "0644"},
        {"path": ".inference/keyring-file/warm.info", "sha256": "bb", "size": 400, "mode": "0600"},
        {"path": ".tmkms/secrets/priv_validator_key.softsign", "sha256": "aa", "size": 44, "mode": "0600"},
    ]


def test_a_file_outside_the_deploy_directory_is_refused():
    with pytest.raises(AnsibleFilterError, match="/etc/passwd is not under /opt/gonka"):
        backup_manifest([dict(KEY, path="/etc/passwd")], [], "/opt/gonka")


def test_the_restore_copies_only_what_is_missing_or_different():
    manifest = backup_manifest([KEY, INFO], [DB], "/opt/gonka")
    stats = [{"item": manifest[0], "stat": {"exists": True, "checksum": "cc"}},
             {"item": manifest[1], "stat": {"exists": False}},
             {"item": manifest[2], "stat": {"exists": True, "checksum": "a new key"}}]
    assert [entry["path"] for entry in restore_plan(manifest, stats)] == [
        ".inference/keyring-file/warm.info", ".tmkms/secrets/priv_validator_key.softsign"]
    same = [{"item": entry, "stat": {"exists": True, "checksum": entry["sha256"]}} for entry in manifest]
    assert restore_plan(manifest, same) == []
