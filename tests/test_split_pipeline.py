"""The split pipeline: link arithmetic by hand, the extremes against `run` on each device alone."""

import pytest

from simulator.devices.config import load_device
from simulator.engine.sim import predict
from simulator.errors import ConfigError
from simulator.split.link import Link, hidden_state_bytes, list_links, load_link, make_link
from simulator.split.pipeline import SplitPoint, SplitSetup, simulate_generation
from simulator.workload import load_model

TINY = load_model("llama-3-8b").scaled(name="llama-4l", layers=4, hidden=512, heads=8, kv_heads=2,
                                       intermediate=1408, vocab=2000, max_positions=1024)
EDGE, SERVER = load_device("jetson-orin-nano"), load_device("h100-sxm5")
LINK = Link("test", 20.0, 50.0, 30.0)          # Mbit/s up, down; RTT ms


def _setup(**kw):
    args = dict(prompt=32, generate=6, samples=0)
    args.update(kw)
    return SplitSetup(TINY, EDGE, SERVER, kw.pop("link", LINK), **{k: v for k, v in args.items() if k != "link"})


def test_hidden_state_bytes_by_hand():
    assert hidden_state_bytes(4096, 16) == 8192
    assert hidden_state_bytes(4096, 8) == 4096 + 2                     # + one fp16 scale
    assert hidden_state_bytes(4096, 4) == 2048 + 2
    # 1% outliers: ceil(40.96) = 41 kept at 16 bit with a 12-bit index
    assert hidden_state_bytes(4096, 8, 0.01) == -(-(4055 * 8 + 41 * (16 + 12) + 16) // 8)
    with pytest.raises(ConfigError, match="act_bits"):
        hidden_state_bytes(4096, 7)


def test_mid_split_step_and_ttft_by_hand():
    s = _setup()
    k, ab = 2, 8
    r = simulate_generation(s, SplitPoint(k, "int4", "bf16", ab))
    hs = 512 + 2
    up = lambda b: b * 8 / 20.0 * 1e3                                 # noqa: E731  ns at 20 Mbit/s
    down = lambda b: b * 8 / 50.0 * 1e3                               # noqa: E731
    half_rtt = 15e6
    e_pre, s_pre = s.prefill_ns("edge", k, "int4", "bf16"), s.prefill_ns("server", k, "bf16", "bf16")
    assert r.ttft_ms * 1e6 == pytest.approx(e_pre + up(32 * hs) + half_rtt + s_pre + down(4) + half_rtt)
    gaps = [b - a for a, b in zip(r.token_times_ms, r.token_times_ms[1:])]
    for j, g in enumerate(gaps):
        ctx = 32 + j
        want = (s.segment_ns("edge", k, "int4", "bf16", ctx) + up(hs) + half_rtt
                + s.segment_ns("server", k, "bf16", "bf16", ctx) + down(4) + half_rtt)
        assert g * 1e6 == pytest.approx(want)
    assert r.uplink_bytes == 32 * hs + 5 * hs and r.downlink_bytes == 6 * 4
    busy = e_pre + sum(s.segment_ns("edge", k, "int4", "bf16", 32 + j) for j in range(5))
    total = r.token_times_ms[-1] * 1e6
    assert r.edge_energy_mj == pytest.approx((15 * busy + 5 * (total - busy)) * 1e-6)     # TDP 15 W, idle 5 W
    assert r.tokens_per_s == pytest.approx(5 / ((r.token_times_ms[-1] - r.token_times_ms[0]) / 1e3))


def test_staging_copy_adds_two_copies_per_step():
    p = SplitPoint(2, "int4", "bf16", 16)
    plain = simulate_generation(_setup(), p)
    staged = simulate_generation(_setup(staging_us=20.0), p)
    per_step = 2 * 20e3 + 2 * (1024 + 4) / 68.0               # fixed cost + read and write at 68 GB/s
    assert (staged.tpot_ms - plain.tpot_ms) * 1e6 == pytest.approx(per_step)


def test_all_server_streams_tokens_off_the_critical_path():
    slow = Link("slow", 1.0, 1.0, 400.0)
    s = _setup(link=slow)
    r = simulate_generation(s, SplitPoint(0, "-", "bf16"))
    gaps = [b - a for a, b in zip(r.token_times_ms, r.token_times_ms[1:])]
    for j, g in enumerate(gaps):
        assert g * 1e6 == pytest.approx(s.segment_ns("server", 0, "bf16", "bf16", 32 + j))
    assert r.ttft_ms * 1e6 == pytest.approx(32 * 4 * 8e3 + 200e6 + s.prefill_ns("server", 0, "bf16", "bf16")
                                            + 4 * 8e3 + 200e6)
    assert r.uplink_bytes == 32 * 4 and r.edge_ms_per_token == 0.0


def test_sampled_step_times_within_half_a_percent_of_every_step():
    p = SplitPoint(2, "int8", "bf16", 8)
    exact = simulate_generation(_setup(generate=96, samples=0), p)
    sampled = simulate_generation(_setup(generate=96, samples=5), p)
    assert sampled.tpot_ms == pytest.approx(exact.tpot_ms, rel=5e-3)
    assert sampled.total_ms == pytest.approx(exact.total_ms, rel=5e-3)


@pytest.mark.parametrize("side", ["edge", "server"])
def test_extremes_agree_with_run_on_each_device_alone(side):
    """Llama-2-7B: all-edge on a Jetson Orin Nano (int4, eager) and all-server on an H100 (bf16,
    CUDA graphs) against simulator.engine.predict (what `decodesim run` computes), within 1%."""
    m = load_model("llama-2-7b")
    s = SplitSetup(m, EDGE, SERVER, make_link("wifi-6"), prompt=300, generate=4, samples=0)
    if side == "edge":
        p, dev, w, mode = SplitPoint(m.layers, "int4", "-"), "jetson-orin-nano", "int4", "eager"
    else:
        p, dev, w, mode = SplitPoint(0, "-", "bf16"), "h100-sxm5", "bf16", "cuda_graphs"
    r = simulate_generation(s, p)
    gaps = [b - a for a, b in zip(r.token_times_ms, r.token_times_ms[1:])]
    for j, g in enumerate(gaps):
        run = predict("llama-2-7b", dev, 300 + j, weights=w, mode=mode).latency_ms
        assert g == pytest.approx(run, rel=0.01)
    assert r.link_bytes == (0 if side == "edge" else 300 * 4 + 4 * 4)


def test_link_presets_have_sources_and_overrides():
    assert {"wifi-6", "5g", "lte", "ethernet-1g"} <= set(list_links())
    for name in list_links():
        lk = load_link(name)
        assert lk.source and lk.uplink_mbps > 0 and lk.rtt_ms >= 0
    lk = make_link("lte", mbps=10)
    assert (lk.uplink_mbps, lk.downlink_mbps, lk.rtt_ms) == (10, 10, 55)
    assert make_link(None, 100, 2).transfer_ns(1250, up=True) == pytest.approx(1e6 + 100e3)
    with pytest.raises(ConfigError, match="--link-mbps and --rtt-ms"):
        make_link(None, 100, None)
    with pytest.raises(ConfigError, match="unknown link; available: 5g"):
        make_link("carrier-pigeon")


def test_split_sides_take_a_mode_like_run():
    """A split side runs the profile its mode selects, as `decodesim run --mode` does: the all-edge
    split of Llama-2-7B Q4_K_M on an M1 Max in mode `llamacpp` (llamacpp-metal, not the device's
    default gpu-pytorch) takes, token for token, what predict(..., mode="llamacpp") takes; a mode
    the device cannot run is a ConfigError naming the allowed modes."""
    m = load_model("llama-2-7b")
    mac = load_device("apple-m1-max")
    s = SplitSetup(m, mac, SERVER, make_link("wifi-6"), prompt=300, generate=4, samples=0, edge_mode="llamacpp")
    assert s.edge_runtime.name == "llamacpp-metal" and s.server_runtime.name == "gpu-pytorch"
    r = simulate_generation(s, SplitPoint(m.layers, "q4_k_m", "-"))
    gaps = [b - a for a, b in zip(r.token_times_ms, r.token_times_ms[1:])]
    for j, g in enumerate(gaps):
        run = predict("llama-2-7b", "apple-m1-max", 300 + j, weights="q4_k_m", mode="llamacpp").latency_ms
        assert g == pytest.approx(run, rel=0.01)
    # eager PyTorch does not run GGUF weights (transformers dequantizes them on load): an error, not a number
    with pytest.raises(ConfigError, match="q4_k_m.*allowed"):
        simulate_generation(SplitSetup(m, mac, SERVER, make_link("wifi-6"), prompt=300, generate=4, samples=0),
                            SplitPoint(m.layers, "q4_k_m", "-"))
    with pytest.raises(ConfigError, match="allowed"):
        SplitSetup(m, mac, SERVER, make_link("wifi-6"), edge_mode="tensorrt_llm_typo")
