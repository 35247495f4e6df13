"""Limits a result must respect before it is computed: the model's positions and the
memory that has to hold weights, KV cache and activations.

A workload that does not fit is an error (ConfigError, exit 2 on the command line), never a
number; ``allow_overcommit=True`` (``--allow-overcommit``) asks for the number anyway, e.g. to
study offloading.
"""

from __future__ import annotations

from .errors import ConfigError
from .workload.workload import WEIGHT_FORMATS

OVERCOMMIT_HINT = "pass --allow-overcommit to simulate it anyway"


def check_positions(model, context: int, src: str = "--context"):
    """The new token sits at position ``context`` (0-based): it must be below ``max_positions``."""
    if context >= model.max_positions:
        raise ConfigError(src, str(context), f"beyond {model.name}'s {model.max_positions} positions; "
                          f"allowed [0, {model.max_positions - 1}]")


def check_sequence(model, prompt: int, generate: int, src: str = "--generate"):
    """A request of ``prompt`` tokens then ``generate`` new ones holds prompt + generate positions
    (0 .. prompt + generate - 1): the sum must not exceed ``max_positions`` (learned or rotary: the
    model was trained on that many). ConfigError naming ``src`` and the allowed range of ``generate``."""
    if prompt + generate > model.max_positions:
        raise ConfigError(src, str(generate), f"a {prompt}-token prompt + {generate} generated = {prompt + generate} "
                          f"tokens, beyond {model.name}'s {model.max_positions} positions; allowed "
                          f"[1, {model.max_positions - prompt}]" if prompt < model.max_positions else
                          f"the {prompt}-token prompt alone fills {model.name}'s {model.max_positions} positions")


def footprint_bytes(workload, context: int) -> dict:
    """Resident bytes of one decode step: ``weights`` (every parameter in the weight format, plus
    quantisation scales), ``kv`` (K and V of the tokens kept, all sequences) and ``activations``
    (two fp32 buffers of the widest vector, hidden/intermediate/vocab, per sequence)."""
    m = workload.model
    bits, group, group_bytes = WEIGHT_FORMATS[workload.weights]
    p = m.param_count()
    g = workload.group_size or group or m.hidden
    weights = p * bits // 8 + (p // g) * group_bytes if group_bytes else p * bits // 8
    kv = workload.kv_bytes_per_token() * workload.context_kept(context) * workload.batch
    act = 2 * 4 * workload.batch * max(m.hidden, m.intermediate, m.vocab)
    return {"weights": weights, "kv": kv, "activations": act}


def check_fits(workload, context: int, capacity_bytes: float, where: str, allow_overcommit: bool = False):
    """ConfigError unless weights + KV + activations fit in ``capacity_bytes``."""
    f = footprint_bytes(workload, context)
    need = sum(f.values())
    if need > capacity_bytes and not allow_overcommit:
        raise ConfigError("--hw", where, f"{workload.model.name} needs {need / 1e9:.2f} GB (weights "
                          f"{f['weights'] / 1e9:.2f} + KV {f['kv'] / 1e9:.2f} + activations "
                          f"{f['activations'] / 1e9:.3f} GB) but the memory capacity is {capacity_bytes / 1e9:.2f} GB; "
                          + OVERCOMMIT_HINT)
    return need
