#!/usr/bin/env bash
# GPU benchmark, one prepared run: mlplab-torch and mlplab-jax beside PyTorch eager and JAX on
# workloads B (784-1024-1024-10, batch 256) and wide (784-4096-4096-10, batch 1024), with the
# GPU's float32 matmul peak measured in the same run. Under 5 minutes on one GPU.
# Needs PyTorch with CUDA and jax[cuda] in the Python it runs ($PYTHON, default python3),
# and the repository's src/ on the path (set below). Usage: benchmarks/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" -c 'import torch, jax; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "| jax", jax.__version__, jax.devices())'
exec timeout 290 "$PYTHON" -m benchmarks.gpu
