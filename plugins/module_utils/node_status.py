# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a network node says about itself, read from its own endpoints (gonka.fleet.node_info).

Every source is read on its own: one that does not answer is reported in ``errors`` and the
others are still read, so a status shows what can be known of a half-broken host. The routes
and fields (docs/conformance.md R13):

* the chain node's CometBFT RPC ``GET /status``: ``result.sync_info.latest_block_height`` (a
  string), ``catching_up``, ``latest_block_time``; the same on the seed's RPC for the lag;
* the Admin API ``GET /admin/v1/nodes`` (gonka.fleet's AdminAPI client);
* the public API ``GET /v1/epochs/latest``: ``latest_epoch.index``, ``phase``, ``block_height``;
  ``GET /v1/epochs/current/participants``: ``active_participants.participants[]`` with ``index``
  (the account address), ``weight``, ``models``;
* the Admin API ``GET /admin/v1/setup/report`` where the release has it (absent: None).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.http_client import HTTPException
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import AdminAPI, AdminAPIError


class SourceError(Exception):
    """A source that did not answer usefully; ``status`` is the HTTP status when there was one."""

    def __init__(self, message, status=None):
        super(SourceError, self).__init__(message)
        self.status = status


def get_json(url, timeout=10.0, validate_certs=True):
    """GET url; the decoded JSON body, or SourceError naming the URL and what went wrong."""
    try:
        response = open_url(url, method="GET", headers={"Accept": "application/json"}, timeout=timeout,
                            validate_certs=validate_certs, follow_redirects="none", http_agent="gonka.fleet")
        raw = response.read()
    except HTTPError as exc:
        raise SourceError("GET %s: HTTP %d" % (url, exc.code), status=exc.code)
    except (URLError, socket.timeout, socket.error, HTTPException) as exc:
        raise SourceError("GET %s: %s" % (url, to_native(getattr(exc, "reason", exc))))
    try:
        return json.loads(to_text(raw or b"{}"))
    except ValueError as exc:
        raise SourceError("GET %s: the answer is not JSON (%s)" % (url, to_native(exc)))


def chain_status(body):
    """The fields of CometBFT's /status a status needs."""
    try:
        result = body["result"] if "result" in body else body
        sync = result["sync_info"]
        return {"height": int(sync["latest_block_height"]), "catching_up": bool(sync["catching_up"]),
                "latest_block_time": sync.get("latest_block_time"),
                "network": (result.get("node_info") or {}).get("network"),
                "moniker": (result.get("node_info") or {}).get("moniker")}
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError("not a CometBFT /status answer (%s)" % to_native(exc))


def participation(body, account_address):
    """The account's entry in the current epoch's active participants: {listed, weight, models, epoch}."""
    active = (body or {}).get("active_participants") or {}
    epoch = active.get("epoch_id") or active.get("epoch_group_id")
    for participant in active.get("participants") or []:
        if participant.get("index") == account_address:
            return {"listed": True, "weight": int(participant.get("weight") or 0),
                    "models": list(participant.get("models") or []), "epoch": epoch}
    return {"listed": False, "weight": 0, "models": [], "epoch": epoch}


def read(params, get=get_json):
    """Every source of a network node's status; returns the module's result (without ``changed``)."""
    timeout, certs = params["timeout"], params["validate_certs"]
    result = {"chain": None, "seed": None, "block_lag": None, "ml_nodes": None, "epoch": None,
              "participation": None, "setup_report": None, "errors": {}}

    def attempt(source, function):
        try:
            result[source] = function()
        except SourceError as exc:
            result["errors"][source] = to_native(exc)
        except AdminAPIError as exc:
            result["errors"][source] = to_native(exc)

    def rpc(url):
        return chain_status(get(url.rstrip("/") + "/status", timeout, certs))

    attempt("chain", lambda: rpc(params["rpc_url"]))
    seeds = params["seed_rpc_urls"] or []
    seed_errors = []
    for url in seeds:
        try:
            result["seed"] = dict(rpc(url), url=url)
            break
        except SourceError as exc:
            seed_errors.append(to_native(exc))
    if seeds and result["seed"] is None:
        result["errors"]["seed"] = "; ".join(seed_errors)
    if result["chain"] and result["seed"]:
        result["block_lag"] = result["seed"]["height"] - result["chain"]["height"]

    admin = AdminAPI(admin_url=params["admin_url"], timeout=timeout, retries=params["retries"],
                     validate_certs=certs)
    attempt("ml_nodes", admin.list_nodes)

    def setup_report():
        try:
            return get(admin.url("setup", "report"), timeout, certs)
        except SourceError as exc:
            if exc.status == 404:      # a release without the route
                return None
            raise

    if params["setup_report"]:
        attempt("setup_report", setup_report)

    if params["api_url"]:
        base = params["api_url"].rstrip("/")

        def epoch():
            body = get(base + "/v1/epochs/latest", timeout, certs)
            latest = body.get("latest_epoch") or {}
            return {"index": latest.get("index"), "phase": body.get("phase"),
                    "block_height": body.get("block_height")}

        attempt("epoch", epoch)
        if params["account_address"]:
            attempt("participation", lambda: participation(
                get(base + "/v1/epochs/current/participants", timeout, certs), params["account_address"]))
    return result
