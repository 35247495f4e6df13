"""Weight formats as data: how many bytes a weight matrix takes in each storage format, and
the per-tensor mixes llama.cpp's quantizer assigns.

Every format is one record of :data:`FORMATS`: ``bits`` of payload per weight, plus
``group_bytes`` of scale/zero/min per ``group`` weights (``group`` 0: no per-group overhead;
``-1``: one group per matrix row). For GGUF block types, ``bits * group / 8 + group_bytes`` is
the ggml block size, so a row of ``k`` weights takes ``k / group`` blocks; a row length that is
not a multiple of the block is an error (llama.cpp falls back to another type first, see
:func:`gguf_tensor_type`).

Sources:

* GGUF block types: ggml's block structs and their ``static_assert`` sizes in
  ``ggml/src/ggml-common.h`` (github.com/ggml-org/llama.cpp): block_q4_0 = fp16 d + 16 B
  nibbles = 18 B / 32 weights; q4_1 adds fp16 m (20 B); q5_0 = d + 4 B high bits + 16 B (22 B);
  q5_1 = 24 B; q8_0 = d + 32 B (34 B); q2_K = 16 B scales + 64 B + d + dmin (84 B / 256);
  q3_K = 32 B hmask + 64 B + 12 B scales + d (110 B); q4_K = d + dmin + 12 B scales + 128 B
  (144 B); q5_K = 176 B; q6_K = 128 B ql + 64 B qh + 16 B scales + d (210 B); iq4_nl = 18 B / 32;
  iq4_xs = d + 2 B scales_h + 4 B scales_l + 128 B (136 B / 256); mxfp4 = one E8M0 byte + 16 B
  (17 B / 32).
* llama.cpp mixes (Q4_K_M, Q4_K_S, Q5_K_M, and the type the output / token embedding keep):
  ``llama_tensor_get_type_impl`` and ``tensor_type_fallback`` in ``src/llama-quant.cpp``
  (github.com/ggml-org/llama.cpp, commit 007dbbf3).
* GPTQ / AWQ int4: 4-bit payload, one fp16 scale and one packed 4-bit zero point per group
  (AutoGPTQ / AutoAWQ ``qweight``/``qzeros``/``scales`` tensors; default group 128).
  Marlin: symmetric 4-bit with one fp16 scale per group (IST-DASLab/marlin README).
* EXL2: a mixed per-layer bit width whose average (the ``bpw`` named in the model, e.g. 4.65)
  already includes its scales (turboderp/exllamav2 README, "EXL2 quantization").
* FP8 e4m3: one byte per weight, per-tensor scale (negligible). MXFP4: OCP Microscaling spec
  v1.0, 32 FP4 (E2M1) values share one E8M0 scale. NVFP4: 16 FP4 values share one FP8 (E4M3)
  scale (NVIDIA Blackwell NVFP4 announcement); the per-tensor fp32 scale is negligible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError

_GGML = "ggml/src/ggml-common.h (ggml-org/llama.cpp)"


@dataclass(frozen=True)
class Format:
    name: str
    bits: float            # payload bits per weight
    group: int             # weights per scale group: 0 none, -1 one per row
    group_bytes: float     # scale / zero / min bytes per group
    family: str            # dequantization class the runtimes key their costs on
    compute: str           # precision of the math: fp32 | bf16 | int8 (peak the device offers)
    fixed_group: bool      # GGUF blocks, MX/NV FP4: the group size cannot be changed
    source: str
    native: str = ""       # number format the math needs in hardware ("" : dequantized in software first)

    @property
    def block_bytes(self) -> float:
        """Bytes of one group (for GGUF block types: ggml's ``type_size``)."""
        return self.bits * self.group / 8 + self.group_bytes if self.group > 0 else self.bits / 8

    @property
    def bits_per_weight(self) -> float:
        """Average storage bits per weight with the default group (rows of 4096 for per-row)."""
        g = self.group if self.group > 0 else 4096 if self.group < 0 else 0
        return self.bits + (8 * self.group_bytes / g if g else 0.0)

    def matrix_bytes(self, rows: int, cols: int, group_size: int = 0) -> float:
        """Bytes of a rows x cols matrix (rows = outputs, cols = the row length, ggml's ne[0])."""
        n = rows * cols
        g = self.group
        if group_size and not self.fixed_group and g > 0:
            g = group_size
        if g == 0:
            return n * self.bits / 8
        if g < 0:
            return n * self.bits / 8 + rows * self.group_bytes
        if cols % g:
            raise ConfigError("workload", "group_size" if not self.fixed_group else "weights",
                              f"{self.name}: block/group of {g} weights does not divide the row length {cols}")
        return n * self.bits / 8 + (n // g) * self.group_bytes


def _f(name, bits, group, group_bytes, family, compute="bf16", fixed=False, source="", native=""):
    # llama.cpp multiplies GGUF weights with int8 dot products on q8-quantized activations
    # (MMVQ on CUDA, vec_dot_*_q8 on CPU), so their math runs at the device's int8 rate
    if family.startswith("gguf"):
        compute = "int8"
    return Format(name, bits, group, group_bytes, family, compute, fixed, source, native)


# name: bits, group, group_bytes, family, compute, fixed group, source
FORMATS = {f.name: f for f in [
    _f("fp32", 32, 0, 0, "dense", "fp32", source="IEEE 754 binary32", native="fp32"),
    _f("bf16", 16, 0, 0, "dense", source="bfloat16", native="bf16"),
    _f("fp16", 16, 0, 0, "dense", source="IEEE 754 binary16", native="fp16"),
    _f("int8", 8, -1, 2, "int8", "int8", source="per-output-channel fp16 scale (LLM.int8 / gpt-fast int8)"),
    _f("int4", 4, 128, 4, "int4", source="group-wise bf16 scale + bf16 zero (gpt-fast int4 scales_and_zeros)"),
    _f("nf4", 4, 64, 4, "nf4", source="bitsandbytes NF4: fp32 absmax per block of 64"),
    _f("gptq", 4, 128, 2.5, "int4", source="AutoGPTQ: fp16 scale + packed 4-bit zero per group (default 128)"),
    _f("awq", 4, 128, 2.5, "int4", source="AutoAWQ GEMM/GEMV: fp16 scale + packed 4-bit zero per group (128)"),
    _f("marlin", 4, 128, 2, "int4", source="IST-DASLab Marlin: symmetric int4, fp16 scale per group of 128"),
    _f("fp8_e4m3", 8, 0, 0, "fp8", source="OCP FP8 E4M3, per-tensor scale", native="fp8"),
    _f("mxfp4", 4, 32, 1, "fp4", fixed=True, source="OCP MX v1.0: 32 E2M1 + one E8M0 scale (ggml block_mxfp4, 17 B)"),
    _f("nvfp4", 4, 16, 1, "fp4", fixed=True, source="NVIDIA NVFP4: 16 E2M1 + one E4M3 scale", native="fp4"),
    # GGUF block types (ggml-common.h): payload bits x block / 8 + scale bytes = block bytes
    _f("q4_0", 4, 32, 2, "gguf", fixed=True, source=_GGML + ": block_q4_0 18 B / 32"),
    _f("q4_1", 4, 32, 4, "gguf", fixed=True, source=_GGML + ": block_q4_1 20 B / 32"),
    _f("q5_0", 5, 32, 2, "gguf", fixed=True, source=_GGML + ": block_q5_0 22 B / 32"),
    _f("q5_1", 5, 32, 4, "gguf", fixed=True, source=_GGML + ": block_q5_1 24 B / 32"),
    _f("q8_0", 8, 32, 2, "gguf", fixed=True, source=_GGML + ": block_q8_0 34 B / 32"),
    _f("iq4_nl", 4, 32, 2, "gguf", fixed=True, source=_GGML + ": block_iq4_nl 18 B / 32"),
    _f("q2_k", 2, 256, 20, "gguf_k", fixed=True, source=_GGML + ": block_q2_K 84 B / 256"),
    _f("q3_k", 3, 256, 14, "gguf_k", fixed=True, source=_GGML + ": block_q3_K 110 B / 256"),
    _f("q4_k", 4, 256, 16, "gguf_k", fixed=True, source=_GGML + ": block_q4_K 144 B / 256"),
    _f("q5_k", 5, 256, 16, "gguf_k", fixed=True, source=_GGML + ": block_q5_K 176 B / 256"),
    _f("q6_k", 6, 256, 18, "gguf_k", fixed=True, source=_GGML + ": block_q6_K 210 B / 256"),
    _f("iq4_xs", 4, 256, 8, "gguf_k", fixed=True, source=_GGML + ": block_iq4_xs 136 B / 256"),
]}

# llama.cpp's type fallback when a row is not a multiple of the block (tensor_type_fallback)
GGUF_FALLBACK = {"q2_k": "q4_0", "q3_k": "q4_0", "q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0",
                 "iq4_xs": "iq4_nl"}

# Layer selectors of llama-quant.cpp (i = layer, n = layers)
LAYER_RULES = {
    "all": lambda i, n: True,
    "use_more_bits": lambda i, n: i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2,
    "first_eighth": lambda i, n: i < n // 8,
    "first_4": lambda i, n: i < 4,
}


@dataclass(frozen=True)
class Mix:
    """A llama.cpp file type ("mostly X"): the base type and the tensors it promotes.
    ``rules``: (tensor role, layer selector, type), first match wins; ``moe8``: the overrides
    for 8-expert models (Mixtral); the output (and a tied token embedding) take ``output``."""
    name: str
    base: str
    output: str
    rules: tuple = ()
    moe8: tuple = ()


_Q = "src/llama-quant.cpp llama_tensor_get_type_impl"
MIXES = {m.name: m for m in [
    Mix("q4_k_m", "q4_k", "q6_k",
        rules=(("attn.v", "use_more_bits", "q6_k"), ("mlp.down", "use_more_bits", "q6_k"),
               ("attn.qkv", "all", "q5_k")),
        moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0"), ("attn.out", "all", "q5_k"))),
    Mix("q4_k_s", "q4_k", "q6_k",
        rules=(("attn.v", "first_4", "q5_k"), ("mlp.down", "first_eighth", "q5_k")),
        moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0"), ("attn.out", "all", "q5_k"))),
    Mix("q5_k_m", "q5_k", "q6_k",
        rules=(("attn.v", "use_more_bits", "q6_k"), ("mlp.down", "use_more_bits", "q6_k"),
               ("attn.qkv", "all", "q6_k")),
        moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0"))),
    Mix("q5_k_s", "q5_k", "q6_k", moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0"))),
    Mix("q6_k", "q6_k", "q6_k", moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0"))),
    # plain "mostly X" types: the output is promoted to Q6_K unless X is Q8_0
    *[Mix(t, t, "q8_0" if t == "q8_0" else "q6_k", moe8=(("attn.v", "all", "q8_0"), ("attn.k", "all", "q8_0")))
      for t in ("q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_nl", "iq4_xs", "q2_k", "q3_k", "q4_k", "q5_k")],
]}

# other spellings of the same formats (llama.cpp's f16/f32, vendors' names)
ALIASES = {"f16": "fp16", "half": "fp16", "f32": "fp32", "float32": "fp32", "bfloat16": "bf16", "fp8": "fp8_e4m3",
           "e4m3": "fp8_e4m3", "fp8_e4m3fn": "fp8_e4m3", "w4a16": "awq", "awq_int4": "awq", "gptq_int4": "gptq",
           "awq_marlin": "marlin", "gptq_marlin": "marlin", "int8_weight_only": "int8", "w8a16": "int8",
           "mxfp4_moe": "mxfp4"}

_EXL2 = re.compile(r"^exl2[-_](\d+(?:\.\d+)?)(?:bpw)?$")


def weight_names() -> list:
    """Every name ``weights=`` accepts (EXL2 also as ``exl2-<bpw>``, bpw in [2, 8])."""
    return sorted(set(FORMATS) | set(MIXES)) + ["exl2-4.0", "exl2-4.65", "exl2-5.0", "exl2-6.0", "exl2-8.0"]


def canonical(name: str) -> str:
    """The table's spelling of a format name: lower case, ``-`` as ``_`` (except in EXL2's
    ``exl2-<bpw>``), aliases such as llama.cpp's ``f16`` resolved."""
    key = str(name).strip().lower()
    if _EXL2.match(key):
        return key
    key = key.replace("-", "_")
    return ALIASES.get(key, key)


def resolve(name: str) -> Format:
    """The format record for a name (``q4_k_m`` resolves to its base type, ``exl2-4.65`` to a
    4.65-bit format); ConfigError listing the names otherwise."""
    key = canonical(name)
    if key in FORMATS:
        return FORMATS[key]
    if key in MIXES:
        return FORMATS[MIXES[key].base]
    m = _EXL2.match(key)
    if m and 2.0 <= float(m.group(1)) <= 8.0:
        return Format(key, float(m.group(1)), 0, 0, "exl2", "bf16", True,
                      "turboderp/exllamav2 README: average bits per weight including scales")
    raise ConfigError("workload", "weights", f"{name!r} is not one of: {', '.join(weight_names())} "
                      "(EXL2: exl2-<bpw>, bpw in [2, 8])")


def gguf_tensor_type(mix: Mix, role: str, layer: int, layers: int, cols: int, experts: int = 0,
                     tied: bool = False) -> str:
    """The ggml type llama.cpp's quantizer gives one tensor of a model quantized as ``mix``.

    ``role``: trace tensor name (``attn.q`` ... ``mlp.down``, ``lm_head``, ``embed``);
    ``cols``: its row length (ne[0]); ``experts``: the model's expert count (8 selects the
    Mixtral overrides). Source: llama-quant.cpp ``llama_tensor_get_type_impl`` (output and a
    tied token embedding take Q8_0 when the row is not a multiple of the base block, else the
    mix's output type) and ``tensor_type_fallback`` (K-quants on rows not a multiple of 256)."""
    base = FORMATS[mix.base]
    if role == "lm_head" or (role == "embed" and tied):
        t = "q8_0" if cols % base.group else mix.output
    elif role == "embed":
        t = mix.base
    else:
        t = mix.base
        rules = mix.moe8 + mix.rules if experts == 8 else mix.rules
        for r_role, sel, typ in rules:
            if r_role == role and LAYER_RULES[sel](layer, layers):
                t = typ
                break
    if cols % FORMATS[t].group:
        if t not in GGUF_FALLBACK:
            raise ConfigError("workload", "weights", f"{t}: block of {FORMATS[t].group} weights does not divide "
                              f"the row length {cols} of {role or 'a tensor'} (llama.cpp has no fallback for {t})")
        t = GGUF_FALLBACK[t]
        if cols % FORMATS[t].group:
            t = "fp16"
    return t
