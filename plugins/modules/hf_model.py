#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hf_model
short_description: A verified snapshot of a Hugging Face model repository in the host's cache
version_added: 0.2.0
description:
  - Resolves O(revision) (branch, tag or commit) to a commit and makes sure every file of that commit
    (after O(allow_patterns) and O(ignore_patterns)) is in the Hugging Face cache with the size the Hub
    lists - and, with O(verify_checksums), the sha256 of LFS files and the git blob id of the others.
  - Missing, truncated or corrupted files are fetched again, by C(huggingface_hub.snapshot_download) or, with
    O(transfer=gonka), by the collection's own copier; files already complete are never fetched.
  - O(transfer=huggingface_hub) removes what an interrupted download left behind first (huggingface_hub starts
    every file from zero). O(transfer=gonka) keeps it and resumes each file from the bytes on disk with a
    C(Range) request, hashes every byte as it is written (never read back) and fetches a file whose digest
    differs once more from zero. It needs a server with the Hub's C(resolve) route that honours C(Range),
    such as another host's cache served by the model_cache role, the Hub stand-in or a plain HTTP mirror.
  - Writes C(refs/<revision>) so that an offline client (the ML node runs with C(HF_HUB_OFFLINE=true))
    finds the snapshot of a branch or tag, and a manifest (C(gonka-manifests/<commit>.json)) with the
    expected sizes and hashes so that O(offline=true) can verify the snapshot later without the network.
    The manifest is written before the download starts, so that a host serving its cache can serve a
    copy still in progress; a file counts only once it is complete.
  - While it downloads it keeps C(gonka-progress.json) in the repository's cache folder (bytes done and
    total); the gonka.fleet.model_cache role runs this module asynchronously and shows that record.
  - Changed only when bytes were downloaded or removed.
author:
  - gonka.fleet contributors (!UNKNOWN)
requirements:
  - huggingface_hub >= 1.0 on the host (the model_cache role installs it in a virtualenv)
options:
  repo_id:
    description: Repository id, such as C(Qwen/Qwen3-32B-FP8).
    type: str
    required: true
  revision:
    description: Branch, tag or commit. A commit needs no call to the Hub to resolve.
    type: str
    default: main
  hf_home:
    description: C(HF_HOME); the cache is its C(hub) folder unless O(cache_dir) is given.
    type: path
    default: ~/.cache/huggingface
  cache_dir:
    description: The hub cache folder itself (C(HF_HUB_CACHE)).
    type: path
  allow_patterns:
    description: Only files matching one of these fnmatch patterns.
    type: list
    elements: str
  ignore_patterns:
    description: No file matching one of these patterns.
    type: list
    elements: str
  token:
    description: Hugging Face token for gated or private repositories.
    type: str
  endpoint:
    description: Hub address (C(HF_ENDPOINT)), for a mirror or a local stand-in. Default the Hub.
    type: str
  max_workers:
    description: Files downloaded in parallel.
    type: int
    default: 8
  transfer:
    description:
      - Who fetches the files. V(huggingface_hub) is C(snapshot_download) (the Hub's own client, Xet included).
        V(gonka) streams each file with large buffers, resumes interrupted files and verifies while writing
        (see above); the model_cache role uses it between ML hosts.
    type: str
    choices: [huggingface_hub, gonka]
    default: huggingface_hub
  source_wait:
    description:
      - Seconds to keep asking O(endpoint) for the revision while it does not list it yet (a peer whose own
        copy is about to start). 0 fails at once, as against the Hub.
    type: int
    default: 0
  verify_checksums:
    description: Also hash every file (sha256 of LFS files, git blob id of the others); reads every byte.
    type: bool
    default: false
  offline:
    description:
      - Verify the cached snapshot against its manifest without contacting the Hub; fails when the
        snapshot is incomplete (nothing can be fetched). In check mode an uncached repository is reported
        as a change (missing C(*)) instead.
    type: bool
    default: false
  state:
    description: V(present) as above; V(absent) removes the repository from the cache (every revision).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports the files and bytes that are missing or would be removed; downloads nothing.
  diff_mode:
    support: none
    description: The result lists the files instead.
"""

EXAMPLES = r"""
- name: Weights of the 32B model, pinned to a commit, in the ML node's cache
  gonka.fleet.hf_model:
    repo_id: Qwen/Qwen3-32B-FP8
    revision: 9c2bd3a4e3d8f5b05f4f2c0b8b0ecff2ed0e4f3a
    hf_home: /mnt/shared
    token: "{{ vault_hf_token }}"

- name: Copy it from another ML host's cache (resumes an interrupted copy, hashes while writing)
  gonka.fleet.hf_model:
    repo_id: Qwen/Qwen3-32B-FP8
    revision: main
    hf_home: /mnt/shared
    endpoint: http://10.0.0.21:8765
    transfer: gonka
    verify_checksums: true
    source_wait: 300

- name: Check a snapshot without the network, hashing every file
  gonka.fleet.hf_model:
    repo_id: Qwen/Qwen3-32B-FP8
    hf_home: /mnt/shared
    offline: true
    verify_checksums: true
"""

RETURN = r"""
commit:
  description: The commit the revision resolved to.
  returned: state is present
  type: str
  sample: 9c2bd3a4e3d8f5b05f4f2c0b8b0ecff2ed0e4f3a
path:
  description: Snapshot folder of the commit.
  returned: state is present
  type: str
  sample: /mnt/shared/hub/models--Qwen--Qwen3-32B-FP8/snapshots/9c2bd3a4e3d8f5b05f4f2c0b8b0ecff2ed0e4f3a
files:
  description: Number of files of the snapshot (after the patterns).
  returned: state is present
  type: int
bytes:
  description: Their total size.
  returned: state is present
  type: int
missing:
  description: Files that were not usable before the task, with the reason (missing, wrong size, hash).
  returned: state is present
  type: dict
  sample: {"model-00002-of-00002.safetensors": "size 1048576, expected 4194304"}
missing_bytes:
  description: Bytes of those files.
  returned: state is present
  type: int
downloaded_bytes:
  description:
    - Bytes fetched by this task (0 in check mode). Files whose blob another cached commit already holds
      (weights unchanged between revisions) are linked, not fetched.
  returned: state is present
  type: int
resumed_bytes:
  description: Bytes of interrupted files found on disk and kept, not fetched again (O(transfer=gonka)).
  returned: state is present
  type: int
removed_bytes:
  description: Bytes removed (leftovers of interrupted downloads, broken files, or the repository with V(absent)).
  returned: always
  type: int
"""

import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.gonka.fleet.plugins.module_utils import hf_cache, hf_transfer

try:
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile
except ImportError:
    HF_IMPORT_ERROR = traceback.format_exc()
else:
    HF_IMPORT_ERROR = None


def remote_manifest(api, repo_id, commit):
    """path -> size, sha256 (LFS files) and git blob id, from the Hub's tree of the commit."""
    manifest = {}
    for entry in api.list_repo_tree(repo_id, recursive=True, revision=commit):
        if isinstance(entry, RepoFile):
            manifest[entry.path] = {"size": entry.size, "blob_id": entry.blob_id,
                                    "sha256": entry.lfs.sha256 if entry.lfs is not None else None}
    return manifest


def resolve(module):
    """(commit, manifest) of the revision from the endpoint; a peer that does not list the repository or
    revision yet (its own copy about to start) is asked again for up to source_wait seconds."""
    params = module.params
    api = HfApi(endpoint=params["endpoint"], token=params["token"])
    deadline = time.time() + params["source_wait"]
    while True:
        try:
            commit = params["revision"]
            if not hf_cache.COMMIT.match(commit):
                commit = api.repo_info(params["repo_id"], revision=commit).sha
            return commit, remote_manifest(api, params["repo_id"], commit)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            if time.time() >= deadline:
                raise
            time.sleep(2)


def present(module, storage):
    params = module.params
    revision = params["revision"]
    if params["offline"]:
        commit = hf_cache.read_ref(storage, revision)
        manifest = hf_cache.read_manifest(storage, commit) if commit else None
        if manifest is None and module.check_mode:
            # what a download from elsewhere would bring: all of it
            return dict(changed=True, commit=commit, path=None, files=0, bytes=0, missing={"*": "not cached"},
                        missing_bytes=0, downloaded_bytes=0, removed_bytes=0)
        if manifest is None:
            module.fail_json(msg="%s@%s is not in the cache with a manifest (%s); it cannot be verified offline"
                             % (params["repo_id"], revision, storage))
    else:
        commit, manifest = resolve(module)
    wanted = hf_cache.select(manifest, params["allow_patterns"], params["ignore_patterns"])
    manifest = dict((path, manifest[path]) for path in wanted)
    total = sum(entry["size"] for entry in manifest.values())
    missing = hf_cache.problems(storage, commit, manifest, params["verify_checksums"])
    missing_bytes = sum(manifest[path]["size"] for path in missing)
    result = dict(commit=commit, path=os.path.join(storage, "snapshots", commit), files=len(manifest), bytes=total,
                  missing=missing, missing_bytes=missing_bytes, downloaded_bytes=0, resumed_bytes=0, removed_bytes=0)
    stale_ref = not hf_cache.COMMIT.match(revision) and hf_cache.read_ref(storage, revision) != commit
    if module.check_mode or (not missing and not stale_ref):
        result["changed"] = bool(missing) or stale_ref
        if params["offline"] and missing and not module.check_mode:
            module.fail_json(msg="%s@%s is incomplete in %s" % (params["repo_id"], revision, storage), **result)
        if not module.check_mode and hf_cache.read_manifest(storage, commit) is None:
            # bookkeeping for offline checks of a snapshot someone else downloaded; not a change
            hf_cache.write_manifest(storage, commit, manifest)
        return result
    if missing and params["offline"]:
        module.fail_json(msg="%s@%s is incomplete in %s and offline is set" % (params["repo_id"], revision, storage),
                         **result)
    if missing:
        gonka = params["transfer"] == "gonka"
        # ours resume (<etag>.incomplete); huggingface_hub's own restart from zero anyway
        result["removed_bytes"] = hf_cache.remove_incomplete(storage, keep_resumable=gonka)
        for path, reason in missing.items():
            if reason != "missing":
                result["removed_bytes"] += manifest[path]["size"]
                hf_cache.discard(storage, commit, path)
        # listed before the download, so that this host can serve a copy in progress (hf_serve)
        hf_cache.write_manifest(storage, commit, dict(hf_cache.read_manifest(storage, commit) or {}, **manifest))
        before = hf_cache.bytes_on_disk(storage)
        with hf_cache.Progress(storage, missing_bytes, revision=revision, commit=commit):
            if gonka:
                copied = hf_transfer.Transfer(params["endpoint"], params["repo_id"], commit, storage, params["token"],
                                              params["max_workers"], params["verify_checksums"]).run(
                    dict((path, manifest[path]) for path in missing))
                result["resumed_bytes"] = copied["resumed_bytes"]
            else:
                snapshot_download(params["repo_id"], revision=commit, cache_dir=os.path.dirname(storage),
                                  allow_patterns=wanted, token=params["token"], endpoint=params["endpoint"],
                                  max_workers=params["max_workers"])
        # the copier hashed every byte it wrote: sizes and links are what is left to check
        left = hf_cache.problems(storage, commit, manifest, params["verify_checksums"] and not gonka)
        if left:
            module.fail_json(msg="%s@%s is still incomplete after the download: %s"
                             % (params["repo_id"], commit, ", ".join("%s (%s)" % item for item in sorted(left.items()))),
                             **result)
        # blobs shared with a commit already cached (unchanged weights) are linked, not fetched again
        result["downloaded_bytes"] = copied["fetched_bytes"] if gonka else hf_cache.bytes_on_disk(storage) - before
    hf_cache.write_manifest(storage, commit, dict(hf_cache.read_manifest(storage, commit) or {}, **manifest))
    hf_cache.write_ref(storage, revision, commit)
    result["changed"] = True
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo_id=dict(type="str", required=True),
            revision=dict(type="str", default="main"),
            hf_home=dict(type="path", default="~/.cache/huggingface"),
            cache_dir=dict(type="path"),
            allow_patterns=dict(type="list", elements="str"),
            ignore_patterns=dict(type="list", elements="str"),
            token=dict(type="str", no_log=True),
            endpoint=dict(type="str"),
            max_workers=dict(type="int", default=8),
            transfer=dict(type="str", default="huggingface_hub", choices=["huggingface_hub", "gonka"]),
            source_wait=dict(type="int", default=0),
            verify_checksums=dict(type="bool", default=False),
            offline=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    storage = hf_cache.storage_folder(params["cache_dir"] or os.path.join(params["hf_home"], "hub"), params["repo_id"])
    if params["state"] == "absent":
        existed = os.path.isdir(storage)
        held = hf_cache.bytes_on_disk(storage) if existed else 0
        if existed and not module.check_mode:
            hf_cache.remove_repository(storage)
        module.exit_json(changed=existed, removed_bytes=held)
    if HF_IMPORT_ERROR and not params["offline"]:
        module.fail_json(msg=missing_required_lib("huggingface_hub"), exception=HF_IMPORT_ERROR)
    try:
        result = present(module, storage)
    except Exception as exc:  # pylint: disable=broad-except  # the Hub's errors name the repo and revision
        module.fail_json(msg="%s@%s: %s: %s" % (params["repo_id"], params["revision"], type(exc).__name__, exc),
                         exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
