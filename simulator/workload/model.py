"""Model configurations: the shapes of a decoder-only transformer.

Families: ``gpt2`` (GPT-2 and GPT-3-style: LayerNorm, GELU, learned positions, fused QKV,
tied embeddings), ``opt`` (LayerNorm, ReLU, learned positions with offset 2, separate
Q/K/V), ``llama`` (RMSNorm, SwiGLU, RoPE, grouped-query attention; LLaMA, Mistral, Qwen,
Gemma, Phi-3, and the mixture-of-experts Mixtral / Qwen3-MoE with ``experts`` > 0).

A catalog name, a YAML path or a Hugging Face ``config.json`` path (:mod:`.hf_config`) all load
through :func:`load_model`.
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
             "position_offset", "sliding_window", "notes", "head_dim", "qk_norm", "norms_per_layer",
             "experts", "experts_per_token", "expert_intermediate", "sliding_window_pattern"}


@dataclass(frozen=True)
class ModelConfig:
    """The shapes of a decoder-only transformer (frozen), built by :func:`load_model` /
    :func:`parse_model`, which validate it (the constructor checks nothing). Sizes are counts:
    ``layers``, ``hidden`` (model width), ``heads``, ``kv_heads``, ``intermediate`` (MLP width),
    ``vocab``, ``max_positions`` (tokens); ``sliding_window`` in tokens; the other fields name the
    architecture's choices (see their comments). ``source`` names the paper or checkpoint config the
    numbers come from."""
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
    sliding_window_pattern: int = 0   # 0: every layer windowed; P: layer i is global when (i+1) % P == 0
    published_params: str = ""
    published_params_exact: int = 0
    head_size: int = 0                # 0: hidden / heads (Gemma, Qwen3 set their own)
    qk_norm: bool = False             # RMSNorm on each head's query and key (Qwen3, Gemma 3)
    norms_per_layer: int = 2          # Gemma 2/3: 4 (pre and post attention / feed-forward)
    experts: int = 0                  # mixture of experts: experts per layer (0: dense MLP)
    experts_per_token: int = 0        # top-k routed experts
    expert_intermediate: int = 0      # one expert's MLP width

    @property
    def head_dim(self) -> int:
        """Width of one attention head (count of elements): the config's own ``head_dim`` (Gemma, Qwen3)
        where given, else hidden // heads (:func:`parse_model` checks that heads divides hidden then)."""
        return self.head_size or self.hidden // self.heads

    @property
    def q_dim(self) -> int:
        """Query width per token per layer: heads x head_dim (count); the Q projection's output features
        and the attention output projection's input features."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """K/V width per token per layer: kv heads x head_dim (count), each of K and V; smaller than
        :attr:`q_dim` under grouped-query / multi-query attention (kv_heads < heads)."""
        return self.kv_heads * self.head_dim

    def layer_window(self, layer: int) -> int:
        """The sliding window of ``layer`` in tokens (0: attends to the whole context)."""
        p = self.sliding_window_pattern
        if not self.sliding_window or (p and (layer + 1) % p == 0):
            return 0
        return self.sliding_window

    def experts_read(self, batch: int) -> float:
        """Expected distinct experts one MoE layer reads for ``batch`` tokens, assuming each
        token routes to ``experts_per_token`` distinct experts drawn uniformly and independently
        of the other tokens: E * (1 - (1 - k/E)^B); exactly k at batch 1."""
        E, k = self.experts, self.experts_per_token
        return float(k) if batch == 1 else E * (1.0 - (1.0 - k / E) ** batch)

    @property
    def fused_qkv(self) -> bool:
        """True (a bool) for the ``gpt2`` family, whose checkpoints hold Q, K and V as one matrix (Hugging
        Face GPT-2's ``c_attn``), so the trace has one ``attn.qkv`` GEMV of q_dim + 2 x kv_dim outputs;
        False for the others (separate ``attn.q``, ``attn.k``, ``attn.v``)."""
        return self.family == "gpt2"

    def scaled(self, **kw) -> "ModelConfig":
        """A copy with some fields replaced, e.g. reduced ``layers`` / ``hidden`` counts for fast tests;
        ``kw``: field name -> value (a ``name`` key sets the name, default this name + ``-scaled``).
        The values are not validated (no :func:`parse_model` checks: heads need not divide hidden).
        Raises TypeError for a key that is not a ModelConfig field."""
        return replace(self, name=kw.pop("name", self.name + "-scaled"), **kw)

    # ---- parameter counts ------------------------------------------------
    def layer_linears(self) -> list:
        """Every weight matrix of one decoder block as (out_features, in_features, has_bias,
        copies): Q, K, V (fused on GPT-2), the output projection, and the MLP (MoE: each expert's
        matrices ``experts`` times, plus the router)."""
        d, q, kv, f = self.hidden, self.q_dim, self.kv_dim, self.intermediate
        qb = self.qkv_bias
        attn = [(q + 2 * kv, d, qb, 1)] if self.fused_qkv else [(q, d, qb, 1), (kv, d, qb, 1), (kv, d, qb, 1)]
        attn.append((d, q, self.bias, 1))
        n_up = 2 if self.mlp == "gated" else 1
        if self.experts:
            fe, e = self.expert_intermediate, self.experts
            mlp = [(fe, d, False, e)] * n_up + [(d, fe, False, e), (e, d, False, 1)]
        else:
            mlp = [(f, d, self.bias, 1)] * n_up + [(d, f, self.bias, 1)]
        return attn + mlp

    def norm_params_per_layer(self) -> int:
        """Parameters of one decoder block's norms (LayerNorm: weight and bias; Q/K norms too)."""
        norms = self.norms_per_layer * (2 * self.hidden if self.norm == "layernorm" else self.hidden)
        return norms + (2 * self.head_dim if self.qk_norm else 0)

    def params_per_layer(self) -> int:
        """Parameters of one decoder block (count): for each matrix of :meth:`layer_linears`, copies x
        (out x in, plus out for a bias), plus :meth:`norm_params_per_layer`. MoE layers count every
        expert and the router."""
        return (sum(c * (o * i + (o if b else 0)) for o, i, b, c in self.layer_linears())
                + self.norm_params_per_layer())

    def active_params(self) -> int:
        """Parameters one token uses (MoE: only its routed experts)."""
        if not self.experts:
            return self.param_count()
        n_up = 2 if self.mlp == "gated" else 1
        idle = (self.experts - self.experts_per_token) * (n_up + 1) * self.hidden * self.expert_intermediate
        return self.param_count() - self.layers * idle

    def embedding_params(self) -> int:
        """Parameters of the input embedding tables (count): the token table vocab x hidden, plus for
        learned positions the position table (max_positions + position_offset) x hidden (OPT keeps 2
        extra rows: ``position_offset: 2`` in its YAML, Hugging Face ``OPTLearnedPositionalEmbedding``).
        The LM head is not included (see :meth:`param_count`)."""
        n = self.vocab * self.hidden
        if self.position == "learned":
            n += (self.max_positions + self.position_offset) * self.hidden
        return n

    def param_count(self) -> int:
        """Total parameters (count): :meth:`embedding_params` + layers x :meth:`params_per_layer` + the
        final norm (LayerNorm: weight and bias, 2 x hidden; RMSNorm: hidden) + the LM head vocab x hidden
        unless tied to the token table. MoE: all experts (:meth:`active_params` gives one token's share).
        tests/test_workload_models.py checks it against each model's published count."""
        final_norm = 2 * self.hidden if self.norm == "layernorm" else self.hidden
        lm_head = 0 if self.tied_embeddings else self.vocab * self.hidden
        return self.embedding_params() + self.layers * self.params_per_layer() + final_norm + lm_head


# common spellings of catalog names (Hugging Face repo names, Ollama tags) -> catalog keys
_NAME_RULES = [(r"^meta-", ""), (r"_", "-"), (r":", "-"), (r"-(instruct|chat|hf|it|base)$", ""), (r"-v0\.\d$", ""),
               (r"^qwen2\.5-", "qwen-2.5-"), (r"^llama(\d)(\.\d)?-", r"llama-\1\2-"), (r"^gemma(\d)-", r"gemma-\1-"),
               (r"^phi-?3-mini(-4k|-128k)?$", "phi-3-mini"), (r"^phi-?3-mini(-4k|-128k)?-", "phi-3-mini-")]


def catalog_key(name: str) -> str:
    """The catalog key for a model name: ``Llama-3.2-3B-Instruct`` -> ``llama-3.2-3b``,
    ``Qwen2.5-7B`` -> ``qwen-2.5-7b``, ``mistral-7b-v0.1`` -> ``mistral-7b``."""
    import re
    key = str(name).strip().lower()
    for _ in range(2):                      # suffixes may stack (-instruct-hf)
        for pat, rep in _NAME_RULES:
            key = re.sub(pat, rep, key)
    return key


def list_models() -> list:
    """Names (file stems) of the model configs in workloads/models, sorted: a list of str."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.yaml"))


def load_model(name_or_path) -> ModelConfig:
    """A catalog name, a model YAML, a Hugging Face ``config.json`` (any path ending .json) or a
    folder holding one (a downloaded model's folder). Raises ConfigError (unknown name, bad file)."""
    if isinstance(name_or_path, ModelConfig):
        return name_or_path
    if Path(str(name_or_path)).is_dir() and (Path(str(name_or_path)) / "config.json").is_file():
        name_or_path = Path(str(name_or_path)) / "config.json"
    if str(name_or_path).endswith(".json"):
        from .hf_config import load_hf_config
        return load_hf_config(name_or_path)
    p = find_config(name_or_path, MODEL_DIR, "--model", "model", normalise=catalog_key)
    return parse_model(load_yaml(p), p)


def parse_model(d: dict, src) -> ModelConfig:
    src = str(src)
    check_keys(src, "", d, _REQUIRED, _OPTIONAL)
    check_choice(src, "family", d["family"], ("gpt2", "opt", "llama"))
    ints = {k: check_int(src, k, d[k], 1, 1 << 22) for k in
            ("layers", "hidden", "heads", "kv_heads", "intermediate", "vocab", "max_positions")}
    if ints["hidden"] % ints["heads"] and "head_dim" not in d:
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
    for k, hi in (("head_dim", 4096), ("norms_per_layer", 8), ("experts", 4096), ("experts_per_token", 4096),
                  ("expert_intermediate", 1 << 22), ("sliding_window_pattern", 1 << 12)):
        if k in d:
            extra["head_size" if k == "head_dim" else k] = check_int(src, k, d[k], 1, hi)
    if "qk_norm" in d:
        if not isinstance(d["qk_norm"], bool):
            raise ConfigError(src, "qk_norm", f"must be true or false, got {d['qk_norm']!r}")
        extra["qk_norm"] = d["qk_norm"]
    if bool(extra.get("experts")) != bool(extra.get("experts_per_token")) or \
            bool(extra.get("experts")) != bool(extra.get("expert_intermediate")):
        raise ConfigError(src, "experts", "experts, experts_per_token and expert_intermediate go together")
    if extra.get("experts") and extra["experts_per_token"] > extra["experts"]:
        raise ConfigError(src, "experts_per_token", f"{extra['experts_per_token']} is out of range; "
                          f"allowed [1, {extra['experts']}] (experts)")
    if "published_params_exact" in d:
        extra["published_params_exact"] = check_int(src, "published_params_exact", d["published_params_exact"], 1, 1 << 50)
    if d["position"] == "rope" and (d.get("head_dim") or ints["hidden"] // ints["heads"]) % 2:
        raise ConfigError(src, "heads", "RoPE needs an even head dimension")
    return ModelConfig(name=str(d["name"]), family=d["family"], source=str(d["source"]),
                       norm=d["norm"], activation=d["activation"], mlp=d["mlp"], position=d["position"],
                       bias=d["bias"], qkv_bias=d["qkv_bias"], tied_embeddings=d["tied_embeddings"],
                       published_params=str(d.get("published_params", "")), **ints, **extra)
