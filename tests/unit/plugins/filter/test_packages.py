# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pins_met: a re-run skips the wheels and pip only when the pinned versions are installed."""

from __future__ import annotations

import pytest

from ansible_collections.gonka.fleet.plugins.filter.packages import pins_met

INSTALLED = {"huggingface-hub": [{"name": "huggingface-hub", "version": "2.4.0", "source": "pip"}],
             "filelock": [{"name": "filelock", "version": "3.16.1", "source": "pip"}]}


@pytest.mark.parametrize("requirements, expected", [
    (["huggingface_hub==2.4.0"], True),
    (["HuggingFace.Hub == 2.4.0", "filelock==3.16.1"], True),
    (["huggingface_hub==2.4.1"], False),
    (["huggingface_hub>=2.4.0"], False),
    (["huggingface_hub"], False),
    (["huggingface_hub==2.4.0", "tqdm==4.66.5"], False),
    ([], False),
])
def test_only_exact_pins_that_are_installed_count(requirements, expected):
    assert pins_met(requirements, INSTALLED) is expected


def test_no_environment_yet_is_not_met():
    assert pins_met(["huggingface_hub==2.4.0"], {}) is False
    assert pins_met(["huggingface_hub==2.4.0"], None) is False
