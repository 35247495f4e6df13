"""A Workload: a model plus how it is stored and run (precision, KV cache policy, batch)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config_io import check_choice, check_int
from ..errors import ConfigError
from .formats import FORMATS, MIXES, Format, canonical, gguf_tensor_type, resolve, weight_names
from .model import ModelConfig

# every name `weights=` / `--weights` accepts (formats.py) -> (payload bits, group, bytes per group)
WEIGHT_FORMATS = {n: (f.bits, f.group, f.group_bytes) for n in weight_names() for f in (resolve(n),)}

KV_FORMATS = {"fp32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "int4": 4}


@dataclass(frozen=True)
class Workload:
    """A model plus how it is stored and run (frozen): ``weights`` (a format name, canonicalised; see
    :mod:`.formats`), ``group_size`` (weights per scale group, count; 0: the format's default), ``kv``
    (KV cache format, a key of :data:`KV_FORMATS`), ``kv_window`` (tokens kept; 0: the full cache),
    ``batch`` (sequences, count). Raises ConfigError on construction for an unknown weight or KV format, ``batch``
    outside [1, 65536], ``kv_window`` outside [0, 2^24], ``group_size`` outside [0, 2^20], or a
    group size given for a fixed-layout format."""
    model: ModelConfig
    weights: str = "bf16"
    group_size: int = 0           # 0: the format's default
    kv: str = "bf16"
    kv_window: int = 0            # 0: full cache; W: keep the last W tokens (sliding window / queue)
    batch: int = 1

    def __post_init__(self):
        src = "workload"
        object.__setattr__(self, "weights", canonical(self.weights))
        fmt = resolve(self.weights)
        check_choice(src, "kv", self.kv, list(KV_FORMATS))
        check_int(src, "batch", self.batch, 1, 65536)
        check_int(src, "kv_window", self.kv_window, 0, 1 << 24)
        check_int(src, "group_size", self.group_size, 0, 1 << 20)
        if self.group_size and (fmt.fixed_group or fmt.group <= 0):
            raise ConfigError(src, "group_size", f"{self.weights} has a fixed layout; group_size must be 0 "
                              f"(the format's own), got {self.group_size}")

    # ---- sizes ---------------------------------------------------------------
    @property
    def act_bytes(self) -> int:
        """Activations are fp32 when weights are fp32, else 16-bit."""
        return 4 if self.weights == "fp32" else 2

    @property
    def kv_bits(self) -> int:
        """Bits per stored K or V element in the cache format ``kv`` (:data:`KV_FORMATS`: fp32 32,
        bf16/fp16 16, fp8/int8 8, int4 4); a count. Quantized caches' scale bytes are not counted."""
        return KV_FORMATS[self.kv]

    @property
    def format(self) -> Format:
        """The base weight format (for a llama.cpp mix such as q4_k_m: its base type)."""
        return resolve(self.weights)

    def tensor_format(self, role: str = "", layer: int = 0, cols: int = 0) -> Format:
        """The :class:`.formats.Format` of one tensor: ``role`` is its trace name (``attn.q`` ...
        ``mlp.down``, ``lm_head``, ``embed``), ``layer`` its layer index, ``cols`` its row length (count
        of elements, ggml's ne[0]; 0: hidden). llama.cpp mixes assign types per tensor role and layer
        (:func:`.formats.gguf_tensor_type`); the LM head and the token table of non-GGUF formats
        stay in the activation precision (as GPTQ/AWQ/bitsandbytes/gpt-fast leave them); every other
        tensor has the base format. Raises ConfigError (from gguf_tensor_type) for a llama.cpp mix whose
        chosen type's block does not divide ``cols`` and that llama.cpp has no fallback type for."""
        m = self.model
        if self.weights in MIXES:
            return FORMATS[gguf_tensor_type(MIXES[self.weights], role, layer, m.layers, cols or m.hidden,
                                            m.experts, m.tied_embeddings)]
        if role in ("lm_head", "embed"):
            return FORMATS["fp32" if self.weights == "fp32" else "bf16"]
        return self.format

    def matrix_bytes(self, rows: int, cols: int, role: str = "", layer: int = 0) -> int:
        """Storage of a rows x cols weight matrix (shape: rows = outputs, cols = the row length, both
        counts) of the tensor ``role`` in ``layer`` in this workload's weight format, in bytes rounded to
        an integer: payload bits plus per-group scale bytes (:meth:`.formats.Format.matrix_bytes`, with
        this workload's ``group_size``). Raises ConfigError when the format's group or block does not
        divide ``cols``, or as :meth:`tensor_format` does."""
        fmt = self.tensor_format(role, layer, cols)
        return int(round(fmt.matrix_bytes(rows, cols, self.group_size)))

    def kv_bytes_per_token(self) -> int:
        """K and V of one token, all layers, one sequence."""
        m = self.model
        return 2 * m.layers * m.kv_heads * m.head_dim * self.kv_bits // 8

    def context_kept(self, context: int, layer: int | None = None) -> int:
        """Count of tokens attended to when the new token is at position ``context`` (0-based, i.e.
        ``context`` tokens already cached): context + 1, capped by the workload's ``kv_window`` (a KV
        cache policy) and, for ``layer`` (an index; None: no model window), the model's own sliding
        window (:meth:`.model.ModelConfig.layer_window`: Mistral 7B's 4096, Gemma 3's 1024 on its local
        layers, from their YAML), whichever is smallest. Raises nothing."""
        n = context + 1
        for w in (self.kv_window, self.model.layer_window(layer) if layer is not None else 0):
            if w:
                n = min(n, w)
        return n
