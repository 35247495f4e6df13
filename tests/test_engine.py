"""Devices, lowering and the SimPy engine: behaviour the published measurements show."""

import pytest

from simulator.devices import list_devices, load_device, load_runtime
from simulator.engine.sim import memory_floor_ms, predict, simulate_split
from simulator.errors import ConfigError
from simulator.lowering.membw import dram_efficiency

QWEN = ("qwen-2.5-7b", 2048)


def _frac(dev, mode="eager"):
    return memory_floor_ms(QWEN[0], dev, QWEN[1]) / predict(QWEN[0], dev, QWEN[1], mode=mode).latency_ms


def test_fraction_of_memory_floor_falls_as_bandwidth_rises():
    l4, a100, h100 = _frac("l4"), _frac("a100-80gb"), _frac("h100-sxm5")
    assert l4 > 0.6 and h100 < 0.4
    assert l4 > a100 > h100


def test_cuda_graphs_help_h100_far_more_than_l4():
    def speedup(dev):
        eager = predict(QWEN[0], dev, QWEN[1], mode="eager").latency_ms
        return eager / predict(QWEN[0], dev, QWEN[1], mode="cuda_graphs").latency_ms
    s_h100, s_l4 = speedup("h100-sxm5"), speedup("l4")
    assert s_h100 > 1.15 and s_l4 < 1.06
    assert s_h100 - 1 > 4 * (s_l4 - 1)


def test_eager_h100_is_host_bound_with_device_gaps():
    r = predict(QWEN[0], "h100-sxm5", QWEN[1], mode="eager")
    tl = r.timeline
    busy = (tl.end_ns - tl.start_ns).sum()
    assert busy < 0.8 * r.latency_ns                     # the GPU waits for the host
    assert r.latency_ns == pytest.approx(tl.end_ns.max())
    assert list(tl.columns[:6]) == ["op", "kind", "layer", "device", "start_ns", "end_ns"]
    assert (tl.start_ns.diff().dropna() >= 0).all()
    l4 = predict(QWEN[0], "l4", QWEN[1], mode="eager").timeline
    assert (l4.end_ns - l4.start_ns).sum() > 0.9 * l4.end_ns.max()   # L4 is memory-bound, busy


def test_quantized_and_longer_context_change_latency_in_the_right_direction():
    base = predict("llama-2-7b", "l4", 512).latency_ms
    assert predict("llama-2-7b", "l4", 512, weights="int4").latency_ms < 0.5 * base
    assert predict("llama-2-7b", "l4", 4000).latency_ms > base


def test_dequantization_runs_on_the_simt_pipes():
    """Weight-only dequantization is timed at the FP32 lane rate, not the tensor/int8 peak: with
    the tensor peaks unchanged and the FP32 rate cut, int4 GEMVs turn compute-bound, bf16 ones
    do not."""
    from simulator.lowering.gpu import lower
    from simulator.workload import Workload, generate_trace, load_model
    dev = load_device("a100-80gb")
    slow = load_device("a100-80gb")
    slow.compute["fp32_tflops"] = 0.05
    rt = load_runtime(dev.runtime)
    m = load_model("llama-2-7b")

    def gemvs(d, weights):
        return [k for k in lower(generate_trace(Workload(m, weights=weights), 64), d, rt, "compiled")
                if k.kind == "gemv"]
    assert {k.bound for k in gemvs(slow, "int4")} == {"compute"}
    assert "compute" not in {k.bound for k in gemvs(slow, "bf16")}
    t_fast, t_slow = (sum(k.device_ns for k in gemvs(d, "int4")) for d in (dev, slow))
    assert t_slow > 10 * t_fast


def test_memory_efficiency_of_the_memory_class():
    from simulator.lowering.gpu import achievable_bandwidth_gbps, memory_class, memory_efficiency_key
    assert [memory_class(s) for s in ("hbm2", "hbm2e", "hbm3", "gddr6-14000", "gddr6-pim", "ddr4-3200")] == \
        ["hbm", "hbm", "hbm", "gddr", "gddr", "ddr"]
    a100, l4 = load_device("a100-80gb"), load_device("l4")
    rt = load_runtime(a100.runtime)
    assert memory_efficiency_key(a100, rt) == "memory_efficiency_hbm"
    assert memory_efficiency_key(l4, rt) == "memory_efficiency"          # no GDDR-specific value fitted
    eff = dram_efficiency("hbm2e", 40, "stream")
    assert achievable_bandwidth_gbps(a100, rt) == pytest.approx(2039 * eff * rt.param("memory_efficiency_hbm"))


def test_bandwidth_from_dram_core_is_memoised():
    from simulator.lowering.membw import _efficiency
    _efficiency.cache_clear()
    a = dram_efficiency("hbm3", 80, "stream")
    b = dram_efficiency("hbm3", 80, "stream")
    assert a == b and 0.5 < a <= 1.0
    assert _efficiency.cache_info().hits >= 1
    assert dram_efficiency("hbm3", 80, "gather") < a


def test_split_computing():
    edge, srv = load_device("jetson-orin-nano"), load_device("h100-sxm5")
    m = "llama-2-7b"
    all_srv = simulate_split(m, 256, 0, edge, srv, link_gbps=0.05, link_latency_ms=10)
    half = simulate_split(m, 256, 16, edge, srv, link_gbps=0.05, link_latency_ms=10)
    all_edge = simulate_split(m, 256, 32, edge, srv, link_gbps=0.05, link_latency_ms=10)
    assert all_srv.latency_ms < half.latency_ms < all_edge.latency_ms
    link = half.timeline[half.timeline.device == "link"].iloc[0]
    assert link.bytes == 4096 * 16 // 8
    assert link.end_ns - link.start_ns == pytest.approx(10e6 + 8192 / 0.05)
    compressed = simulate_split(m, 256, 16, edge, srv, link_gbps=0.05, link_latency_ms=10, act_bits=4)
    assert compressed.latency_ms < half.latency_ms
    assert set(half.timeline.device) == {edge.name, "link", srv.name}
    with pytest.raises(ConfigError, match="allowed \\[0, 32\\]"):
        simulate_split(m, 256, 40, edge, srv)


@pytest.mark.parametrize("key", list_devices())
def test_every_device_loads_and_predicts(key):
    d = load_device(key)
    assert d.source and d.memory["peak_gbps"] > 0
    r = predict("gpt2-small", key, 128)
    assert r.latency_ms > 0


def test_kernel_counts_per_activation_function(tmp_path, monkeypatch):
    import yaml

    import simulator.devices.config as cfg
    from simulator.lowering.gpu import lower
    from simulator.workload import Workload, generate_trace, load_model
    dev = load_device("t4")
    rt = load_runtime(dev.runtime)

    def act_kernels(model):
        ks = lower(generate_trace(Workload(load_model(model), weights="fp16"), 16), dev, rt, "eager")
        return {k.kernels for k in ks if k.kind == "activation"}
    assert act_kernels("gpt2-small") == {8}            # transformers' NewGELUActivation
    assert act_kernels("opt-1.3b") == {1}              # nn.ReLU
    assert act_kernels("llama-2-7b") == {2}            # SiLU(gate) * up
    d = yaml.safe_load((cfg.RUNTIME_DIR / "gpu-pytorch.yaml").read_text())
    d["modes"]["eager"]["kernels_per_op"]["actvation:gelu"] = 8
    (tmp_path / "gpu-pytorch.yaml").write_text(yaml.safe_dump(d))
    monkeypatch.setattr(cfg, "RUNTIME_DIR", tmp_path)
    with pytest.raises(ConfigError, match="kernels_per_op.actvation:gelu"):
        cfg.load_runtime("gpu-pytorch")


def test_required_devices_exist():
    need = {"h100-sxm5", "h200", "a100-80gb", "l40s", "l4", "t4", "rtx-4090", "jetson-agx-orin", "jetson-orin-nano",
            "raspberry-pi-5", "apple-m2-max", "phone-sd8gen3", "host-cpu"}
    assert need <= set(list_devices())


def test_bad_device_yaml(bad_config):
    import yaml

    from simulator.devices.config import DEVICE_DIR
    d = yaml.safe_load((DEVICE_DIR / "l4.yaml").read_text())
    d["memory"]["standard"] = "sdr-133"
    bad_config(d, load_device, "memory.standard", name="dev.yaml")
    with pytest.raises(ConfigError, match="available"):
        load_device("gpu-9000")


def test_runtime_calibration_has_provenance():
    rt = load_runtime("gpu-pytorch")
    for k in ("host_dispatch_us", "gpu_min_kernel_us", "memory_efficiency"):
        assert "fitted_on" in rt.calibration[k] and rt.param(k) > 0


def test_cpu_breakdown_separates_host_dispatch():
    """PyTorch eager on a CPU runs each op synchronously: dispatch (host_dispatch_us = 10 us, assumed in
    hw_configs/calibration.yaml) then the kernel. GPT-2 small has 12 layers x 13 ops (2 layernorms, 4 GEMVs,
    kv_append, attn_score, softmax, attn_context, GELU, 2 residual adds) + embedding + final layernorm +
    lm_head = 159 ops, one kernel each: dispatch = 159 x 10 us = 1.59 ms. It was counted as memory time."""
    r = predict("gpt2-small", "xeon-gold-6154", 128, weights="fp32")
    bd = r.breakdown_ns()
    assert bd["dispatch"] == pytest.approx(159 * 10e3)
    assert sum(bd.values()) == pytest.approx(r.latency_ns)
    # what is left is the kernels: at least the bytes at peak bandwidth (128 GB/s, six DDR4-2666 channels)
    floor_ns = memory_floor_ms("gpt2-small", "xeon-gold-6154", 128, weights="fp32") * 1e6
    assert bd["memory"] + bd.get("compute", 0) + bd.get("overhead", 0) >= floor_ns
    assert bd["memory"] == pytest.approx(r.latency_ns - 159 * 10e3 - bd.get("compute", 0) - bd.get("overhead", 0))


@pytest.mark.parametrize("key,mode", [("xeon-gold-6154", "eager"), ("raspberry-pi-5", "llamacpp"),
                                      ("l4", "eager"), ("apple-m1", "llamacpp"), ("h100-sxm5", "cuda_graphs")])
def test_breakdown_parts_sum_to_latency_on_every_kind(key, mode):
    r = predict("llama-3.2-1b", key, 64, weights="q4_k_m" if mode == "llamacpp" else "bf16", mode=mode)
    bd = r.breakdown_ns()
    assert set(bd) <= {"memory", "compute", "overhead", "dispatch", "idle"}
    assert sum(bd.values()) == pytest.approx(r.latency_ns)
    assert (bd.get("dispatch", 0) > 0) == (load_device(key).backend == "cpu")


def test_launch_time_adds_to_the_work():
    """A kernel costs its work plus a fixed GPU-side time per launch (gpu_min_kernel_us), not the larger of the
    two: on the L4 (eager) a 4096 x 4096 bf16 GEMV moves 33.5 MB, 33.5e6 B / bandwidth + 1 launch; an eager
    RMSNorm is 8 launches (hw_configs/runtime/gpu-pytorch.yaml), so 8 launch times plus its few kB. The
    timeline shows the launch time as its own `overhead` row, without bytes."""
    from simulator.lowering.gpu import achievable_bandwidth_gbps, lower
    from simulator.workload import Workload, generate_trace, load_model
    dev = load_device("l4")
    rt = load_runtime(dev.runtime)
    t_min = rt.param("gpu_min_kernel_us") * 1e3
    bw = achievable_bandwidth_gbps(dev, rt)                          # GB/s = bytes per ns
    ks = lower(generate_trace(Workload(load_model("llama-2-7b")), 64), dev, rt, "eager")
    q = next(k for k in ks if k.kind == "gemv" and k.layer == 0)
    assert q.bytes >= 4096 * 4096 * 2
    assert q.device_ns == pytest.approx(q.bytes / bw + t_min)
    norm = next(k for k in ks if k.kind == "rmsnorm")
    assert norm.kernels == 8 and norm.device_ns == pytest.approx(norm.bytes / bw + 8 * t_min)
    tl = predict("llama-2-7b", "l4", 64, mode="eager").timeline
    over = tl[tl.bound == "overhead"]
    assert (over.bytes == 0).all() and (over.end_ns - over.start_ns).sum() == pytest.approx(
        t_min * tl.kernels.sum())
