# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node bodies for the tests."""

from __future__ import annotations


def node(node_id, host, model="Qwen/Qwen3-32B-FP8", args=None, **extra):
    """A node object as an operator writes it."""
    body = {"id": node_id, "host": host,
            "models": {model: {"args": list(args if args is not None else ["--quantization", "fp8"])}}}
    body.update(extra)
    return body


def api_node(node_id, host, **extra):
    """A node object as the API stores it after a POST of node(...) with the module's defaults."""
    body = dict(inference_port=5050, poc_port=8080, max_concurrent=500, inference_segment="", poc_segment="")
    body.update(node(node_id, host, **extra))
    return body
