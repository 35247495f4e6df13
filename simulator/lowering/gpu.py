"""Lowering for processors (GPU, edge SoC, CPU): trace ops -> kernels.

Per kernel: device time = max(bytes / achievable bandwidth, flops / achievable compute,
dequantization instructions / SIMT rate) plus a fixed GPU-side time per launch (``gpu_min_kernel_us``:
the gap between dependent kernels, grid ramp-up and tail, which a kernel's own streaming does not
hide; "CUDA graphs also optimises GPU-side launch overheads, to reduce the 'gaps' between kernels",
A. Gray, NVIDIA, ggml-org/llama.cpp PR #6766) for each kernel the runtime launches for the op (e.g.
an eager RMSNorm is 8 kernels): the latency + size / bandwidth form of a transfer.
Achievable bandwidth = device peak x DRAM-core efficiency for streaming reads on its memory
configuration (capped by the device's measured ``memory.sustained_gbps`` where given) x the
calibrated memory efficiency (the memory class's own, e.g. HBM, where one is fitted). On-the-fly dequantization of weight-only quantized matrices runs on the SIMT
(CUDA-core) pipes, not the tensor cores: its instructions are timed at the device's FP32 lane
rate (fp32_tflops / 2 instructions per second). Host time = dispatch cost per kernel in modes
that dispatch from the host.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..devices.config import Device, Runtime
from ..dram.standard import load_standard
from ..errors import ConfigError
from ..workload.formats import resolve
from ..workload.trace import DecodeTrace
from .membw import dram_efficiency

MATRIX_KINDS = ("gemv", "gemm")


@dataclass
class Kernel:
    op: str
    kind: str
    layer: int
    kernels: int          # launches this entry stands for
    bytes: int
    flops: float
    simt_ops: float       # dequantization instructions (SIMT pipes)
    host_ns: float        # host-side dispatch time
    device_ns: float      # time on the device (overhead_ns included)
    bound: str            # memory | compute: what bounds the work part
    overhead_ns: float = 0.0   # fixed GPU-side time of its launches (kernels x gpu_min_kernel_us)


@lru_cache(maxsize=None)
def memory_class(standard: str) -> str:
    """A DRAM standard's family without its generation: HBM2/HBM3 -> hbm, GDDR6 -> gddr."""
    return load_standard(standard).family.split("-")[0].rstrip("0123456789E").lower()


def memory_efficiency_key(dev: Device, rt: Runtime) -> str:
    """The calibrated efficiency that applies: the memory class's own (``memory_efficiency_hbm``)
    where one is fitted, else the runtime's general ``memory_efficiency``."""
    key = f"memory_efficiency_{memory_class(dev.memory['standard'])}"
    return key if key in rt.calibration else "memory_efficiency"


def stream_bandwidth_gbps(dev: Device) -> float:
    """Streaming-read bandwidth (GB/s) of ``dev`` before any runtime's kernels: datasheet peak x the
    DRAM core's stream efficiency for the memory configuration, capped by the device's measured
    ``memory.sustained_gbps`` where one is given (e.g. an Apple GPU, whose path to the shared memory
    sustains less than the DRAM delivers)."""
    bw = dev.memory["peak_gbps"] * dram_efficiency(dev.memory["standard"], int(dev.memory["channels"]), "stream")
    cap = dev.memory.get("sustained_gbps")
    return min(bw, float(cap)) if cap else bw


def achievable_bandwidth_gbps(dev: Device, rt: Runtime) -> float:
    """Streaming bandwidth (GB/s) a runtime's kernels reach on ``dev``: :func:`stream_bandwidth_gbps` x
    the runtime's calibrated memory efficiency (its memory class's own where fitted)."""
    return stream_bandwidth_gbps(dev) * rt.param(memory_efficiency_key(dev, rt))


def kernel_count(kernels_per_op: dict, op) -> int:
    """Launches of one op: the ``kind:fn`` entry where the runtime has one for the op's function
    (e.g. ``activation:gelu``), else the ``kind`` entry."""
    return kernels_per_op.get(f"{op.kind}:{op.shape.get('fn')}", kernels_per_op[op.kind])


def dequant_ops(rt: Runtime, dtype: str) -> float:
    """Instructions per weight to dequantize ``dtype`` on the fly: the runtime's entry for the
    format, else for the format's family (``gguf_k``, ``int4``, ...), else 0."""
    d = rt.dequant_ops_per_weight
    if dtype in d:
        return d[dtype]
    try:
        family = resolve(dtype).family
    except ConfigError:
        return 0
    key = f"dequant_ops_{family}"          # a fitted value (calibration.yaml) overrides the table
    return rt.param(key) if key in rt.calibration else d.get(family, 0)


def op_bytes(rt: Runtime, op) -> int:
    """Bytes an op moves under this runtime. A runtime that does not share K/V between the
    query heads of a GQA group (``gqa_shared_kv: false``, e.g. llama.cpp's broadcast mul_mat
    without flash attention) reads the KV cache once per query head: heads / kv_heads times."""
    if rt.gqa_shared_kv or op.kind not in ("attn_score", "attn_context") or not op.kv_read_bytes:
        return op.bytes
    return op.bytes + op.kv_read_bytes * (op.shape["heads"] // op.shape["kv_heads"] - 1)


def lower(trace: DecodeTrace, dev: Device, rt: Runtime, mode: str) -> list:
    m = rt.mode(mode)
    weights = trace.header.get("weights", "bf16")
    bw = achievable_bandwidth_gbps(dev, rt)                          # bytes per ns
    flops_per_ns = dev.peak_flops(rt.math_format(dev, weights)) * rt.compute_efficiency / 1e9
    t_min = rt.calibration.get("gpu_min_kernel_us", {"value": 0.0})["value"] * 1e3
    t_host = rt.param("host_dispatch_us") * 1e3 * rt.host_scale(dev) if m["host_dispatch"] else 0.0
    simt_per_ns = dev.compute["fp32_tflops"] * 1e12 / 2 / 1e9       # FP32 lane instructions per ns
    rates = (bw, flops_per_ns, simt_per_ns, t_min)
    out = []
    for op in trace.ops:
        k = kernel_count(m["kernels_per_op"], op)
        flops = float(op.flops)
        simt = 0.0
        if op.kind in MATRIX_KINDS or op.kind == "lm_head":
            simt = dequant_ops(rt, op.dtype) * op.shape["n"] * op.shape["k"] * op.shape.get("experts_read", 1)
        if k == 0 and out:                     # fused into the previous kernel (e.g. SDPA)
            prev = out[-1]
            prev.bytes += op_bytes(rt, op)
            prev.flops += flops
            prev.simt_ops += simt
            _time(prev, *rates)
            continue
        kern = Kernel(op.name, op.kind, op.layer, max(k, 1), op_bytes(rt, op), flops, simt, max(k, 1) * t_host, 0.0, "")
        _time(kern, *rates)
        out.append(kern)
    return out


def _time(kern: Kernel, bw, flops_per_ns, simt_per_ns, t_min):
    """Work time (bytes at ``bw``, or math, whichever is longer) plus ``t_min`` per launch."""
    t_mem = kern.bytes / bw
    t_cmp = max(kern.flops / flops_per_ns, kern.simt_ops / simt_per_ns)
    kern.overhead_ns = kern.kernels * t_min
    kern.device_ns = max(t_mem, t_cmp) + kern.overhead_ns
    kern.bound = "memory" if t_mem >= t_cmp else "compute"
