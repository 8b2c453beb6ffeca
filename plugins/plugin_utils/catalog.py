# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model catalog: vLLM arguments of a governance model for the GPUs of one ML host.

A catalog entry holds ``args`` (the arguments that change inference results, such as
``--quantization fp8 --kv-cache-dtype fp8``: they must stay as published), ``weights_gb`` (size
of the weights on disk) and ``min_vram_gib`` (GPU memory one vLLM instance needs: weights and
KV cache). The tensor-parallel size is not a property of the model but of the host: the smallest
of 1, 2, 4, 8 GPUs whose memory together holds ``min_vram_gib``. Tensor and pipeline parallel
flags do not change inference results, so choosing them per host is safe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TENSOR_PARALLEL_SIZES = (1, 2, 4, 8)
TENSOR_PARALLEL_FLAG = "--tensor-parallel-size"
MIB_PER_GIB = 1024


class CatalogError(Exception):
    """A model that the catalog does not know or that does not fit the host's GPUs."""


def catalog_entry(catalog, model, host):
    if model not in catalog:
        raise CatalogError("%s: model %r of gonka_ml_node_models is not in the model catalog (gonka_model_catalog); "
                           "add it to gonka_model_catalog_extra or give its vLLM arguments in "
                           "gonka_ml_node_model_args" % (host, model))
    return catalog[model] or {}


def tensor_parallel_size(entry, gpu_memory_mib, host, model):
    """Smallest tensor-parallel size whose GPUs hold one instance; None when the host reports no GPU."""
    if not gpu_memory_mib:
        return None
    needed_gib = float(entry.get("min_vram_gib") or 0)
    smallest_gpu_mib = min(int(memory) for memory in gpu_memory_mib)
    for size in TENSOR_PARALLEL_SIZES:
        if size > len(gpu_memory_mib):
            break
        if size * smallest_gpu_mib >= needed_gib * MIB_PER_GIB:
            return size
    smallest_gib = smallest_gpu_mib / float(MIB_PER_GIB)
    raise CatalogError("%s: model %r needs %g GiB of GPU memory for one vLLM instance; the host's %d GPU(s) "
                       "of %.1f GiB each cannot hold it" % (host, model, needed_gib, len(gpu_memory_mib), smallest_gib))


def _has_flag(args, flag):
    return any(arg == flag or arg.startswith(flag + "=") for arg in args)


def vllm_args(catalog, model, gpu_memory_mib=None, override=None, host="?"):
    """The arguments a model is registered with on a host with GPUs of ``gpu_memory_mib`` (a list).

    ``override`` (the host's own arguments for the model) replaces the catalog's; the model must
    still be in the catalog or be overridden. ``--tensor-parallel-size`` is added when the host has
    GPUs, the arguments do not set it and more than one GPU is needed.
    """
    if override is None:
        args = catalog_entry(catalog, model, host).get("args") or []
        entry = catalog[model] or {}
    else:
        args = override
        entry = catalog.get(model) or {}
    args = [str(arg) for arg in args]
    if not _has_flag(args, TENSOR_PARALLEL_FLAG):
        size = tensor_parallel_size(entry, gpu_memory_mib, host, model)
        if size and size > 1:
            args += [TENSOR_PARALLEL_FLAG, str(size)]
    return args
