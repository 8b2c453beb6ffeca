# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gonka.fleet.hf_model_wait: the progress line and the cache path it reads (the same as hf_model's)."""

from __future__ import annotations

from ansible_collections.gonka.fleet.plugins.action.hf_model_wait import pause, progress_line, storage
from ansible_collections.gonka.fleet.plugins.module_utils import hf_cache


def test_the_progress_file_is_where_hf_model_writes_it():
    assert storage("/mnt/shared", None, "Qwen/Qwen3-32B-FP8") == \
        hf_cache.storage_folder("/mnt/shared/hub", "Qwen/Qwen3-32B-FP8")
    assert storage("/mnt/shared", "/data/hub", "org/m") == hf_cache.storage_folder("/data/hub", "org/m")


def test_the_progress_line_names_host_model_and_gigabytes():
    record = {"done_bytes": 12_345_000_000, "total_bytes": 33_000_000_000}
    assert progress_line("ml1", "Qwen/Qwen3-32B-FP8", record) == "ml1: Qwen/Qwen3-32B-FP8 12.3 / 33.0 GB"


def test_polls_start_fast_and_slow_down_to_the_interval():
    """A model already complete is seen within a second; a long download is polled every interval."""
    assert [pause(polls, 10) for polls in range(1, 9)] == [0.25, 0.5, 1, 2, 4, 8, 10, 10]
    assert sum(pause(polls, 10) for polls in range(1, 4)) < 2
    assert pause(1, 0.1) == 0.1
