"""The network link between the edge device and the server, and what crosses it.

A link is data (``hw_configs/links/*.yaml``: uplink/downlink goodput in Mbit/s, round-trip
time in ms, a source). One transfer of ``b`` bytes one way takes ``rtt/2 + 8 b / rate``.

Payloads (Sung et al., arXiv 2511.04002, one-point split with activation compression):

* decode step, uplink: the hidden state of one token, ``hidden`` elements. A fraction
  ``outlier_frac`` of them (rounded up) is kept at 16 bit together with its index
  (``ceil(log2(hidden))`` bits, COO); the rest at ``act_bits``; below 16 bit one fp16 scale
  per token is added.
* decode step, downlink: the sampled token id (int32, 4 bytes).
* prefill: the prompt's hidden states once (``prompt`` tokens, same encoding); with the split
  at layer 0 the prompt's token ids (4 bytes each) go up instead.
* optional staging copy: integrated-GPU Jetsons have no direct GPU-to-NIC path (arXiv
  2605.25682), so each payload is copied through host memory: ``staging_us`` fixed cost plus a
  read and a write of the payload at the edge device's peak memory bandwidth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..config_io import check_float, find_config, load_yaml
from ..errors import ConfigError

LINK_DIR = Path(__file__).resolve().parents[2] / "hw_configs" / "links"
TOKEN_ID_BYTES = 4          # int32 token id


@dataclass(frozen=True)
class Link:
    name: str
    uplink_mbps: float
    downlink_mbps: float
    rtt_ms: float
    source: str = ""

    def transfer_ns(self, nbytes: int, up: bool) -> float:
        """One-way time of ``nbytes``: half the round trip plus serialisation at the goodput."""
        rate = self.uplink_mbps if up else self.downlink_mbps        # Mbit/s = bits per us
        return self.rtt_ms * 1e6 / 2 + nbytes * 8 / rate * 1e3


def list_links() -> list:
    return sorted(p.stem for p in LINK_DIR.glob("*.yaml"))


def load_link(name_or_path) -> Link:
    p = find_config(name_or_path, LINK_DIR, "--link", "link")
    d = load_yaml(p)
    src = str(p)
    from ..schema import check_config
    check_config("link", d, src)
    return Link(name=str(d["name"]), source=str(d["source"]),
                uplink_mbps=check_float(src, "uplink_mbps", d["uplink_mbps"], 1e-3, 1e6),
                downlink_mbps=check_float(src, "downlink_mbps", d["downlink_mbps"], 1e-3, 1e6),
                rtt_ms=check_float(src, "rtt_ms", d["rtt_ms"], 0.0, 1e5))


def make_link(preset=None, mbps=None, rtt_ms=None, down_mbps=None) -> Link:
    """A preset, optionally overridden: ``mbps`` sets both directions (``down_mbps`` the
    downlink alone), ``rtt_ms`` the round trip. Without a preset, ``mbps`` and ``rtt_ms`` are
    both required."""
    if preset is None:
        if mbps is None or rtt_ms is None:
            raise ConfigError("--link", "", "give a preset (--link NAME, one of "
                              f"{', '.join(list_links())}) or both --link-mbps and --rtt-ms")
        base = Link("custom link", float(mbps), float(mbps), float(rtt_ms), "given on the command line")
    else:
        base = load_link(preset)
    up = base.uplink_mbps if mbps is None else check_float("--link-mbps", "", mbps, 1e-3, 1e6)
    down = base.downlink_mbps if mbps is None else up
    if down_mbps is not None:
        down = check_float("--down-mbps", "", down_mbps, 1e-3, 1e6)
    rtt = base.rtt_ms if rtt_ms is None else check_float("--rtt-ms", "", rtt_ms, 0.0, 1e5)
    overridden = preset is not None and (mbps, rtt_ms, down_mbps) != (None, None, None)
    name = f"{base.name}, overridden" if overridden else base.name
    return Link(name, up, down, rtt, base.source)


def hidden_state_bytes(hidden: int, act_bits: int, outlier_frac: float = 0.0) -> int:
    """Bytes of one token's hidden state on the wire (see the module docstring)."""
    if act_bits not in (2, 3, 4, 5, 6, 8, 16):
        raise ConfigError("split", "act_bits", f"{act_bits} not one of 2, 3, 4, 5, 6, 8, 16")
    if not 0.0 <= outlier_frac <= 1.0:
        raise ConfigError("split", "outlier_frac", f"{outlier_frac} out of range; allowed [0, 1]")
    if act_bits == 16:
        return hidden * 2
    n_out = math.ceil(outlier_frac * hidden)
    idx_bits = max(1, math.ceil(math.log2(hidden)))
    bits = (hidden - n_out) * act_bits + n_out * (16 + idx_bits) + 16      # + one fp16 scale
    return math.ceil(bits / 8)


def staging_ns(nbytes: int, edge_peak_gbps: float, staging_us: float) -> float:
    """Copy of a payload through host memory on the edge device: fixed cost plus one read and
    one write at the device's peak bandwidth (GB/s = bytes per ns)."""
    return staging_us * 1e3 + 2 * nbytes / edge_peak_gbps
