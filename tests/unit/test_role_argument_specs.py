# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role documents its defaults in meta/argument_specs.yml, and the two stay equal."""

from __future__ import annotations

import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, "roles"))
               if os.path.isdir(os.path.join(ROOT, "roles", name)))


def load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles():
    assert ROLES


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_equal_defaults(role):
    defaults = load(role, "defaults", "main.yml")
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults), "options and defaults of role %s differ" % role
    for name, spec in options.items():
        assert name == "gonka_%s" % role or name.startswith("gonka_%s_" % role), \
            "%s: %s lacks the role prefix" % (role, name)
        assert spec.get("description"), "%s: %s has no description" % (role, name)
        value = defaults[name]
        if "{{" in yaml.safe_dump(value):
            assert "default" not in spec, "%s: %s is computed; its spec must not claim a default" % (role, name)
        else:
            assert spec.get("default") == value, "%s: default of %s differs from defaults/main.yml" % (role, name)
