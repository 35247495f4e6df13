"""Address mapping as a configurable bit-slice order.

A mapping name lists fields from the most to the least significant bits,
e.g. ``RoBaRaCoCh``: row | bank | rank | column | channel | (tx offset).
Fields: ``Ch`` channel, ``Ra`` rank or pseudo-channel, ``Ba`` bank group and
bank (bank group in the lower bits), ``Bg`` and ``Bk`` separately, ``Ro`` row,
``Co`` column (in bursts). The lowest log2(tx_bytes) bits are the offset
inside one burst and are dropped.

Fields are peeled off in mixed radix (value = a mod size; a = a div size), which
is bit slicing when sizes are powers of two and still uses every channel when the
channel count is not (80 HBM channels, 12 GDDR6 channels).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import ConfigError

MAPPINGS = ("RoBaRaCoCh", "RoCoBaRaCh", "ChRaBaRoCo", "RoRaBaChCo", "RoBaRaChCo")
_TOKENS = {"Ch": ["channel"], "Ra": ["rank"], "Ba": ["bank", "bankgroup"], "Bg": ["bankgroup"],
           "Bk": ["bank"], "Ro": ["row"], "Co": ["column"]}


def parse_mapping(name: str) -> list:
    """Field names from MSB to LSB; errors name the allowed tokens."""
    toks = re.findall(r"[A-Z][a-z]", name)
    if "".join(toks) != name or not toks:
        raise ConfigError("--mapping", name, f"not a mapping; use tokens {', '.join(_TOKENS)} "
                          f"(e.g. {', '.join(MAPPINGS)})")
    fields = []
    for t in toks:
        if t not in _TOKENS:
            raise ConfigError("--mapping", name, f"unknown token {t!r}; allowed {', '.join(_TOKENS)}")
        fields.extend(_TOKENS[t])
    need = {"channel", "rank", "bankgroup", "bank", "row", "column"}
    if sorted(fields) != sorted(need):
        raise ConfigError("--mapping", name, "must name each of Ch, Ra, Ba (or Bg and Bk), Ro, Co exactly once")
    return fields


def _field_widths(std) -> dict:
    """How many values each address field takes."""
    sizes = dict(zip(std.level_names, std.level_sizes))
    return {"channel": sizes["channel"], "rank": sizes.get("rank", sizes.get("pseudochannel", 1)),
            "bankgroup": sizes.get("bankgroup", 1), "bank": sizes["bank"],
            "row": std.rows, "column": std.column_bursts}


def map_addresses(addrs: np.ndarray, std, mapping: str = "RoBaRaCoCh", dtype=np.int64) -> np.ndarray:
    """Byte addresses (n,) -> address vectors (n, levels + 2) of ``dtype``: [channel, level1..,
    bank, row, column]. Filled one field at a time (no n x fields temporaries)."""
    fields = parse_mapping(mapping)
    width = _field_widths(std)
    names = [("rank" if n == "pseudochannel" else n) for n in std.level_names] + ["row", "column"]
    out = np.zeros((len(addrs), len(names)), dtype)
    a = np.asarray(addrs, dtype=np.uint64) // np.uint64(std.tx_bytes)
    for f in reversed(fields):              # LSB first
        w = np.uint64(width[f])
        if f in names:
            out[:, names.index(f)] = a % w
        a //= w
    return out


def compose_address(vec, std, mapping: str = "RoBaRaCoCh") -> int:
    """Inverse of :func:`map_addresses` for one vector (used by tests and generators)."""
    fields = parse_mapping(mapping)
    width = _field_widths(std)
    names = [("rank" if n == "pseudochannel" else n) for n in std.level_names] + ["row", "column"]
    val = {n: int(v) for n, v in zip(names, vec)}
    a = 0
    for f in fields:                        # MSB first
        a = a * int(width[f]) + val.get(f, 0)
    return a * std.tx_bytes
