"""DRAM energy from command counts and IDD currents (DRAMPower-style).

Per rank (or pseudo-channel) with ``devices_per_rank`` devices at VDD:

* ACT+PRE pair: ``VDD * (IDD0*tRC - IDD3N*tRAS - IDD2N*(tRC - tRAS))``
* read / write burst: ``VDD * (IDD4R|IDD4W - IDD3N) * tBurst``
* refresh: ``VDD * (IDD5B - IDD3N) * tRFC`` (REFpb: over tRFCpb, divided by the banks
  of the rank and times the banks it refreshes, two for a bank pair: an estimate, IDD5PB is not in the
  presets)
* background: ``VDD * (IDD3N * t_any_bank_open + IDD2N * t_all_closed)``
* I/O: ``io_pj_per_bit`` per data bit moved (RD/WR bursts on the bus; requests served
  from the controller's queue move none)

Currents in mA, times in ns -> energies in pJ (mA * ns * V = pJ).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .state import F_ALL_BANKS, F_BANK_PAIR, F_DATA, F_OPENS, F_PIM, F_READ, F_REFRESH, F_WRITE

_NEEDED = ("vdd_v", "idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma", "idd5b_ma")


@dataclass
class DramEnergy:
    activate_pj: float
    read_pj: float
    write_pj: float
    refresh_pj: float
    background_pj: float
    io_pj: float

    @property
    def total_pj(self) -> float:
        return (self.activate_pj + self.read_pj + self.write_pj + self.refresh_pj
                + self.background_pj + self.io_pj)

    def as_dict(self):
        d = asdict(self)
        d["total_pj"] = self.total_pj
        return d


def _timing(std, *names):
    for n in names:
        if n in std.timing:
            return std.timing[n]
    raise KeyError(f"{std.source_file}: energy model needs one of timings {names}")


def per_command_energy_pj(std) -> dict:
    """Energy of one ACT(+PRE), one read burst, one write burst, one refresh,
    for all devices of one rank, in pJ."""
    e = std.energy
    missing = [k for k in _NEEDED if k not in e]
    if missing:
        raise KeyError(f"{std.source_file}: energy section lacks {', '.join(missing)}")
    tck = std.tck_ns
    dev = std.devices_per_rank
    v = e["vdd_v"]
    t_rc = _timing(std, "nRC") * tck
    t_ras = _timing(std, "nRAS") * tck
    t_burst = _timing(std, "nBL", "nBL_min") * tck
    t_rfc = _timing(std, "nRFC", "nRFCab") * tck
    # REFpb: the all-bank refresh current over tRFCpb for one bank's share of the rank
    # (an estimate: IDD5PB is not in the presets)
    banks = int(std.level_sizes[-1] * (std.level_sizes[-2] if std.level_names[-2] == "bankgroup" else 1))
    t_rfcpb = std.timing.get("nRFCpb", 0) * tck
    act = v * (e["idd0_ma"] * t_rc - e["idd3n_ma"] * t_ras - e["idd2n_ma"] * (t_rc - t_ras))
    return {
        "activate": max(act, 0.0) * dev,
        "read": v * (e["idd4r_ma"] - e["idd3n_ma"]) * t_burst * dev,
        "write": v * (e["idd4w_ma"] - e["idd3n_ma"]) * t_burst * dev,
        "refresh": v * (e["idd5b_ma"] - e["idd3n_ma"]) * t_rfc * dev,
        "refresh_bank": v * (e["idd5b_ma"] - e["idd3n_ma"]) * t_rfcpb * dev / banks,
    }


def energy_of(res) -> DramEnergy:
    """Energy of a :class:`~simulator.dram.run.DramResult`."""
    std = res.standard
    per = per_command_energy_pj(std)
    flags = std.command_flags()

    def count(need, clear=0):
        """Commands issued whose flags include ``need`` and none of ``clear``."""
        return sum(res.command_counts.get(n, 0) for n, f in zip(std.commands, flags)
                   if f & need == need and not f & clear)
    acts = count(F_OPENS)                           # ACT, or a split activation's ACT2 (the row opens)
    reads = count(F_READ | F_DATA, F_PIM)           # RD and RDA bursts
    writes = count(F_WRITE | F_DATA, F_PIM)
    refs = count(F_REFRESH | F_ALL_BANKS)
    refs_pb = count(F_REFRESH, F_ALL_BANKS) + count(F_REFRESH | F_BANK_PAIR, F_ALL_BANKS)   # a pair: two banks
    e = std.energy
    tck = std.tck_ns
    n_units = res.open_cycles.size            # ranks or pseudo-channels, all channels
    total_ns = res.cycles * tck
    open_ns = float(res.open_cycles.sum()) * tck
    closed_ns = max(total_ns * n_units - open_ns, 0.0)
    bg = e["vdd_v"] * (e["idd3n_ma"] * open_ns + e["idd2n_ma"] * closed_ns) * std.devices_per_rank
    # all-bank refresh covers every rank/pseudo-channel under its scope node
    bits = res.transferred_bytes * 8            # the data-bus bursts (reads + writes) of DramResult
    return DramEnergy(
        activate_pj=acts * per["activate"], read_pj=reads * per["read"],
        write_pj=writes * per["write"], refresh_pj=refs * per["refresh"] + refs_pb * per["refresh_bank"],
        background_pj=bg, io_pj=bits * e.get("io_pj_per_bit", 0.0))
