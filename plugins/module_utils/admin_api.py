# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of the network node's Admin API (port 9200, /admin/v1/) used by every module.

It speaks through ansible.module_utils.urls.open_url (no third-party HTTP library on
the target), retries idempotent calls with exponential backoff on connection errors
and 5xx answers, and turns every failure into an AdminAPIError whose message holds
the method, the URL and the API's own ``{"error": ...}`` text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.http_client import HTTPException
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

DEFAULT_ADMIN_URL = "http://127.0.0.1:9200"
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE"))


def admin_api_argument_spec():
    """Options shared by every module that talks to the Admin API (doc fragment gonka.fleet.admin_api)."""
    return dict(
        admin_url=dict(type="str", default=DEFAULT_ADMIN_URL),
        timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=3),
        validate_certs=dict(type="bool", default=True),
    )


def error_text(body):
    """The message of an Admin API error body: ``{"error": "..."}``, or a nested error with a list."""
    if isinstance(body, dict) and "error" in body:
        error = body["error"]
        if isinstance(error, dict):
            text = to_text(error.get("error", ""))
            errors = error.get("errors") or []
            if errors:
                text = "%s: %s" % (text, "; ".join(to_text(e) for e in errors))
            return text
        return to_text(error)
    if body in (None, ""):
        return "(empty body)"
    return to_text(json.dumps(body) if not isinstance(body, str) else body)


class AdminAPIError(Exception):
    """A failed Admin API call. ``status`` is None when no HTTP answer came back."""

    def __init__(self, method, url, message, status=None, body=None):
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.error = message
        if status is None:
            text = "%s %s failed: %s" % (method, url, message)
        else:
            text = "%s %s failed: HTTP %d: %s" % (method, url, status, message)
        super(AdminAPIError, self).__init__(text)


class AdminAPI(object):
    """Admin API client. ``requests_made`` counts HTTP requests, retries included."""

    def __init__(self, admin_url=DEFAULT_ADMIN_URL, timeout=30.0, retries=3, validate_certs=True,
                 backoff=0.5, max_backoff=8.0, sleep=None):
        self.base_url = admin_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.validate_certs = validate_certs
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep or time.sleep
        self.requests_made = 0

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(admin_url=params["admin_url"], timeout=params["timeout"],
                   retries=params["retries"], validate_certs=params["validate_certs"])

    def url(self, *parts):
        return "/".join([self.base_url, "admin", "v1"] + [quote(to_native(p), safe="") for p in parts])

    def call(self, method, parts, payload=None, idempotent=None):
        """Send one call; returns (status, decoded JSON body or None)."""
        url = self.url(*parts)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if idempotent else 0)
        data = None if payload is None else json.dumps(payload)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        last = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(self.max_backoff, self.backoff * (2 ** (attempt - 1))))
            self.requests_made += 1
            try:
                response = open_url(url, data=data, headers=headers, method=method, timeout=self.timeout,
                                    validate_certs=self.validate_certs, follow_redirects="none",
                                    http_agent="gonka.fleet")
                return response.getcode(), _decode(response.read())
            except HTTPError as exc:
                body = _decode(_read_error_body(exc), lenient=True)
                last = AdminAPIError(method, url, error_text(body), status=exc.code, body=body)
                if exc.code < 500:
                    raise last
            except (URLError, socket.timeout, socket.error, HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                message = "cannot reach the Admin API (%s)" % to_native(reason)
                if not idempotent:
                    message += "; not retried: a %s is not idempotent and may have been applied" % method
                last = AdminAPIError(method, url, message)
            except ValueError as exc:
                raise AdminAPIError(method, url, "the answer is not JSON: %s" % to_native(exc))
        if attempts > 1:
            last.args = ("%s (after %d attempts)" % (last.args[0], attempts),)
        raise last

    # ---- the routes ---------------------------------------------------------------
    def list_nodes(self):
        """GET /admin/v1/nodes: the list of ``{"node": ..., "state": ...}``."""
        _status, body = self.call("GET", ["nodes"])
        if body is None:
            return []
        if not isinstance(body, list):
            raise AdminAPIError("GET", self.url("nodes"), "expected a JSON array, got %s" % type(body).__name__)
        return body

    def create_node(self, node):
        """POST /admin/v1/nodes: the node as the API stored it."""
        return self.call("POST", ["nodes"], node)[1]

    def create_nodes(self, nodes):
        """POST /admin/v1/nodes/batch: (status, body) as the release answers it."""
        return self.call("POST", ["nodes", "batch"], nodes)

    def delete_node(self, node_id):
        """DELETE /admin/v1/nodes/{id}: True when removed, False when the id was unknown."""
        return self.call("DELETE", ["nodes", node_id])[1] is True

    def set_enabled(self, node_id, enabled):
        """POST /admin/v1/nodes/{id}/enable|disable (setting a state: safe to retry)."""
        return self.call("POST", ["nodes", node_id, "enable" if enabled else "disable"], idempotent=True)[1]


def _read_error_body(exc):
    try:
        return exc.read()
    except Exception:  # pylint: disable=broad-except
        return b""


def _decode(raw, lenient=False):
    text = to_text(raw or b"", errors="surrogate_or_strict").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        if lenient:
            return text
        raise
