# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/tools/stages.py: what it prints of a failed stage's log (the end of a CI log is often
all that reaches the next session)."""

from __future__ import annotations

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location("stages", os.path.join(HERE, "..", "tools", "stages.py"))
stages = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(stages)

# a molecule log as it is written: colours, the frame around the command's output, a failure that
# Ansible ignored, the retries of an `until`, the failure that counts and the recap
LOG = "\n".join([
    "  \x1b[2m\u2502\x1b[0m TASK [Try net1's private address]",
    "  \x1b[2m\x1b[31m\u2502\x1b[0m \x1b[31mfatal: [outsider]: FAILED! => {\"msg\": \"Timeout\"}\x1b[0m",
    "  \x1b[2m\x1b[36m\u2502\x1b[0m \x1b[0;36m...ignoring\x1b[0m",
    "  \x1b[2m\u2502\x1b[0m ",
    "  \x1b[2m\u2502\x1b[0m TASK [Wait for the run to end]",
    "  \x1b[2m\u2502\x1b[0m FAILED - RETRYING: [localhost]: Wait for the run to end (120 retries left).",
    "  \x1b[2m\x1b[31m\u2502\x1b[0m \x1b[31mfatal: [localhost]: FAILED! => {\"msg\": \"the run passed\"}\x1b[0m",
    "  \x1b[2m\u2502\x1b[0m PLAY RECAP *********",
    "  \x1b[2m\u2502\x1b[0m localhost : ok=3 changed=1 unreachable=0 failed=1 skipped=0",
    "  \x1b[2m\u2502\x1b[0m net1 : ok=9 changed=0 unreachable=0 failed=0 skipped=0",
    "\x1b[31mERROR   \x1b[0m Molecule executed 1 scenario (1 failed)",
])


def test_failure_lines_name_what_failed_and_nothing_else(tmp_path):
    log = tmp_path / "stage.log"
    log.write_text(LOG, encoding="utf-8")
    assert stages.failure_lines(str(log)) == [
        'fatal: [localhost]: FAILED! => {"msg": "the run passed"}',
        "localhost : ok=3 changed=1 unreachable=0 failed=1 skipped=0",
        "ERROR    Molecule executed 1 scenario (1 failed)",
    ]


def test_failure_lines_keep_the_last(tmp_path):
    log = tmp_path / "stage.log"
    log.write_text("\n".join("TASK [t%d]\nfatal: [h]: FAILED! => %d" % (n, n) for n in range(50)), encoding="utf-8")
    found = stages.failure_lines(str(log), limit=3)
    assert found == ["fatal: [h]: FAILED! => 47", "fatal: [h]: FAILED! => 48", "fatal: [h]: FAILED! => 49"]
