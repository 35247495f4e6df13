"""Achievable memory bandwidth from the command-level DRAM core.

The fraction of peak a device's memory reaches for an access pattern comes from
running the DRAM core on the device's memory configuration (standard x channels)
with a representative request stream; results are memoised in memory and on disk
(``.cache/membw.json``) under :func:`simulator.keys.inputs_key` of the request, the
standard's fingerprint (every resolved timing value and the core's version) and the project
version, so an edited DRAM table is re-simulated, never served stale.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..dram.run import ControllerConfig, run_trace
from ..dram.standard import load_standard

PATTERNS = ("stream", "gather")
_CACHE = Path(os.environ.get("DECODESIM_CACHE", Path(__file__).resolve().parents[2] / ".cache")) / "membw.json"
REQUESTS_PER_CHANNEL = 2048
# device memory controllers interleave consecutive lines across channels, pseudo-channels,
# bank groups and banks before columns; that is this mapping (MSB first)
DEVICE_MAPPING = "RoCoBaRaCh"


def _disk():
    try:
        return json.loads(_CACHE.read_text())
    except (OSError, ValueError):
        return {}


def dram_efficiency(standard: str, channels: int, pattern: str = "stream") -> float:
    """Achieved / peak bandwidth of ``channels`` channels of ``standard`` (a preset name or a
    YAML path) for reads.

    ``stream``: consecutive addresses (weight matrices read row after row);
    ``gather``: 256-byte chunks at random places (KV-cache rows of many heads)."""
    from ..keys import inputs_key
    std = load_standard(standard)
    key = inputs_key([str(standard), std.fingerprint(), channels, pattern, REQUESTS_PER_CHANNEL, DEVICE_MAPPING])
    return _efficiency(key, str(standard), channels, pattern)


@lru_cache(maxsize=None)
def _efficiency(key: str, standard: str, channels: int, pattern: str) -> float:
    disk = _disk()
    if key in disk:
        return disk[key]
    std = load_standard(standard).with_channels(channels)
    n = REQUESTS_PER_CHANNEL * channels
    if pattern == "stream":
        addrs = np.arange(n, dtype=np.uint64) * np.uint64(std.tx_bytes)
    else:
        per = max(1, 256 // std.tx_bytes)
        lines = std.channels * std.banks_per_channel * std.rows * std.column_bursts
        base = np.random.default_rng(0).integers(0, lines // per, n // per) * per
        addrs = ((base[:, None] + np.arange(per)[None, :]).ravel() * std.tx_bytes).astype(np.uint64)
    ctrl = ControllerConfig(requests_per_cycle=channels * std.data_buses_per_channel)
    from tqdm import tqdm
    with tqdm(total=1, desc=f"cold start: {std.name} x{channels} {pattern} bandwidth (cached after)", unit="run",
              disable=None, leave=False) as bar:       # shown on a terminal only
        res = run_trace(std, addrs, np.zeros(len(addrs), bool), mapping=DEVICE_MAPPING, controller=ctrl)
        bar.update(1)
    eff = min(1.0, res.achieved_gbps / std.peak_gbps)
    disk[key] = eff
    try:
        _CACHE.parent.mkdir(parents=True, exist_ok=True)
        _CACHE.write_text(json.dumps(disk, indent=1, sort_keys=True))
    except OSError:
        pass
    return eff
