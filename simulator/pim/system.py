"""One decode token on a PIM-GPT style system, as SimPy processes of the engine's kind: one
process per PIM channel (GEMVs and attention as all-bank command streams in the DRAM core,
memoised by shape; KV appends as ordinary writes) and one for the ASIC (non-linear ops and
the partial sums of tiled GEMVs, simulator/pim/asic.py).

Decode is a dependency chain (each op consumes the previous op's output). ``schedule``:

* ``serial`` (PIM-GPT's simulator, Wu, Wang, Lu, arXiv 2310.09385: an instruction issues when
  the ASIC and the PIM are both idle): every op starts when the one before it has finished.
* ``overlap``: an op starts once its producer's first global-buffer chunk of output is ready
  (and its own unit is free) and cannot end before the producer's last chunk has arrived plus
  the work on that chunk (``tail``): the ASIC works on finished chunks while the banks stream
  the next rows, the next GEMV's first input chunk goes out as soon as it is computed, and
  the ASIC adds a tiled GEMV's partial sums as they are read out. Inside a GEMV the GB writes
  and result reads are issued in the gaps of the bank timing (simulator/pim/lowering.py). A
  GEMV's first GB chunk is written burst by burst as the ASIC produces it (``_stream_to_gb``),
  and with ``asic.chaining`` an ASIC op consuming the previous ASIC op's output streams behind
  it one lane vector at a time (``_chain``).

The breakdown partitions the latency: time when the banks stream (``pim_gemv``,
``attention``), when a stream waits for its GB writes and result reads (``data_movement``),
when only the ASIC works (``asic``, including a PIM op waiting for the ASIC's output), and
when nothing works (``idle``; zero in the serial schedule). ``result_dict`` gives the JSON-ready summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import simpy

from ..engine.timeline import COLUMNS, TimelineRow
from ..workload import Workload, generate_trace
from .asic import asic_cycles
from .config import PimConfig
from .arch import architecture

BUCKETS = ("pim_gemv", "attention", "asic", "data_movement", "idle")


@dataclass
class PimStep:
    latency_ns: float
    breakdown_ns: dict               # BUCKETS -> ns, summing to latency_ns
    energy_pj: dict                  # dram, mac, asic, background
    row_hit_rate: float
    timeline: pd.DataFrame = None    # engine columns (simulator/engine/sim.py COLUMNS); one row per op and unit
    offchip_bytes: int = 0           # bytes over the channels' data buses (GB writes, result reads, KV writes)
    stream_bytes: int = 0            # bytes a processor would read for the same token (weights + KV cache)
    schedule: str = "serial"
    dataflow: str = ""

    @property
    def latency_ms(self) -> float:
        return self.latency_ns / 1e6

    @property
    def energy_mj(self) -> float:
        return sum(self.energy_pj.values()) / 1e9


def result_dict(step: PimStep) -> dict:
    """JSON-ready summary of one PIM token: latency_ms, energy_mj, row_hit_rate, breakdown_ns
    (pim_gemv, attention, asic, data_movement, idle; sums to the latency), schedule, dataflow,
    offchip_bytes and the data-movement reduction against streaming the weights and KV cache."""
    return {"latency_ms": step.latency_ms, "energy_mj": step.energy_mj, "row_hit_rate": step.row_hit_rate,
            "breakdown_ns": {k: float(step.breakdown_ns[k]) for k in BUCKETS},
            "schedule": step.schedule, "dataflow": step.dataflow,
            "offchip_bytes": int(step.offchip_bytes), "stream_bytes": int(step.stream_bytes),
            "data_movement_reduction": step.stream_bytes / max(step.offchip_bytes, 1)}


@dataclass
class _Op:
    name: str
    kind: str
    layer: int
    unit: str                 # "pim" or "asic"
    bucket: str
    dur: float                # ns with its input all present
    first: float              # ns from start to its first GB chunk of output
    tail: float               # ns from its input's last chunk to its end
    bank_frac: float = 1.0    # share of a PIM op's time the banks stream (rest: data movement)
    start_after: float = -1   # >= 0: may start this long after its producer starts (partial sums)
    first_vec: float = -1     # ``first``/``tail`` at the granularity of one lane vector (ASIC -> ASIC chaining)
    tail_vec: float = -1
    chained: bool = False     # streams behind the ASIC op before it (asic.chaining, overlap schedule)
    gb_first_ns: float = 0.0  # a PIM op's write of its first global-buffer chunk (its input's first chunk)
    bytes: int = 0
    flops: float = 0.0
    ev: dict = field(default_factory=dict)


def _asic_op(pim, name, kind, layer, fn, rows, row_elems, chunk_elems, flops):
    lanes, stage = pim.asic["lanes"], pim.asic["stage_cycles"]
    c = asic_cycles(kind, fn, rows, row_elems, lanes, chunk_elems, stage)
    v = asic_cycles(kind, fn, rows, row_elems, lanes, lanes, stage)       # one lane vector at a time
    ns = 1e3 / pim.asic["clock_mhz"]
    return _Op(name, kind, layer, "asic", "asic", c.total * ns, c.first * ns, c.tail * ns, flops=flops,
               first_vec=v.first * ns, tail_vec=v.tail * ns)


def _stream_to_gb(ops: list):
    """Overlap schedule: a GEMV's first global-buffer chunk is written burst by burst as the ASIC
    op before it produces the elements (a WRGB needs one 32-byte burst, not the whole chunk), so
    the GEMV may start up to min(the ASIC's time for one chunk, the chunk's WRGB time) before the
    ASIC has the whole chunk: the write is paced by whichever of the two is slower."""
    for a, b in zip(ops, ops[1:]):
        if a.unit == "asic" and b.unit == "pim" and b.gb_first_ns > 0:
            chunk_ns = a.first - a.first_vec                 # the ASIC's chunk minus its first lane vector
            a.first = max(a.first_vec, a.first - min(chunk_ns, b.gb_first_ns))


def _chain(ops: list):
    """asic.chaining (overlap schedule): an ASIC op that consumes the output of the ASIC op
    before it takes that op's elements one lane vector at a time as they leave the pipeline
    (vector chaining, Russell, "The CRAY-1 computer system", CACM 21(1), 1978), instead of after
    the whole op: it starts with the producer's first vector and ends no earlier than its own
    remaining passes plus its depth after the producer's last vector (``tail_vec``). Each op
    kind is taken to have its own functional units (an assumption: chained ops run at once)."""
    for a, b in zip(ops, ops[1:]):
        if a.unit == "asic" and b.unit == "asic":
            b.tail, b.chained = b.tail_vec, True


def _lower(pim: PimConfig, workload: Workload, tr, memo: bool):
    """The token's ops for the units, and the DRAM command counts (all channels)."""
    std, m = pim.std, workload.model
    C = std.channels
    heads_per_ch = -(-m.heads // C)
    burst_ns = std.timing["nBL"] * std.tck_ns
    counts = {"acts": 0, "macs": 0, "gb_writes": 0, "result_reads": 0, "refreshes": 0, "writes": 0}
    ops = []
    first_out = -(-pim.gb_elems // C)          # outputs per channel making up the consumer's first chunk

    def gb_write_ns(k):
        """WRGB bursts of the first global-buffer chunk of a length-k input."""
        return -(-min(k, pim.gb_elems) * 2 // std.tx_bytes) * burst_ns

    def count(cost, times):
        for k in ("acts", "macs", "gb_writes", "result_reads", "refreshes"):
            counts[k] += getattr(cost, k) * times * C

    def add_psum(op, cost, times):
        """The ASIC adds a tiled GEMV's partial sums; the last chunk's arrive a read-out block
        (banks x latches per channel) at a time."""
        if cost.partial_sums:
            total = cost.partial_sums * C * times
            a = _asic_op(pim, op.name + ".psum", "psum", op.layer, "", 1, total, pim.banks * pim.result_latches * C,
                         total)
            a.start_after = cost.first_read_ns
            ops.append(a)

    gemv_cost = architecture(pim.architecture).gemv_cost
    for op in tr.ops:
        if op.kind in ("gemv", "gemm", "lm_head"):
            n, k = op.shape["n"], op.shape["k"]
            cost = gemv_cost(pim, n, k, memo)
            count(cost, 1)
            ops.append(_Op(op.name, op.kind, op.layer, "pim", "pim_gemv", cost.ns, cost.outputs_ready_ns(first_out),
                           cost.ns - cost.last_chunk_ns, cost.bank_ns / cost.ns, bytes=op.bytes, flops=op.flops,
                           gb_first_ns=gb_write_ns(k)))
            add_psum(op, cost, 1)
        elif op.kind in ("attn_score", "attn_context"):   # per head: K (L x hd) q, or V^T (hd x L) p
            L, hd = op.shape["context"], op.shape["head_dim"]
            n, k = (L, hd) if op.kind == "attn_score" else (hd, L)
            cost = gemv_cost(pim, n * C, k, memo)
            count(cost, heads_per_ch)
            dur = cost.ns * heads_per_ch
            # heads run one after another: the first head's output is ready after one head, and
            # the last head's input (q, or its softmax row) needs one head's GEMV after it arrives
            ops.append(_Op(op.name, op.kind, op.layer, "pim", "attention", dur, cost.ns, cost.ns, cost.bank_ns / cost.ns,
                           bytes=op.bytes, flops=op.flops, gb_first_ns=gb_write_ns(k)))
            add_psum(op, cost, heads_per_ch)
        elif op.kind == "kv_append":                       # ordinary writes spread over the channels' buses
            bursts = -(-op.kv_write_bytes // (std.tx_bytes * C))
            counts["writes"] += bursts * C
            t = bursts * burst_ns + std.timing["nCWL"] * std.tck_ns
            ops.append(_Op(op.name, op.kind, op.layer, "pim", "attention", t, t, t, bytes=op.kv_write_bytes))
        else:
            elements = max(op.act_write_bytes // workload.act_bytes, 1)
            rows = op.shape.get("heads", 1) if op.kind == "softmax" else 1
            ops.append(_asic_op(pim, op.name, op.kind, op.layer, op.shape.get("fn", ""), rows, -(-elements // rows),
                                pim.gb_elems, op.flops))
    return ops, counts


def _run(pim: PimConfig, ops: list):
    """The ops as SimPy processes: one per PIM channel, one for the ASIC. Returns timeline rows."""
    env = simpy.Environment()
    C = pim.std.channels
    serial = pim.schedule == "serial"
    rows = []
    for o in ops:
        o.ev = {"start": env.event(), "first": env.event(), "done": env.event()}
    done0 = env.event().succeed()

    def after(ev, d):
        yield ev
        yield env.timeout(max(d, 0.0))

    def run_op(o, pred, unit_name, signal):
        if pred is None:
            pass
        elif serial:
            yield pred.ev["done"]
        elif o.start_after >= 0:
            yield env.process(after(pred.ev["start"], o.start_after))
        elif o.chained:                 # from the producer's first lane vector out of its pipeline
            yield env.process(after(pred.ev["start"], pred.first_vec))
        else:
            yield pred.ev["first"]
        start = env.now
        if signal and not o.ev["start"].triggered:
            o.ev["start"].succeed()
        p_done = pred.ev["done"] if pred is not None else done0
        if signal:
            if serial:
                first = env.all_of([env.timeout(o.dur), p_done])
            else:
                first = env.all_of([env.timeout(o.first), env.process(after(p_done, o.tail - (o.dur - o.first)))])
            first.callbacks.append(lambda _e, o=o: o.ev["first"].succeed())
        yield env.all_of([env.timeout(o.dur), env.process(after(p_done, o.tail))])
        rows.append(TimelineRow(op=o.name, kind=o.kind, layer=o.layer, device=unit_name, start_ns=start,
                                end_ns=env.now, bytes=o.bytes, flops=o.flops, bound=o.bucket, kernels=1))

    def finish(o, pred, unit_name, signal, done_list):
        yield env.process(run_op(o, pred, unit_name, signal))
        done_list[id(o)].append(env.now)
        if len(done_list[id(o)]) == (C if o.unit == "pim" else 1):
            o.ev["done"].succeed()

    def unit(mine, unit_name, signal, done_list):
        for i, (o, pred) in enumerate(mine):
            p = env.process(finish(o, pred, unit_name, signal, done_list))
            nxt = mine[i + 1] if i + 1 < len(mine) else None
            if nxt is None or not (nxt[0].chained and nxt[1] is o):
                yield p                 # a chained successor starts while this op still runs

    chain = list(zip(ops, [None] + ops[:-1]))
    done_list = {id(o): [] for o in ops}
    env.process(unit([x for x in chain if x[0].unit == "asic"], "ASIC", True, done_list))
    for ch in range(C):
        env.process(unit([x for x in chain if x[0].unit == "pim"], f"PIM ch{ch}", ch == 0, done_list))
    env.run()
    return pd.DataFrame(rows, columns=COLUMNS), env.now


def _breakdown(ops, tl, latency):
    """Partition [0, latency]. A PIM op's span can exceed its own time ``dur`` when it waits for
    its input (overlap); its banks are taken to work in the last ``dur`` of the span (split by
    the op's bank share into its bucket and data movement). ASIC time outside those intervals is
    ``asic``; time when neither works is ``idle``."""
    bd = dict.fromkeys(BUCKETS, 0.0)
    info = {o.name: o for o in ops}
    pim = tl[tl.device == "PIM ch0"].sort_values("end_ns")
    busy = []
    for r in pim.itertuples():
        o = info[r.op]
        d = min(o.dur, r.end_ns - r.start_ns)
        bd[r.bound] += d * o.bank_frac
        bd["data_movement"] += d * (1 - o.bank_frac)
        busy.append((r.end_ns - d, r.end_ns))
    asic = tl[tl.device == "ASIC"].sort_values("start_ns")
    spans = []                                          # union of the ASIC ops (chained ones overlap)
    for s, e in zip(asic.start_ns, asic.end_ns):
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    j = 0
    for s, e in spans:                                  # ASIC time not under a PIM op's work
        alone = e - s
        while j < len(busy) and busy[j][1] <= s:
            j += 1
        k = j
        while k < len(busy) and busy[k][0] < e:
            alone -= max(min(e, busy[k][1]) - max(s, busy[k][0]), 0.0)
            k += 1
        bd["asic"] += alone
    bd["idle"] = max(latency - sum(bd.values()), 0.0)
    return bd


def simulate_token(pim: PimConfig, workload: Workload, context: int, memo: bool = True) -> PimStep:
    """One decode token at ``context`` tokens of KV cache. Latency in ns, energy in pJ."""
    tr = generate_trace(workload, context)
    std = pim.std
    ops, counts = _lower(pim, workload, tr, memo)
    if pim.schedule == "overlap":
        _stream_to_gb(ops)
        if pim.asic["chaining"]:
            _chain(ops)
    tl, latency = _run(pim, ops)
    bd = _breakdown(ops, tl, latency)
    asic_ops = sum(o.flops for o in ops if o.unit == "asic")
    energy = architecture(pim.architecture).energy_pj(pim, counts, latency, asic_ops)
    io_bytes = (counts["gb_writes"] + counts["writes"] + counts["result_reads"]) * std.tx_bytes
    hit = (counts["macs"] - counts["acts"]) / counts["macs"] if counts["macs"] else 0.0
    totals = tr.totals()
    return PimStep(latency, bd, energy, hit, tl, offchip_bytes=io_bytes,
                   stream_bytes=int(totals["weight_bytes"] + totals["kv_read_bytes"] + totals["kv_write_bytes"]),
                   schedule=pim.schedule, dataflow=pim.dataflow)
