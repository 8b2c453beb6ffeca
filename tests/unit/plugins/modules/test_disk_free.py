# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.disk_free on real directories of this machine."""

from __future__ import annotations

import os

from ansible_collections.gonka.fleet.plugins.modules import disk_free


def test_existing_and_future_paths(run_module, tmp_path):
    future = tmp_path / "not" / "yet" / "there"
    result = run_module(disk_free, {"paths": [str(tmp_path), str(future)]})
    assert result["changed"] is False
    existing, planned = result["paths"][str(tmp_path)], result["paths"][str(future)]
    assert existing["measured_at"] == str(tmp_path)
    assert planned["measured_at"] == str(tmp_path)          # its nearest existing parent
    stat = os.statvfs(str(tmp_path))
    assert existing["total_bytes"] == stat.f_blocks * stat.f_frsize
    assert 0 < existing["free_bytes"] <= existing["total_bytes"]
    assert abs(planned["free_bytes"] - existing["free_bytes"]) < 64 * 1024 ** 2   # same file system
    assert not future.parent.exists()                        # nothing created


def test_relative_path_is_refused(run_module):
    result = run_module(disk_free, {"paths": ["opt/gonka"]})
    assert result["failed"] and result["msg"] == "paths must be absolute: opt/gonka"
