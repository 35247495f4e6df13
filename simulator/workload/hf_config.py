"""A model from its Hugging Face ``config.json`` (a local file; nothing is downloaded).

:data:`ARCHITECTURES` maps each supported ``model_type`` to the structure its transformers
modeling code builds (norm, activation, MLP, position encoding, biases) and to the config keys
that carry the shapes; everything else is read from the file. Unsupported architectures (or
variants this simulator does not model, e.g. OPT with a projected embedding) are a ConfigError
naming the file and the key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ConfigError

_LLAMA = dict(family="llama", norm="rmsnorm", activation="silu", mlp="gated", position="rope", bias=False,
              qkv_bias=False, tied_default=False)
# model_type: structure (from transformers' modeling_<type>.py) + extras
ARCHITECTURES = {
    "llama": dict(_LLAMA, qkv_bias_key="attention_bias"),
    "mistral": dict(_LLAMA),
    "qwen2": dict(_LLAMA, qkv_bias=True, window_flag="use_sliding_window"),
    "qwen3": dict(_LLAMA, qk_norm=True, window_flag="use_sliding_window"),
    "phi3": dict(_LLAMA),
    "gemma2": dict(_LLAMA, activation="gelu", tied_default=True, norms_per_layer=4, window_pattern=2),
    "gemma3_text": dict(_LLAMA, activation="gelu", tied_default=True, norms_per_layer=4, qk_norm=True),
    "mixtral": dict(_LLAMA, experts=("num_local_experts", "num_experts_per_tok", "intermediate_size")),
    "qwen3_moe": dict(_LLAMA, qk_norm=True, window_flag="use_sliding_window",
                      experts=("num_experts", "num_experts_per_tok", "moe_intermediate_size")),
    "gpt2": dict(family="gpt2", norm="layernorm", activation="gelu", mlp="standard", position="learned", bias=True,
                 qkv_bias=True, tied_default=True,
                 keys=dict(hidden="n_embd", layers="n_layer", heads="n_head", max_positions="n_positions",
                           intermediate="n_inner", norm_eps="layer_norm_epsilon")),
    "opt": dict(family="opt", norm="layernorm", activation="relu", mlp="standard", position="learned", bias=True,
                qkv_bias=True, tied_default=True, position_offset=2, keys=dict(intermediate="ffn_dim")),
}
_KEYS = dict(hidden="hidden_size", layers="num_hidden_layers", heads="num_attention_heads",
             kv_heads="num_key_value_heads", intermediate="intermediate_size", vocab="vocab_size",
             max_positions="max_position_embeddings", norm_eps="rms_norm_eps")


def hf_to_model_dict(cfg: dict, src: str) -> dict:
    """The catalog form (see ``workloads/models/*.yaml``) of a Hugging Face config mapping."""
    if isinstance(cfg.get("text_config"), dict):          # multimodal wrapper (Gemma 3): the text model
        cfg = dict(cfg["text_config"], model_type=cfg["text_config"].get("model_type", "gemma3_text"))
    mt = cfg.get("model_type")
    if mt not in ARCHITECTURES:
        raise ConfigError(src, "model_type", f"{mt!r} is not supported; supported: {', '.join(sorted(ARCHITECTURES))}")
    a = ARCHITECTURES[mt]
    keys = dict(_KEYS, **a.get("keys", {}))

    def get(field, default=None):
        k = keys[field]
        v = cfg.get(k, default)
        if v is None:
            raise ConfigError(src, k, f"missing; the {mt} architecture needs it")
        return v

    hidden = get("hidden")
    d = {"name": cfg.get("_name_or_path") or Path(src).parent.name or mt, "family": a["family"],
         "source": f"Hugging Face config.json ({src})", "layers": get("layers"), "hidden": hidden,
         "heads": get("heads"), "kv_heads": cfg.get(keys["kv_heads"]) or get("heads"),
         "intermediate": cfg.get(keys["intermediate"]) or 4 * hidden, "vocab": get("vocab"),
         "max_positions": get("max_positions"), "norm": a["norm"], "activation": a["activation"], "mlp": a["mlp"],
         "position": a["position"], "bias": a["bias"],
         "qkv_bias": bool(cfg.get(a["qkv_bias_key"], a["qkv_bias"])) if "qkv_bias_key" in a else a["qkv_bias"],
         "tied_embeddings": bool(cfg.get("tie_word_embeddings", a["tied_default"]))}
    eps = cfg.get(keys["norm_eps"], cfg.get("layer_norm_eps"))
    if eps is not None:
        d["norm_eps"] = float(eps)
    if a["position"] == "rope" and cfg.get("rope_theta"):
        d["rope_theta"] = float(cfg["rope_theta"])
    if "position_offset" in a:
        d["position_offset"] = a["position_offset"]
    for k in ("norms_per_layer", "qk_norm"):
        if k in a:
            d[k] = a[k]
    if cfg.get("head_dim") and cfg["head_dim"] != hidden // d["heads"]:
        d["head_dim"] = cfg["head_dim"]
    window = cfg.get("sliding_window")
    if window and cfg.get(a.get("window_flag", ""), True):
        d["sliding_window"] = int(window)
        pattern = cfg.get("sliding_window_pattern", a.get("window_pattern"))
        if "layer_types" in cfg:
            pattern = _pattern(cfg["layer_types"], src)
        if pattern:
            d["sliding_window_pattern"] = int(pattern)
    if "experts" in a:
        n, k, width = a["experts"]
        d.update(experts=cfg.get(n), experts_per_token=cfg.get(k), expert_intermediate=cfg.get(width))
        if mt == "qwen3_moe" and (cfg.get("decoder_sparse_step", 1) != 1 or cfg.get("mlp_only_layers")):
            raise ConfigError(src, "mlp_only_layers", "only configs with every layer MoE (decoder_sparse_step 1, "
                              "no mlp_only_layers) are supported")
    if mt == "opt":
        if cfg.get("word_embed_proj_dim", hidden) != hidden:
            raise ConfigError(src, "word_embed_proj_dim", f"must equal hidden_size ({hidden}); projected embeddings "
                              "(OPT-350M) are not modelled")
        if not cfg.get("do_layer_norm_before", True):
            raise ConfigError(src, "do_layer_norm_before", "post-LayerNorm OPT (350M) is not modelled; must be true")
    return d


def _pattern(layer_types, src) -> int:
    """Period P of a layer_types list whose every P-th layer is full attention, else an error."""
    full = [i for i, t in enumerate(layer_types) if t == "full_attention"]
    if not full:
        return 0
    p = full[0] + 1
    if full != list(range(p - 1, len(layer_types), p)):
        raise ConfigError(src, "layer_types", "only a periodic pattern (every P-th layer full attention) is supported")
    return p


def load_hf_config(path):
    """ModelConfig from a local ``config.json``; ConfigError for an unreadable file or an
    unsupported architecture."""
    from .model import parse_model
    p = Path(str(path))
    try:
        cfg = json.loads(p.read_text())
    except OSError as exc:
        raise ConfigError(p, None, f"cannot read file ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(p, None, f"not valid JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise ConfigError(p, None, "top level must be a JSON object")
    d = hf_to_model_dict(cfg, str(p))
    try:
        return parse_model(d, p)
    except ConfigError as e:             # name the keys the user wrote, not the catalog's
        mt = cfg["text_config"].get("model_type", "gemma3_text") if isinstance(cfg.get("text_config"), dict) \
            else cfg["model_type"]
        keys = dict(_KEYS, **ARCHITECTURES[mt].get("keys", {}))
        words = re.compile(r"\b(" + "|".join(sorted(keys, key=len, reverse=True)) + r")\b")
        raise ConfigError(p, words.sub(lambda m: keys[m.group(1)], str(e.key)) if e.key else e.key,
                          words.sub(lambda m: keys[m.group(1)], e.message)) from None
