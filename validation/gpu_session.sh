#!/usr/bin/env bash
# One prepared GPU session (e.g. the lent H200; about 5 minutes, most of it drawing Qwen's 7.6B
# seeded random weights on the host: 56 M weights/s on this project's 2-core machine): measures
# batch-1 decode with the harness on the CUDA device (eager and CUDA Graphs, bf16, seeded random
# weights), then runs the tests that exercise CUDA code paths. Writes CSVs and logs to $OUT (default
# validation/data/measured/); commit the CSVs there, and run `decodesim validate` here.
#
#   usage: validation/gpu_session.sh [device-config]   (default h200; any hw_configs/devices key)
#
# Needs only python3 with torch, numpy, pyyaml and pytest (the harness and these tests import
# nothing else). Every row is held-out: no calibration parameter names these cells.
set -uo pipefail
DEV_CONFIG=${1:-h200}
OUT=${OUT:-validation/data/measured}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
status=0

measure() {   # model contexts
    "$PY" -m simulator.cli measure --device cuda --all-heldout --device-config "$DEV_CONFIG" --model "$1" \
        --contexts "$2" --steps 20 --warmup 5 --out "$OUT/$DEV_CONFIG-$1.csv" 2>&1 | tee -a "$OUT/gpu_session.log" \
        || status=1
}

nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv >"$OUT/gpu_info.csv" || status=1
measure gpt2-small 16,128,512,1000
measure gpt2-xl 16,512,1000
measure qwen-2.5-7b 128,2048
# the CUDA paths of the harness, the recorder and the PyTorch model (skipped without a GPU)
"$PY" -m pytest -q -p no:cacheprovider tests/test_cuda_paths.py 2>&1 | tee "$OUT/gpu_tests.log" || status=1
exit $status
