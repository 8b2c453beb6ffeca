# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of gonka.fleet.hf_model_wait: polls a background gonka.fleet.hf_model job from the
controller and shows the download's progress record at each poll (docs: plugins/modules/hf_model_wait.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import posixpath
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.gonka.fleet.plugins.module_utils.hf_cache import PROGRESS
from ansible_collections.gonka.fleet.plugins.modules.hf_model_wait import ARGUMENT_SPEC

display = Display()


def progress_line(host, repo_id, record):
    """What the operator sees at each poll."""
    return "%s: %s %.1f / %.1f GB" % (host, repo_id, record.get("done_bytes", 0) / 1e9, record.get("total_bytes", 0) / 1e9)


def pause(polls, interval):
    """Seconds before the next poll: short at first (a model already complete ends within a second or
    two, and a re-run should not wait a whole interval for it), doubling up to ``interval``."""
    return min(float(interval), 0.25 * 2 ** max(polls - 1, 0))


def storage(hf_home, cache_dir, repo_id):
    """The repository's folder in the host's cache (hf_cache.storage_folder, with POSIX paths)."""
    return posixpath.join(cache_dir or posixpath.join(hf_home, "hub"), "models--%s" % repo_id.replace("/", "--"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # there is no background job in check mode
    _supports_check_mode = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _async_dir(self):
        return self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))

    def _status(self, jid, async_dir, task_vars):
        return self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                    module_args={"jid": jid, "mode": "status", "_async_dir": async_dir})

    def _progress(self, path, task_vars):
        answer = self._execute_module(module_name="ansible.legacy.slurp", task_vars=task_vars,
                                      module_args={"src": path})
        if answer.get("failed") or "content" not in answer:
            return None
        try:
            return json.loads(to_text(base64.b64decode(answer["content"])))
        except ValueError:
            return None

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _valid, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        host = task_vars.get("inventory_hostname", "")
        hf_home = self._remote_expand_user(args["hf_home"])
        progress = posixpath.join(storage(hf_home, args["cache_dir"], args["repo_id"]), PROGRESS)
        async_dir = self._async_dir()
        deadline = time.time() + args["timeout"]
        polls, shown = 0, None
        while True:
            polls += 1
            status = self._status(args["jid"], async_dir, task_vars)
            if status.get("failed") and not status.get("finished"):
                result.update(status, polls=polls)
                return result
            if status.get("finished"):
                status.pop("invocation", None)
                result.update(status, polls=polls)
                return result
            if time.time() >= deadline:
                result.update(failed=True, finished=False, polls=polls, ansible_job_id=args["jid"],
                              msg="%s: %s is still downloading after %d s (job %s keeps running)"
                              % (host, args["repo_id"], args["timeout"], args["jid"]))
                return result
            # a progress line once per poll_interval, however often the job is polled
            if shown is None or time.time() - shown >= args["poll_interval"]:
                record = self._progress(progress, task_vars)
                if record:
                    display.display(progress_line(host, args["repo_id"], record))
                    shown = time.time()
            time.sleep(pause(polls, args["poll_interval"]))
