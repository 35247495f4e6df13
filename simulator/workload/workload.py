"""A Workload: a model plus how it is stored and run (precision, KV cache policy, batch)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config_io import check_choice, check_int
from ..errors import ConfigError
from .model import ModelConfig

# weight formats: bits per weight, default group size (weights per scale) and bytes per group
# (scale, plus zero point where the format has one).
WEIGHT_FORMATS = {
    "fp32": (32, 0, 0),
    "bf16": (16, 0, 0),
    "fp16": (16, 0, 0),
    "int8": (8, 0, 2),        # per output channel fp16 scale (group = one row)
    "int4": (4, 128, 4),      # group-wise fp16 scale + fp16 zero point (GPTQ/AWQ style)
    "nf4": (4, 64, 4),        # bitsandbytes NF4: fp32 absmax per block of 64
}
KV_FORMATS = {"fp32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "int4": 4}


@dataclass(frozen=True)
class Workload:
    model: ModelConfig
    weights: str = "bf16"
    group_size: int = 0           # 0: the format's default
    kv: str = "bf16"
    kv_window: int = 0            # 0: full cache; W: keep the last W tokens (sliding window / queue)
    batch: int = 1

    def __post_init__(self):
        src = "workload"
        check_choice(src, "weights", self.weights, list(WEIGHT_FORMATS))
        check_choice(src, "kv", self.kv, list(KV_FORMATS))
        check_int(src, "batch", self.batch, 1, 65536)
        check_int(src, "kv_window", self.kv_window, 0, 1 << 24)
        check_int(src, "group_size", self.group_size, 0, 1 << 20)
        if self.group_size and not WEIGHT_FORMATS[self.weights][2]:
            grouped = [k for k, v in WEIGHT_FORMATS.items() if v[2]]
            raise ConfigError(src, "group_size", f"{self.weights} weights have no quantisation groups; "
                              f"group_size applies to {', '.join(grouped)} (0 = the format's default)")

    # ---- sizes ---------------------------------------------------------------
    @property
    def act_bytes(self) -> int:
        """Activations are fp32 when weights are fp32, else 16-bit."""
        return 4 if self.weights == "fp32" else 2

    @property
    def kv_bits(self) -> int:
        return KV_FORMATS[self.kv]

    def matrix_bytes(self, rows: int, cols: int) -> int:
        """Bytes of a rows x cols weight matrix in this workload's weight format."""
        bits, group, group_bytes = WEIGHT_FORMATS[self.weights]
        n = rows * cols
        data = n * bits // 8
        if not group_bytes:
            return data
        g = self.group_size or group or cols
        if cols % g and self.weights != "int8":
            raise ConfigError("workload", "group_size", f"{g} does not divide the row length {cols}")
        return data + (n // g) * group_bytes

    def kv_bytes_per_token(self) -> int:
        """K and V of one token, all layers, one sequence."""
        m = self.model
        return 2 * m.layers * m.kv_heads * m.head_dim * self.kv_bits // 8

    def context_kept(self, context: int) -> int:
        """Tokens attended to when the new token is at position ``context``."""
        n = context + 1
        return min(n, self.kv_window) if self.kv_window else n
