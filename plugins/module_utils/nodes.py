# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ML-node registrations: the node object, its validation, and reconciling a desired set with the Admin API.

Shared by gonka.fleet.inference_node (one node) and gonka.fleet.inference_nodes (a list).
The rules come from the upstream source (docs/conformance.md of the collection):

* an update is DELETE then POST: on the launch release a re-POST of a known id appends
  a duplicate to the api's persisted node list;
* a re-created node starts enabled, so a node that was disabled is disabled again;
* a node the API rejects while being updated is restored from its previous definition,
  and anything that could not be done is reported, never dropped silently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.six import integer_types, string_types

from ansible_collections.gonka.fleet.plugins.module_utils.admin_api import AdminAPIError

# The node options (doc fragment gonka.fleet.inference_node); defaults are the seed's.
NODE_ARGUMENT_SPEC = dict(
    id=dict(type="str", required=True),
    host=dict(type="str"),
    inference_port=dict(type="int", default=5050),
    poc_port=dict(type="int", default=8080),
    inference_segment=dict(type="str", default=""),
    poc_segment=dict(type="str", default=""),
    max_concurrent=dict(type="int", default=500),
    models=dict(type="dict"),
    hardware=dict(type="list", elements="dict"),
    version=dict(type="str"),
    enabled=dict(type="bool"),
)

# Fields of the API's node object, in the API's order. hardware and version are only
# managed when given (later releases detect hardware when it is left out; launch stores none,
# docs/conformance.md R7.1: the registration role sends it).
API_FIELDS = ("id", "host", "inference_segment", "inference_port", "poc_segment", "poc_port",
              "models", "max_concurrent", "hardware", "version")
OPTIONAL_FIELDS = ("hardware", "version")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ERROR_ID = re.compile(r"\(id: ([^)]*)\)")


class ValidationError(Exception):
    """Bad input: raised before any request is made."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ValidationError, self).__init__("; ".join(self.errors))


# ---- building and checking desired nodes ------------------------------------------
def desired_entry(params):
    """A desired entry ``{"node": API object, "enabled": bool or None}`` from module options."""
    node = {}
    for key in API_FIELDS:
        value = params.get(key)
        if key in OPTIONAL_FIELDS and value is None:
            continue
        node[key] = copy.deepcopy(value)
    return {"node": node, "enabled": params.get("enabled")}


def normalize_models(models, errors=None, label="node"):
    """{model id: {"args": [str, ...], ...}}; numbers in args become strings (the API wants strings)."""
    result = {}
    for name, spec in (models or {}).items():
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            if errors is not None:
                errors.append("%s: models['%s'] must be a dict like {args: [...]}" % (label, name))
            continue
        spec = dict(spec)
        args = spec.get("args") or []
        if not isinstance(args, list):
            if errors is not None:
                errors.append("%s: models['%s'].args must be a list of strings" % (label, name))
            args = []
        clean = []
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, string_types + integer_types + (float,)):
                if errors is not None:
                    errors.append("%s: models['%s'].args holds %r, which is not a string" % (label, name, arg))
                continue
            clean.append(str(arg))
        spec["args"] = clean
        result[name] = spec
    return result


def _normalize_hardware(hardware):
    if not hardware:
        return []
    return sorted(({"type": h.get("type"), "count": h.get("count")} for h in hardware),
                  key=lambda h: (str(h["type"]), str(h["count"])))


def validate_node(node, label):
    """Problems of one desired node object, each naming ``label`` and the field."""
    errors = []

    def bad(field, text):
        errors.append("%s: %s %s" % (label, field, text))

    node_id = node.get("id") or ""
    if not node_id.strip():
        bad("id", "must not be empty")
    elif "/" in node_id or node_id != node_id.strip():
        bad("id", "%r must not contain '/' or surrounding spaces (it is part of the URL path)" % node_id)
    host = node.get("host") or ""
    if not host.strip():
        bad("host", "is required")
    elif _SCHEME.match(host):
        bad("host", "%r must be a bare hostname or IP address without a scheme: the API builds "
                    "http://HOST:PORT itself" % host)
    elif "/" in host or host != host.strip() or " " in host:
        bad("host", "%r must be a bare hostname or IP address, without a path or spaces" % host)
    elif ":" in host and not (host.startswith("[") and host.endswith("]")):
        bad("host", "%r must not carry a port (use inference_port and poc_port); write an IPv6 "
                    "address in brackets, like [fd00::5]" % host)
    for key in ("inference_port", "poc_port"):
        port = node.get(key)
        if port is None or not 1 <= port <= 65535:
            bad(key, "must be between 1 and 65535 (got %s)" % port)
    if node.get("max_concurrent") is None or node["max_concurrent"] < 1:
        bad("max_concurrent", "must be at least 1 (got %s)" % node.get("max_concurrent"))
    for key in ("inference_segment", "poc_segment"):
        segment = node.get(key) or ""
        if segment and not segment.startswith("/"):
            bad(key, "must be empty or a URL path starting with '/' (got %r)" % segment)
    models = node.get("models")
    if not models:
        bad("models", "must name at least one governance model")
    else:
        for name in models:
            if not str(name).strip():
                bad("models", "has an empty model id")
        node["models"] = normalize_models(models, errors, label)
    for index, item in enumerate(node.get("hardware") or []):
        if not isinstance(item.get("type"), string_types) or not item.get("type"):
            bad("hardware[%d].type" % index, "must be a non-empty string")
        count = item.get("count")
        if isinstance(count, bool) or not isinstance(count, integer_types) or count < 1:
            bad("hardware[%d].count" % index, "must be an integer of at least 1 (got %r)" % (count,))
    return errors


def node_label(node, index=None):
    if index is None:
        return "node '%s'" % node.get("id")
    return "nodes[%d] (id '%s')" % (index, node.get("id"))


def desired_entries_from_list(items):
    """Validate a list of node option dicts (the inference_nodes ``nodes`` option).

    Raises ValidationError listing every problem, each naming the element and the field.
    """
    errors = []
    entries = []
    validator = ArgumentSpecValidator(NODE_ARGUMENT_SPEC)
    for index, item in enumerate(items):
        label = node_label(item if isinstance(item, dict) else {}, index)
        if not isinstance(item, dict):
            errors.append("%s: must be a dict of node options" % label)
            continue
        checked = validator.validate(item)
        if checked.error_messages:
            errors.extend("%s: %s" % (label, message) for message in checked.error_messages)
            continue
        entry = desired_entry(checked.validated_parameters)
        errors.extend(validate_node(entry["node"], label))
        entries.append(entry)
    errors.extend(duplicate_problems([e["node"] for e in entries]))
    if errors:
        raise ValidationError(errors)
    return entries


def duplicate_problems(nodes):
    """Repeated ids, and host+port pairs used twice (later releases reject those)."""
    errors = []
    first = {}
    for index, node in enumerate(nodes):
        for key in ("id", ("host", "inference_port"), ("host", "poc_port")):
            if key == "id":
                value = node.get("id")
            else:
                value = (node.get("host"), node.get(key[1]))
            seen = first.setdefault((key, value), index)
            if seen == index:
                continue
            if key == "id":
                errors.append("duplicate node id '%s': nodes[%d] and nodes[%d]" % (value, seen, index))
            else:
                errors.append("%s and %s both use %s %s:%s" % (
                    node_label(nodes[seen], seen), node_label(node, index), key[1], value[0], value[1]))
    return errors


def port_conflicts(node, live_entries, label):
    """(other id, problem) for each live node that uses the same host and port (later releases refuse it)."""
    problems = []
    for entry in live_entries:
        other = entry.get("node") or {}
        if other.get("id") == node["id"] or other.get("host") != node["host"]:
            continue
        for key in ("inference_port", "poc_port"):
            if other.get(key) == node[key]:
                problems.append((other.get("id"), "%s: %s %s:%s is already registered for node '%s'"
                                 % (label, key, node["host"], node[key], other.get("id"))))
    return problems


# ---- live nodes -------------------------------------------------------------------
def live_node(entry):
    """The API object of a GET /admin/v1/nodes entry, normalized, without node_num."""
    raw = entry.get("node") or {}
    node = {}
    for key in API_FIELDS:
        value = copy.deepcopy(raw.get(key))
        if key == "models":
            value = normalize_models(value)
        elif key in ("inference_segment", "poc_segment", "version") and value is None:
            value = ""
        node[key] = value
    return node


def admin_enabled(entry):
    admin_state = (entry.get("state") or {}).get("admin_state") or {}
    return admin_state.get("enabled", True) is not False


def differences(live, desired):
    """Names of the fields where the live node differs from the desired one."""
    changed = []
    for key, want in desired.items():
        have = live.get(key)
        if key == "hardware":
            same = _normalize_hardware(have) == _normalize_hardware(want)
        elif key == "models":
            same = normalize_models(have) == normalize_models(want)
        elif key in ("inference_segment", "poc_segment", "version"):
            same = (have or "") == (want or "")
        else:
            same = have == want
        if not same:
            changed.append(key)
    return changed


def view(node, enabled):
    """What --diff shows of one node: its API object plus its admin state."""
    shown = dict((k, v) for k, v in node.items() if k != "node_num")
    shown["enabled"] = enabled
    return shown


def restore_payload(entry):
    """The POST body that re-creates a live node as it was."""
    node = live_node(entry)
    if not node.get("hardware"):
        node.pop("hardware", None)
    if not node.get("version"):
        node.pop("version", None)
    return node


# ---- planning -----------------------------------------------------------------------
class Plan(object):
    """What a reconcile will do; check mode reports it, apply() carries it out."""

    def __init__(self):
        self.add = []          # desired entries of new nodes
        self.update = []       # (live entry, desired entry, changed field names)
        self.remove = []       # live entries
        self.admin = []        # (id, enabled) to set once the node stands
        self.unchanged = []    # ids

    @property
    def changed(self):
        return bool(self.add or self.update or self.remove or self.admin)

    def predicted(self, node_id, live_index):
        """(node object, enabled) of ``node_id`` after the plan, or (None, None) when it goes away."""
        admin = dict(self.admin)
        for entry in self.add:
            if entry["node"]["id"] == node_id:
                return entry["node"], admin.get(node_id, True)
        for live, entry, _fields in self.update:
            if entry["node"]["id"] == node_id:
                merged = live_node(live)
                merged.update(entry["node"])
                return merged, admin.get(node_id, True)
        if any(live["node"]["id"] == node_id for live in self.remove):
            return None, None
        live = live_index.get(node_id)
        if live is None:
            return None, None
        return live_node(live), admin.get(node_id, admin_enabled(live))

    def diff(self, live_index):
        """{before: {id: node view}, after: {id: node view}} of the nodes that change."""
        before, after = {}, {}
        ids = [e["node"]["id"] for e in self.add] + [e["node"]["id"] for _l, e, _f in self.update]
        ids += [node_id for node_id, _enabled in self.admin] + [live["node"]["id"] for live in self.remove]
        for node_id in ids:
            live = live_index.get(node_id)
            if live is not None:
                before[node_id] = view(live_node(live), admin_enabled(live))
            node, enabled = self.predicted(node_id, live_index)
            if node is not None:
                after[node_id] = view(node, enabled)
        return {"before": before, "after": after}


def index_live(live_entries):
    index = {}
    for entry in live_entries:
        index[(entry.get("node") or {}).get("id")] = entry
    return index


def make_plan(live_entries, desired, exclusive=False, remove_ids=()):
    """Compare desired entries with GET /admin/v1/nodes; nothing is sent."""
    plan = Plan()
    index = index_live(live_entries)
    wanted = set()
    for entry in desired:
        node_id = entry["node"]["id"]
        wanted.add(node_id)
        live = index.get(node_id)
        if live is None:
            plan.add.append(entry)
            if entry["enabled"] is False:
                plan.admin.append((node_id, False))
            continue
        current = admin_enabled(live)
        target = current if entry["enabled"] is None else entry["enabled"]
        fields = differences(live_node(live), entry["node"])
        if fields:
            plan.update.append((live, entry, fields))
            if not target:   # a re-created node starts enabled
                plan.admin.append((node_id, False))
        elif target != current:
            plan.admin.append((node_id, target))
        else:
            plan.unchanged.append(node_id)
    for entry in live_entries:
        node_id = entry["node"]["id"]
        if node_id not in wanted and (exclusive or node_id in remove_ids):
            plan.remove.append(entry)
    return plan


# ---- applying -----------------------------------------------------------------------
class Outcome(object):
    """What apply() did. ``failed`` entries say what happened to each node that did not converge."""

    def __init__(self):
        self.added, self.updated, self.removed = [], [], []
        self.enabled, self.disabled = [], []
        self.restored, self.failed = [], []

    def fail(self, node_id, action, error):
        self.failed.append({"id": node_id, "action": action, "error": error})

    @property
    def changed(self):
        """Whether anything was modified (a restored node was deleted and registered again)."""
        return bool(self.added or self.updated or self.removed or self.enabled or self.disabled or self.restored)

    def failed_ids(self):
        return set(f["id"] for f in self.failed)

    def as_dict(self):
        return dict(added=self.added, updated=self.updated, removed=self.removed, enabled=self.enabled,
                    disabled=self.disabled, restored=self.restored, failures=self.failed)

    def message(self):
        return "; ".join("%s of node '%s' failed: %s" % (f["action"], f["id"], f["error"]) for f in self.failed)


def rejection_text(error, node):
    """The API's message for a rejected node, naming its models when the message does not."""
    models = sorted((node.get("models") or {}).keys())
    if any(model in error for model in models):
        return error
    return "%s (one possible cause: the chain accepts only governance models; this node asks for: %s)" % (error, ", ".join(models))


def _post(api, nodes, batch):
    """POST nodes; {id: (stored node or None, error or None)}. Connection failures propagate."""
    results = {}
    if not batch:
        for node in nodes:
            try:
                results[node["id"]] = (api.create_node(node), None)
            except AdminAPIError as exc:
                if exc.status is None:
                    raise
                results[node["id"]] = (None, rejection_text(str(exc), node))
        return results
    by_id = dict((node["id"], node) for node in nodes)
    stored, errors = [], {}
    try:
        status, body = api.create_nodes(nodes)
    except AdminAPIError as exc:
        if exc.status is None:
            raise
        status = exc.status
        nested = exc.body.get("error") if isinstance(exc.body, dict) else None
        texts = (nested.get("errors") or []) if isinstance(nested, dict) else []
        for text in texts:
            match = _ERROR_ID.search(text)
            if match:
                errors[match.group(1)] = "%s %s answered HTTP %d: %s" % (exc.method, exc.url, status, text)
        general = str(exc)
    else:
        general = ("POST %s answered HTTP %d without this node: this release skips rejected nodes "
                   "without a reason" % (api.url("nodes", "batch"), status))
        if isinstance(body, dict):           # later releases: 206 {nodes, errors}
            for text in body.get("errors") or []:
                match = _ERROR_ID.search(text)
                if match:
                    errors[match.group(1)] = "POST %s answered HTTP %d: %s" % (api.url("nodes", "batch"), status, text)
            stored = body.get("nodes") or []
        elif isinstance(body, list):
            stored = body
    stored_by_id = dict((n.get("id"), n) for n in stored if isinstance(n, dict))
    for node_id, node in by_id.items():
        if node_id in stored_by_id:
            results[node_id] = (stored_by_id[node_id], None)
        else:
            results[node_id] = (None, rejection_text(errors.get(node_id, general), node))
    return results


def _dropped_models(stored, node):
    kept = (stored or {}).get("models") or {}
    return sorted(m for m in node["models"] if m not in kept)


class _Aborted(Exception):
    pass


def apply_plan(api, plan, batch=True, disable_before_remove=False):
    """Carry out a plan. Per-node rejections are recorded and the rest goes on; when the API
    cannot be reached at all, everything not yet done is recorded as not attempted."""
    out = Outcome()
    pending = _Pending(plan)
    try:
        _apply(api, plan, out, pending, batch, disable_before_remove)
    except _Aborted as exc:
        for node_id, action in pending.left():
            if node_id not in out.failed_ids():
                out.fail(node_id, action, "not attempted: %s" % exc)
    return out


class _Pending(object):
    def __init__(self, plan):
        self.todo = [(e["node"]["id"], "registration") for e in plan.add]
        self.todo += [(e["node"]["id"], "update") for _l, e, _f in plan.update]
        self.todo += [(node_id, "enable" if enabled else "disable") for node_id, enabled in plan.admin]
        self.todo += [(live["node"]["id"], "removal") for live in plan.remove]

    def done(self, node_id, action):
        if (node_id, action) in self.todo:
            self.todo.remove((node_id, action))

    def left(self):
        return list(self.todo)


def _guard(call, *args):
    try:
        return call(*args)
    except AdminAPIError as exc:
        if exc.status is None:
            raise _Aborted(str(exc))
        raise


def _endpoint_keys(node):
    return [(key, node.get("host"), node.get(key)) for key in ("inference_port", "poc_port")]


def _remove(api, live, out, pending, disable_before_remove):
    node_id = live["node"]["id"]
    try:
        if disable_before_remove and admin_enabled(live):
            _guard(api.set_enabled, node_id, False)
            out.disabled.append(node_id)
        _guard(api.delete_node, node_id)
        out.removed.append(node_id)
    except AdminAPIError as exc:
        out.fail(node_id, "removal", str(exc))
    pending.done(node_id, "removal")


def _apply(api, plan, out, pending, batch, disable_before_remove):
    # 0. a node being removed that holds the host:port a registration needs goes first.
    taken = set()
    for entry in plan.add + [e for _l, e, _f in plan.update]:
        taken.update(_endpoint_keys(entry["node"]))
    early = [live for live in plan.remove if taken.intersection(_endpoint_keys(live["node"]))]
    for live in early:
        _remove(api, live, out, pending, disable_before_remove)
    # 1. updates are DELETE then POST: delete first.
    recreate = []
    for live, entry, _fields in plan.update:
        node_id = entry["node"]["id"]
        try:
            _guard(api.delete_node, node_id)
        except AdminAPIError as exc:
            out.fail(node_id, "update", "%s (the previous definition is still registered)" % exc)
            pending.done(node_id, "update")
            continue
        recreate.append((live, entry))
    # 2. one POST (batch) or one per node for new and updated nodes.
    posts = [(None, entry) for entry in plan.add] + recreate
    restore = []
    aborted = None
    if posts:
        try:
            results = _post(api, [entry["node"] for _live, entry in posts], batch)
        except AdminAPIError as exc:   # no answer: the POST may or may not have been applied
            aborted = str(exc)
            results = dict((entry["node"]["id"], (None, "no answer, outcome unknown: %s" % exc))
                           for _live, entry in posts)
        for live, entry in posts:
            node_id = entry["node"]["id"]
            action = "registration" if live is None else "update"
            stored, error = results[node_id]
            dropped = _dropped_models(stored, entry["node"]) if error is None else []
            if dropped:
                error = ("the API registered it without model(s) %s: not governance models of this chain"
                         % ", ".join(dropped))
                try:
                    _guard(api.delete_node, node_id)
                except AdminAPIError as exc:
                    error += "; removing the partial registration failed too: %s" % exc
            pending.done(node_id, action)
            if error is None:
                (out.added if live is None else out.updated).append(node_id)
            elif live is None:
                out.fail(node_id, action, error)
            else:
                restore.append((live, node_id, error))
    # 3. put back the previous definition of nodes whose update was rejected.
    if restore:
        _restore(api, restore, out, batch)
    if aborted:
        raise _Aborted(aborted)
    # 4. admin state.
    failed = out.failed_ids()
    for node_id, enabled in plan.admin:
        action = "enable" if enabled else "disable"
        if node_id in failed:
            pending.done(node_id, action)
            continue
        try:
            _guard(api.set_enabled, node_id, enabled)
            (out.enabled if enabled else out.disabled).append(node_id)
        except AdminAPIError as exc:
            out.fail(node_id, action, str(exc))
        pending.done(node_id, action)
    # 5. removals, after the additions: capacity is added before it is taken away.
    for live in plan.remove:
        if not any(live is done for done in early):
            _remove(api, live, out, pending, disable_before_remove)


def _restore(api, restore, out, batch):
    payloads = [restore_payload(live) for live, _node_id, _error in restore]
    try:
        results = _post(api, payloads, batch)
    except AdminAPIError as exc:
        results = dict((p["id"], (None, str(exc))) for p in payloads)
    for live, node_id, error in restore:
        _stored, restore_error = results.get(node_id, (None, "no answer"))
        if restore_error is None and not admin_enabled(live):
            try:
                api.set_enabled(node_id, False)
            except AdminAPIError as exc:
                restore_error = "restored but still enabled: %s" % exc
        if restore_error is None:
            out.restored.append(node_id)
            out.fail(node_id, "update", "%s; the previous definition was restored" % error)
        else:
            out.fail(node_id, "update", "%s; restoring the previous definition FAILED, the node is "
                                        "no longer registered as before: %s" % (error, restore_error))
