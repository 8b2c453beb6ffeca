# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_changes: docker_compose_v2's actions grouped by what they do."""

from __future__ import annotations

from ansible_collections.gonka.fleet.plugins.filter.compose import compose_changes


def test_an_upgrade_recreates_changed_containers_and_creates_new_ones():
    # as docker_compose_v2 returns them in check mode (docker compose up --dry-run)
    actions = [
        {"what": "container", "id": "node", "status": "Recreate"},
        {"what": "container", "id": "api", "status": "Recreate"},
        {"what": "container", "id": "bridge", "status": "Creating"},
        {"what": "container", "id": "proxy", "status": "Recreated"},
        {"what": "container", "id": "766309d94b68_api", "status": "Starting"},     # a dry run's name
        {"what": "container", "id": "bridge", "status": "Starting"},
        {"what": "container", "id": "explorer", "status": "Starting"},
        {"what": "network", "id": "gonka", "status": "Creating"},
    ]
    changes = compose_changes(actions)
    # a (re)created container is started too: named once
    assert changes == {"recreate": ["api", "node", "proxy"], "create": ["bridge", "network gonka"], "start": ["explorer"]}
    assert list(changes) == ["recreate", "create", "start"]
    assert compose_changes(actions, text=True) == "recreate api, node, proxy; create bridge, network gonka; start explorer"


def test_nothing_to_do_is_empty_and_an_unknown_status_is_kept():
    assert compose_changes([]) == {}
    assert compose_changes(None) == {}
    assert compose_changes([], text=True) == "nothing"
    assert compose_changes([{"what": "container", "id": "api", "status": "Frobbing"}]) == {"frobbing": ["api"]}
