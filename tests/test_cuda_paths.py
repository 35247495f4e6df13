"""The CUDA code paths (harness with CUDA events and CUDA Graphs, recorder, PyTorch model on the
GPU). They run where a CUDA device is present (validation/gpu_session.sh runs them) and are
skipped elsewhere."""

import numpy as np
import pytest

from simulator.workload import Workload, generate_trace, load_model

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _tiny():
    return load_model("llama-3-8b").scaled(name="tiny", hidden=128, heads=4, kv_heads=2, layers=2,
                                           intermediate=256, vocab=300, max_positions=128)


def test_harness_on_cuda_times_eager_and_graphs():
    from simulator.measure import run_harness
    df = run_harness(_tiny(), [4, 32], steps=3, warmup=2, device="cuda", progress=False)
    assert set(df["mode"]) == {"eager", "cuda_graphs"} and len(df) == 4
    assert (df.ms_per_step_median > 0).all() and (df.probe_gbps > 0).all()
    assert df.weights.iloc[0] == "bf16" and df.device_name.iloc[0]


def test_recorded_trace_on_cuda_matches_the_generated_one():
    from simulator.workload.record import record_decode
    from simulator.workload.trace_io import diff_traces
    m = _tiny()
    rec = record_decode(m, 7, device="cuda")
    gen = generate_trace(Workload(m, weights="fp32", kv="fp32"), 7)
    assert rec.header["device"].startswith("cuda")
    assert diff_traces(gen, rec) == []


def test_cuda_logits_match_the_numpy_reference():
    from kernels_ref import ReferenceLM
    from simulator.workload.record import build_model, prompt_tokens
    from simulator.workload.weights import init_weights
    torch.backends.cuda.matmul.allow_tf32 = False
    m = load_model("gpt2-small").scaled(hidden=128, heads=4, kv_heads=4, layers=2, intermediate=512, vocab=300)
    W = init_weights(m, seed=3)
    ref = ReferenceLM(m, W, max_len=8)
    tm = build_model(m, weights=W, max_len=8, device="cuda")
    toks = prompt_tokens(m, 3, 1, 6)
    for pos in range(6):
        a = ref.step(toks[:, pos], pos)
        b = tm(torch.as_tensor(toks[:, pos], device="cuda"), pos).float().cpu().numpy()
        assert np.abs(a - b).max() < 1e-3
