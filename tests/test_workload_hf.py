"""Models from Hugging Face config.json files, the new catalog entries, MoE routing and
sliding windows: bytes by hand."""

import json

import pytest

from simulator.cli import main
from simulator.errors import ConfigError
from simulator.workload import Workload, generate_trace, load_model

# published parameter counts (model cards / safetensors index totals)
PUBLISHED = {"llama-3.1-8b": 8_030_261_248, "llama-3.2-1b": 1_235_814_400, "llama-3.2-3b": 3_212_749_824,
             "qwen-2.5-0.5b": 494_032_768, "qwen-2.5-1.5b": 1_543_714_304, "qwen-2.5-3b": 3_085_938_688,
             "qwen-2.5-14b": 14_770_033_664, "qwen-2.5-32b": 32_763_876_352, "qwen-2.5-72b": 72_706_203_648,
             "phi-3-mini": 3_821_079_552, "mixtral-8x7b": 46_702_792_704, "qwen3-30b-a3b": 30_532_122_624}


@pytest.mark.parametrize("name,count", sorted(PUBLISHED.items()))
def test_catalog_parameter_counts(name, count):
    assert load_model(name).param_count() == pytest.approx(count, rel=0.005)


def test_gemma3_and_active_params():
    g = load_model("gemma-3-4b")
    # Gemma 3 technical report, Table 1: 4B = 3,209M non-embedding parameters (+ 675M embedding)
    assert g.param_count() - g.vocab * g.hidden == pytest.approx(3_209e6, rel=0.001)
    assert load_model("mixtral-8x7b").active_params() == pytest.approx(12.9e9, rel=0.01)   # Mistral AI: 12.9B
    assert load_model("qwen3-30b-a3b").active_params() == pytest.approx(3.3e9, rel=0.02)    # model card: 3.3B


LLAMA3 = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
          "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
          "vocab_size": 128256, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
          "tie_word_embeddings": False, "torch_dtype": "bfloat16"}
MIXTRAL = {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
           "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
           "num_local_experts": 8, "num_experts_per_tok": 2, "vocab_size": 32000, "max_position_embeddings": 32768,
           "rms_norm_eps": 1e-5, "rope_theta": 1e6, "sliding_window": None, "tie_word_embeddings": False}


def _write(tmp_path, cfg, name="config.json"):
    d = tmp_path / name.replace(".json", "")
    d.mkdir()
    p = d / "config.json"
    p.write_text(json.dumps(cfg))
    return p


def test_hf_llama3_matches_catalog(tmp_path):
    m = load_model(_write(tmp_path, LLAMA3))
    assert m.param_count() == load_model("llama-3-8b").param_count() == 8_030_261_248


# Mixtral at Q4_K_M is 26.3 GB: more than an RTX 4090's 24 GB (a capacity error), so an H100
@pytest.mark.parametrize("cfg,hw", [(LLAMA3, "rtx-4090"), (MIXTRAL, "h100-sxm5")])
def test_cli_run_with_config_json(tmp_path, capsys, cfg, hw):
    p = _write(tmp_path, cfg)
    assert main(["run", "--model", str(p), "--hw", hw, "--context", "100", "--weights", "q4_k_m",
                 "--mode", "llamacpp"]) == 0
    assert "ms/token" in capsys.readouterr().out


def test_unsupported_architecture(tmp_path, capsys):
    p = _write(tmp_path, dict(LLAMA3, model_type="falcon"))
    with pytest.raises(ConfigError, match="model_type.*falcon.*not supported"):
        load_model(p)
    assert main(["run", "--model", str(p), "--hw", "rtx-4090"]) == 2
    assert "model_type" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="num_hidden_layers"):
        load_model(_write(tmp_path, {k: v for k, v in LLAMA3.items() if k != "num_hidden_layers"}, "b.json"))


def _expert_bytes(tr, layer):
    return sum(o.weight_bytes for o in tr.ops if o.layer == layer and o.name.split(".")[-1] in ("gate", "up", "down"))


def test_moe_batch1_reads_k_of_e_experts():
    m = load_model("mixtral-8x7b")
    tr = generate_trace(Workload(m), 100)
    all_experts = 8 * 3 * 4096 * 14336 * 2          # 8 experts x (gate, up, down) x bf16
    assert _expert_bytes(tr, 3) == all_experts * 2 // 8
    # batch 4, uniform independent routing: 8 (1 - (1 - 2/8)^4) = 5.46875 distinct experts
    tr4 = generate_trace(Workload(m, batch=4), 100)
    assert _expert_bytes(tr4, 3) == pytest.approx(all_experts * 5.46875 / 8, rel=1e-9)
    router = [o for o in tr.ops if o.name == "layers.3.mlp.router"][0]
    assert router.weight_bytes == 8 * 4096 * 2
    q = load_model("qwen3-30b-a3b")
    tq = generate_trace(Workload(q), 10)
    assert _expert_bytes(tq, 0) == 8 * 3 * 2048 * 768 * 2      # top-8 of 128


def test_sliding_window_limits_kv_read():
    m = load_model("mistral-7b")
    tr = generate_trace(Workload(m), 8000)
    score = [o for o in tr.ops if o.name == "layers.0.attn.score"][0]
    assert score.kv_read_bytes == 4096 * 1024 * 2          # window 4096 x (8 kv heads x 128) x bf16
    g = load_model("gemma-3-4b")
    tg = generate_trace(Workload(g), 5000)
    reads = {o.layer: o.kv_read_bytes for o in tg.ops if o.kind == "attn_score"}
    assert reads[0] == 1024 * 4 * 256 * 2                 # local layer: window 1024
    assert reads[5] == 5001 * 4 * 256 * 2                 # every 6th layer is global


def test_config_json_errors_use_hugging_face_keys(tmp_path, capsys):
    """A bad config.json is reported with the keys the user wrote (num_key_value_heads, hidden_size),
    not decodesim's internal names (kv_heads, hidden)."""
    p = _write(tmp_path, dict(LLAMA3, num_key_value_heads=3), "kv.json")
    assert main(["run", "--model", str(p), "--hw", "rtx-4090"]) == 2
    err = capsys.readouterr().err
    assert "num_key_value_heads" in err and "num_attention_heads" in err
    assert "kv_heads" not in err.replace("num_key_value_heads", "")
    p = _write(tmp_path, dict(LLAMA3, hidden_size=4097), "h.json")
    assert main(["run", "--model", str(p), "--hw", "rtx-4090"]) == 2
    err = capsys.readouterr().err
    assert "hidden_size" in err and "(4097)" in err and " hidden " not in err
