"""Model configurations: the shapes of a decoder-only transformer.

Families: ``gpt2`` (GPT-2 and GPT-3-style: LayerNorm, GELU, learned positions, fused QKV,
tied embeddings), ``opt`` (LayerNorm, ReLU, learned positions with offset 2, separate
Q/K/V), ``llama`` (RMSNorm, SwiGLU, RoPE, grouped-query attention; LLaMA, Mistral, Qwen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..config_io import check_choice, find_config, check_float, check_int, check_keys, load_yaml
from ..errors import ConfigError

MODEL_DIR = Path(__file__).resolve().parents[2] / "workloads" / "models"

_REQUIRED = {"name", "family", "source", "layers", "hidden", "heads", "kv_heads",
             "intermediate", "vocab", "max_positions", "norm", "activation", "mlp", "position",
             "bias", "qkv_bias", "tied_embeddings"}
_OPTIONAL = {"published_params", "published_params_exact", "norm_eps", "rope_theta",
             "position_offset", "sliding_window", "notes"}


@dataclass(frozen=True)
class ModelConfig:
    name: str
    family: str
    source: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    max_positions: int
    norm: str              # layernorm | rmsnorm
    activation: str        # gelu | relu | silu
    mlp: str               # standard (up, act, down) | gated (gate, up, act*, down)
    position: str          # learned | rope
    bias: bool             # biases on linear layers (other than QKV)
    qkv_bias: bool
    tied_embeddings: bool
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    position_offset: int = 0
    sliding_window: int = 0
    published_params: str = ""
    published_params_exact: int = 0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def fused_qkv(self) -> bool:
        return self.family == "gpt2"

    def scaled(self, **kw) -> "ModelConfig":
        """A variant with other shapes (e.g. reduced width for fast tests)."""
        return replace(self, name=kw.pop("name", self.name + "-scaled"), **kw)

    # ---- parameter counts ------------------------------------------------
    def params_per_layer(self) -> int:
        d, kv, f = self.hidden, self.kv_dim, self.intermediate
        attn = d * (d + 2 * kv) + (d + 2 * kv if self.qkv_bias else 0)      # Q, K, V
        attn += d * d + (d if self.bias else 0)                             # output projection
        n_up = 2 if self.mlp == "gated" else 1
        mlp = n_up * d * f + f * d + ((n_up * f + d) if self.bias else 0)
        norms = 2 * (2 * d if self.norm == "layernorm" else d)
        return attn + mlp + norms

    def embedding_params(self) -> int:
        n = self.vocab * self.hidden
        if self.position == "learned":
            n += (self.max_positions + self.position_offset) * self.hidden
        return n

    def param_count(self) -> int:
        final_norm = 2 * self.hidden if self.norm == "layernorm" else self.hidden
        lm_head = 0 if self.tied_embeddings else self.vocab * self.hidden
        return self.embedding_params() + self.layers * self.params_per_layer() + final_norm + lm_head


def list_models() -> list:
    return sorted(p.stem for p in MODEL_DIR.glob("*.yaml"))


def load_model(name_or_path) -> ModelConfig:
    p = find_config(name_or_path, MODEL_DIR, "--model", "model")
    return parse_model(load_yaml(p), p)


def parse_model(d: dict, src) -> ModelConfig:
    src = str(src)
    check_keys(src, "", d, _REQUIRED, _OPTIONAL)
    check_choice(src, "family", d["family"], ("gpt2", "opt", "llama"))
    ints = {k: check_int(src, k, d[k], 1, 1 << 22) for k in
            ("layers", "hidden", "heads", "kv_heads", "intermediate", "vocab", "max_positions")}
    if ints["hidden"] % ints["heads"]:
        raise ConfigError(src, "heads", f"hidden ({ints['hidden']}) must be a multiple of heads ({ints['heads']})")
    if ints["heads"] % ints["kv_heads"]:
        raise ConfigError(src, "kv_heads", f"heads ({ints['heads']}) must be a multiple of kv_heads "
                          f"({ints['kv_heads']}); allowed divisors of {ints['heads']}")
    check_choice(src, "norm", d["norm"], ("layernorm", "rmsnorm"))
    check_choice(src, "activation", d["activation"], ("gelu", "relu", "silu"))
    check_choice(src, "mlp", d["mlp"], ("standard", "gated"))
    check_choice(src, "position", d["position"], ("learned", "rope"))
    for k in ("bias", "qkv_bias", "tied_embeddings"):
        if not isinstance(d[k], bool):
            raise ConfigError(src, k, f"must be true or false, got {d[k]!r}")
    extra = {}
    if "norm_eps" in d:
        extra["norm_eps"] = check_float(src, "norm_eps", d["norm_eps"], 1e-12, 1e-1)
    if "rope_theta" in d:
        extra["rope_theta"] = check_float(src, "rope_theta", d["rope_theta"], 1.0, 1e9)
    if "position_offset" in d:
        extra["position_offset"] = check_int(src, "position_offset", d["position_offset"], 0, 1024)
    if "sliding_window" in d:
        extra["sliding_window"] = check_int(src, "sliding_window", d["sliding_window"], 0, 1 << 22)
    if "published_params_exact" in d:
        extra["published_params_exact"] = check_int(src, "published_params_exact", d["published_params_exact"], 1, 1 << 50)
    if d["position"] == "rope" and (ints["hidden"] // ints["heads"]) % 2:
        raise ConfigError(src, "heads", "RoPE needs an even head dimension")
    return ModelConfig(name=str(d["name"]), family=d["family"], source=str(d["source"]),
                       norm=d["norm"], activation=d["activation"], mlp=d["mlp"], position=d["position"],
                       bias=d["bias"], qkv_bias=d["qkv_bias"], tied_embeddings=d["tied_embeddings"],
                       published_params=str(d.get("published_params", "")), **ints, **extra)
