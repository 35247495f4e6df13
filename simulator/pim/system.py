"""One decode token on a PIM-GPT style system: GEMVs and attention as all-bank command
streams in the DRAM core (memoised by shape), non-linear ops on the ASIC, KV appends as
ordinary writes. Decode is a dependency chain, so ops run one after another; the ASIC
works while no GEMV needs its result (it is on the critical path between GEMVs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..dram.energy import per_command_energy_pj
from ..workload import Workload, generate_trace
from .config import PimConfig
from .lowering import gemv_cost


@dataclass
class PimStep:
    latency_ns: float
    breakdown_ns: dict               # pim_gemv, attention, asic, data_movement
    energy_pj: dict                  # dram, mac, asic, background
    row_hit_rate: float
    ops: list = field(default_factory=list)   # (op name, kind, ns)

    @property
    def latency_ms(self) -> float:
        return self.latency_ns / 1e6

    @property
    def energy_mj(self) -> float:
        return sum(self.energy_pj.values()) / 1e9


def asic_ns(pim: PimConfig, kind: str, elements: int) -> float:
    a = pim.asic
    ops = a["ops_per_element"].get(kind, 1) * elements
    cycles = -(-ops // a["lanes"]) + a["pipeline_cycles"]
    return cycles * 1e3 / a["clock_mhz"]


def simulate_token(pim: PimConfig, workload: Workload, context: int, memo: bool = True) -> PimStep:
    tr = generate_trace(workload, context)
    std = pim.std
    m = workload.model
    bd = {"pim_gemv": 0.0, "attention": 0.0, "asic": 0.0, "data_movement": 0.0}
    counts = {"acts": 0, "macs": 0, "gb_writes": 0, "result_reads": 0, "refreshes": 0, "writes": 0}
    rows = []
    heads_per_ch = -(-m.heads // std.channels)
    burst_ns = std.timing["nBL"] * std.tck_ns

    def add_gemv(cost, times, bucket):
        t = cost.ns * times
        move = (cost.gb_writes + cost.result_reads) * burst_ns * times
        bd[bucket] += t - move
        bd["data_movement"] += move
        for k in ("acts", "macs", "gb_writes", "result_reads", "refreshes"):
            counts[k] += getattr(cost, k) * times * std.channels
        return t

    for op in tr.ops:
        if op.kind in ("gemv", "gemm", "lm_head"):
            t = add_gemv(gemv_cost(pim, op.shape["n"], op.shape["k"], memo), 1, "pim_gemv")
        elif op.kind == "attn_score":      # per head: keys (L x hd) x q
            L, hd = op.shape["context"], op.shape["head_dim"]
            t = add_gemv(gemv_cost(pim, L * std.channels, hd, memo), heads_per_ch, "attention")
        elif op.kind == "attn_context":    # per head: V^T (hd x L) x p
            L, hd = op.shape["context"], op.shape["head_dim"]
            t = add_gemv(gemv_cost(pim, hd * std.channels, L, memo), heads_per_ch, "attention")
        elif op.kind == "kv_append":       # ordinary writes spread over the channels' buses
            bursts = -(-op.kv_write_bytes // (std.tx_bytes * std.channels))
            t = bursts * burst_ns + std.timing["nCWL"] * std.tck_ns
            counts["writes"] += bursts * std.channels
            bd["attention"] += t
        else:
            elements = max(op.act_write_bytes // workload.act_bytes, 1)
            kind = op.kind if op.kind in pim.asic["ops_per_element"] else "residual"
            t = asic_ns(pim, kind, elements)
            bd["asic"] += t
        rows.append((op.name, op.kind, t))
    latency = sum(bd.values())
    # energy
    per = per_command_energy_pj(std)
    banks = pim.banks
    dram = (counts["acts"] * banks * per["activate"] + counts["macs"] * banks * per["read"]
            + (counts["gb_writes"] + counts["writes"]) * per["write"] + counts["result_reads"] * per["read"]
            + counts["refreshes"] * per["refresh"])
    io_bits = (counts["gb_writes"] + counts["writes"] + counts["result_reads"]) * std.tx_bytes * 8
    dram += io_bits * std.energy.get("io_pj_per_bit", 0.0)
    e = std.energy
    background = e["vdd_v"] * e["idd3n_ma"] * latency * std.devices_per_rank * std.channels
    mac = counts["macs"] * banks * pim.mac["lanes"] * pim.energy["mac_pj"]
    asic_ops = sum(o.flops for o in tr.ops if o.kind not in ("gemv", "gemm", "lm_head", "attn_score", "attn_context"))
    energy = {"dram": dram, "mac": mac, "asic": asic_ops * pim.energy["asic_pj_per_op"], "background": background}
    hit = (counts["macs"] - counts["acts"]) / counts["macs"] if counts["macs"] else 0.0
    return PimStep(latency, bd, energy, hit, rows)
