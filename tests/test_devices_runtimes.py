"""Device presets, their memory standards, runtime profile selection per mode and host scaling."""

import pytest
import yaml

from simulator.devices.config import DEVICE_DIR, list_devices, load_device, runtime_for
from simulator.dram.standard import load_standard
from simulator.engine import predict
from simulator.errors import ConfigError
from simulator.lowering.gpu import lower
from simulator.workload import Workload, generate_trace, load_model

NEW = ["rtx-3090", "rtx-3090-ti", "rtx-a6000", "a10", "tesla-p40", "v100", "h100-pcie", "apple-m1", "apple-m1-max",
       "apple-m2", "apple-m2-ultra", "apple-m3", "apple-m3-max", "apple-m4-pro", "apple-m4-max", "dgx-spark",
       "jetson-orin-nano-super", "jetson-orin-nx", "phone-sd8gen2", "desktop-ddr5-cpu"]


def test_new_devices_present_with_sources():
    assert set(NEW) <= set(list_devices())
    for k in NEW:
        d = load_device(k)
        assert len(d.source) > 40


@pytest.mark.parametrize("key,std", [("rtx-3090", "GDDR6X"), ("rtx-4090", "GDDR6X"), ("apple-m1", "LPDDR4X"),
                                     ("raspberry-pi-5", "LPDDR4X"), ("apple-m4-max", "LPDDR5"),
                                     ("dgx-spark", "LPDDR5")])
def test_memory_standard_family(key, std):
    assert load_standard(load_device(key).memory["standard"]).family.startswith(std)


def test_peak_bandwidth_from_bus_width():
    """Datasheet peak = pins x data rate: channels x 16 bit x Gb/s / 8 (GDDR6X 19.5 Gb/s on a 384-bit bus)."""
    assert load_device("rtx-3090").memory["peak_gbps"] == pytest.approx(24 * 16 * 19.5 / 8)
    assert load_device("apple-m4-max").memory["peak_gbps"] == pytest.approx(512 * 8533 / 8 / 1000, rel=0.001)


@pytest.mark.parametrize("key", ["raspberry-pi-5", "phone-sd8gen2", "phone-sd8gen3", "desktop-ddr5-cpu"])
def test_cpu_only_devices_use_cpu_runtimes(key):
    d = load_device(key)
    assert d.backend == "cpu"
    assert runtime_for(d, "eager").name == "cpu-pytorch"
    assert runtime_for(d, "llamacpp").name == "llamacpp-cpu"


@pytest.mark.parametrize("key,mode,rt", [("rtx-3090", "llamacpp", "llamacpp-cuda"), ("apple-m2-ultra", "llamacpp", "llamacpp-metal"),
                                         ("rtx-4090", "eager", "gpu-pytorch"), ("rtx-4090", "cuda_graphs", "gpu-pytorch"),
                                         ("rtx-4090", "compiled", "gpu-pytorch"), ("rtx-4090", "tinychat", "tinychat"),
                                         ("jetson-orin-nano-super", "tensorrt_llm", "tensorrt-llm"),
                                         ("a10", "vllm", "vllm"), ("a10", "exllamav2", "exllamav2"),
                                         ("apple-m2", "mlc", "mlc")])
def test_mode_selects_profile(key, mode, rt):
    assert runtime_for(load_device(key), mode).name == rt


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="mode.*allowed"):
        runtime_for(load_device("apple-m2"), "tensorrt_llm")


def test_host_scales_dispatch(tmp_path):
    """TinyChat dispatches from Python: a host with half the clock doubles each kernel's host time."""
    d = yaml.safe_load((DEVICE_DIR / "rtx-4090.yaml").read_text())
    fast, slow = dict(d, host={"name": "a", "single_thread_ghz": 5.0}), dict(d, host={"name": "b", "single_thread_ghz": 2.5})
    paths = []
    for i, x in enumerate((fast, slow)):
        p = tmp_path / f"d{i}.yaml"
        p.write_text(yaml.safe_dump(x))
        paths.append(p)
    tr = generate_trace(Workload(load_model("llama-2-7b"), weights="awq"), 100)
    h = []
    for p in paths:
        dev = load_device(p)
        h.append(sum(k.host_ns for k in lower(tr, dev, runtime_for(dev, "tinychat"), "tinychat")))
    assert h[1] == pytest.approx(2 * h[0])


def test_predict_accepts_new_names():
    r = predict("llama-3.2-3b", "jetson-orin-nano-super", 256, weights="q4_k_m", mode="llamacpp")
    assert r.latency_ms > 0
    # memory bound: at least the bytes of one step over the datasheet peak
    w = Workload(load_model("llama-3.2-3b"), weights="q4_k_m")
    floor_ms = generate_trace(w, 256).totals()["bytes"] / (102 * 1e6)
    assert r.latency_ms >= floor_ms


def test_backend_is_required(tmp_path):
    """A device without `backend:` must not silently become a CUDA device (apple-m2-max ran CUDA llama.cpp)."""
    d = yaml.safe_load((DEVICE_DIR / "apple-m1-max.yaml").read_text())
    del d["backend"]
    p = tmp_path / "nobackend.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match="backend"):
        load_device(p)


@pytest.mark.parametrize("key", list_devices())
def test_every_device_names_its_backend(key):
    d = yaml.safe_load((DEVICE_DIR / f"{key}.yaml").read_text())
    want = ("metal" if key.startswith("apple") else "rocm" if key.startswith("mi") else
            "cpu" if d["kind"] == "cpu" or key.startswith(("phone", "raspberry")) else "cuda")
    assert d.get("backend") == want


def test_apple_m2_max_runs_metal_llamacpp():
    """M1 Max, M2 Max and M3 Max all have 400 GB/s (512-bit LPDDR5-6400; Apple's specs) and run the same
    llama.cpp Metal profile; their GPUs grow 10.4 -> 13.6 -> ~16 TFLOPS, so M2 Max's step time must lie between
    M3 Max's and M1 Max's (the CUDA profile gave 15.35 ms, below both)."""
    assert runtime_for(load_device("apple-m2-max"), "llamacpp").name == "llamacpp-metal"
    ms = {k: predict("llama-3-8b", k, 256, weights="q4_k_m", mode="llamacpp").latency_ms
          for k in ("apple-m1-max", "apple-m2-max", "apple-m3-max")}
    assert ms["apple-m3-max"] <= ms["apple-m2-max"] <= ms["apple-m1-max"]


@pytest.mark.parametrize("key,mode", [("apple-m2-max", "cuda_graphs"), ("apple-m3-max", "compiled"),
                                      ("mi250x-gcd", "tensorrt_llm"), ("mi250x-gcd", "tinychat")])
def test_mode_not_on_backend_is_rejected(key, mode):
    with pytest.raises(ConfigError, match="allowed: .*eager"):
        runtime_for(load_device(key), mode)


# Weight format x runtime x hardware. Sources for the expected verdicts: llama.cpp runs GGUF types only (and
# f32/f16/bf16); TinyChat runs AWQ int4 (mit-han-lab/llm-awq README); ExLlamaV2 runs EXL2 and GPTQ (its README);
# TensorRT-LLM, vLLM and MLC-LLM do not load GGUF k-quant mixes for their own kernels; HF transformers eager
# dequantizes GGUF to fp on load (docs "GGUF and interaction with Transformers"), so it never runs q4_k_m.
@pytest.mark.parametrize("mode", ["tinychat", "exllamav2", "tensorrt_llm", "vllm", "mlc", "eager"])
def test_gguf_mix_only_under_llamacpp(mode):
    with pytest.raises(ConfigError, match="q4_k_m.*allowed.*"):
        predict("llama-2-7b", "rtx-4090", 128, weights="q4_k_m", mode=mode)


@pytest.mark.parametrize("key,weights,mode", [("rtx-4090", "exl2-4.65", "llamacpp"),
                                              ("apple-m3-max", "marlin", "eager"),
                                              ("rtx-4090", "awq", "llamacpp"), ("a10", "gptq", "tinychat")])
def test_format_the_engine_lacks_is_rejected(key, weights, mode):
    with pytest.raises(ConfigError, match="allowed"):
        predict("llama-2-7b", key, 128, weights=weights, mode=mode)


@pytest.mark.parametrize("weights,mode", [("fp8_e4m3", "eager"), ("fp8_e4m3", "tensorrt_llm"),
                                          ("nvfp4", "tensorrt_llm")])
def test_turing_has_no_fp8_or_fp4(weights, mode):
    """T4 is Turing (compute capability 7.5): FP8 tensor cores arrive with Ada/Hopper (cc 8.9/9.0), FP4 with
    Blackwell (NVIDIA CUDA C++ Programming Guide, compute capabilities table)."""
    with pytest.raises(ConfigError, match="t4.*native"):
        predict("llama-2-7b", "t4", 128, weights=weights, mode=mode)


def test_bf16_on_turing_is_emulated_at_the_fp32_rate():
    """Turing has no bf16 math; PyTorch runs bf16 matmuls there through fp32 (upconvert, fp32 FMA): a
    compute-bound GEMM runs at the 8.1 TFLOPS fp32 rate, not the 65 TFLOPS fp16 tensor rate (T4 datasheet),
    so a compute-bound kernel takes 65 / 8.1 = 8.02x longer in bf16 than in fp16 (same bytes)."""
    dev = load_device("t4")
    times = {}
    for w in ("bf16", "fp16"):
        tr = generate_trace(Workload(load_model("llama-2-7b"), weights=w, batch=4096), 16)
        ks = [k for k in lower(tr, dev, runtime_for(dev, "eager"), "eager")
              if k.kind in ("gemv", "gemm") and k.bound == "compute"]
        times[w] = ks[0].device_ns - ks[0].overhead_ns          # the math, without the fixed launch time
    assert times["bf16"] / times["fp16"] == pytest.approx(65 / 8.1, rel=1e-6)


def test_published_cells_formats_still_run():
    for key, w, mode in [("l4", "nf4", "eager"), ("l4", "int4", "compiled"), ("mi250x-gcd", "int8", "compiled"),
                         ("rtx-4090", "awq", "tinychat"), ("dgx-spark", "q4_k_m", "llamacpp"),
                         ("raspberry-pi-5", "q4_k_m", "llamacpp"), ("xeon-gold-6154", "fp32", "eager")]:
        assert predict("gpt2-small", key, 16, weights=w, mode=mode).latency_ms > 0


def test_sustained_bandwidth_caps_the_dram_estimate(tmp_path):
    """An Apple GPU sustains less than its LPDDR5 delivers (llama.cpp PR #2188: 340 GB/s on the M1 Max, 400 GB/s
    datasheet): the measured `sustained_gbps` caps the stream bandwidth; a cap above the DRAM estimate changes
    nothing; a bad value is a config error naming the key."""
    from simulator.lowering.gpu import stream_bandwidth_gbps
    from simulator.lowering.membw import dram_efficiency
    m1max = load_device("apple-m1-max")
    core = 400 * dram_efficiency(m1max.memory["standard"], 32, "stream")
    assert core > 340 and stream_bandwidth_gbps(m1max) == pytest.approx(340)
    d = yaml.safe_load((DEVICE_DIR / "apple-m1-max.yaml").read_text())
    for value, want in ((1000, core), (None, core)):
        d["memory"]["sustained_gbps"] = value
        if value is None:
            del d["memory"]["sustained_gbps"]
        p = tmp_path / "m.yaml"
        p.write_text(yaml.safe_dump(d))
        assert stream_bandwidth_gbps(load_device(p)) == pytest.approx(want)
    d["memory"]["sustained_gbps"] = -5
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match="memory.sustained_gbps"):
        load_device(p)
