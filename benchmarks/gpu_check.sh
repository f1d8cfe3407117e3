#!/usr/bin/env bash
# The GPU path, measured once on a CUDA machine (an H100/H200-class GPU is what the budget assumes):
#
#   1. train.fit's CUDA path (bf16 autocast against float32) on synthetic CIFAR-shaped data;
#   2. the CIFAR-10 recipe's throughput on synthetic data: bf16 against float32, torch.compile on/off;
#   3. the command line on CUDA (--json), and resuming a killed run on CUDA;
#   4. with a CIFAR-10 folder: time to 94 % test accuracy (budget: under 30 s);
#   5. with more than one GPU: the same command under torchrun (NCCL), equal weights on every rank.
#
#   benchmarks/gpu_check.sh [CIFAR10_FOLDER]        (default: $LECTURE_CIFAR10_DIR, else steps 1-3 and 5)
#
# Everything printed is also kept in benchmarks/results/gpu-<GPU name>-<UTC time>.txt (or in $OUT when
# set); copy its figures into benchmarks/results/cifar10_recipe.md. About 5 minutes on one GPU.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PY="${PYTHON:-.venv/bin/python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "no CUDA device is visible to $PY (torch $("$PY" -c 'import torch; print(torch.__version__)')): nothing to measure"
    exit 1
fi
DATA="${1:-${LECTURE_CIFAR10_DIR:-}}"
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
NAME=$("$PY" -c "import torch; print(torch.cuda.get_device_name().replace(' ', '_'))")
LOG="${OUT:-benchmarks/results}/gpu-${NAME}-$(date -u +%Y%m%dT%H%MZ).txt"
mkdir -p "$(dirname "$LOG")"
exec > >(tee "$LOG") 2>&1
step() { echo; echo "== $*"; }
status() { local code=$?; [ "$code" -eq 0 ] || echo "!! step failed (exit $code)"; }

step "0. machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(),
'| bf16 supported:', torch.cuda.is_bf16_supported(), '| GPUs:', torch.cuda.device_count())"

step "1. train.fit on CUDA: fast_resnet9 (width 32), 20000 synthetic images, 3 epochs, batch 512"
timeout 300 "$PY" - <<'EOF'
import time
import torch
from lecture_lib import data
from lecture_lib.models import fast_resnet9
from lecture_lib.train import fit

X, y, Xv, yv = data.synthetic_cifar10(20000, 2000)
mean, std = X.mean(axis=(0, 2, 3), keepdims=True), X.std(axis=(0, 2, 3), keepdims=True)
X, Xv = (((a - mean) / std).astype("float32") for a in (X, Xv))
rates = {}
for amp in (True, False, True, False):  # each twice: the first of each pays for cuDNN's autotuning
    torch.manual_seed(0)
    model = fast_resnet9(width=32)
    torch.cuda.synchronize()
    start = time.perf_counter()
    history = fit(model, X, y, Xv, yv, epochs=3, lr=0.05, batch_size=512, device="cuda", amp=amp, progress=False)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    rates[amp] = 3 * len(X) / seconds
    print(f"train.fit cuda {'bf16 autocast' if amp else 'float32      '}: 3 epochs in {seconds:6.2f} s "
          f"({rates[amp]:8,.0f} images/s), val acc {history.val_acc[-1]:.3f}, "
          f"channels_last {next(model.parameters()).is_contiguous(memory_format=torch.channels_last)}")
print(f"train.fit: bf16 autocast / float32 = {rates[True] / rates[False]:.2f}x images/s")
EOF
status

step "2. the recipe on synthetic data (50000 images, 3 epochs): bf16 vs float32, torch.compile off vs on"
timeout 900 "$PY" benchmarks/train_cifar.py --data synthetic --device cuda --precision bf16 fp32 --compile off on
status

step "3. the command line on CUDA, and resuming after a kill"
timeout 120 "$PY" -m lecture_lib.recipes.cifar10 --data synthetic --device cuda --epochs 2 --limit 10240 --json \
    --no-progress
status
timeout 300 "$PY" - <<'EOF'
import tempfile
from pathlib import Path
from lecture_lib.recipes import cifar10

settings = dict(epochs=3, limit=10240, device="cuda", progress=False, cache=False, log=lambda line: None)
whole = cifar10.train("synthetic", **settings)
path = Path(tempfile.mkdtemp()) / "run.pt"
class Killed(Exception):
    pass
def kill(epoch, history):
    if epoch == 1:
        raise Killed
try:
    cifar10.train("synthetic", checkpoint_path=path, callback=kill, **settings)
except Killed:
    pass
resumed = cifar10.train("synthetic", checkpoint_path=path, resume=True, **settings)
print(f"resume on CUDA: uninterrupted accuracy {whole.accuracy:.4f}, resumed {resumed.accuracy:.4f}; "
      f"weights bit-equal: {whole.weights_checksum == resumed.weights_checksum} (on the CPU they always are; "
      "cuDNN's autotuned convolutions may add in another order)")
EOF
status

if [ -n "$DATA" ]; then
    step "4. CIFAR-10 from $DATA: time to 94 % (bf16; 10 epochs x3, 12 epochs x2, 10 epochs compiled x1)"
    timeout 600 "$PY" benchmarks/train_cifar.py --data "$DATA" --device cuda --precision bf16 --repeat 3
    status
    timeout 300 "$PY" benchmarks/train_cifar.py --data "$DATA" --device cuda --precision bf16 --epochs 12 --repeat 2
    status
    timeout 300 "$PY" benchmarks/train_cifar.py --data "$DATA" --device cuda --precision bf16 --compile on
    status
else
    step "4. skipped: no CIFAR-10 folder (give it as the first argument or set LECTURE_CIFAR10_DIR)"
fi

if [ "$GPUS" -gt 1 ]; then
    step "5. torchrun on $GPUS GPUs (NCCL): synthetic data, 3 epochs; one JSON line per rank"
    timeout 300 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$GPUS" -m lecture_lib.recipes.cifar10 \
        --data synthetic --device cuda --epochs 3 --json --no-progress
    status
else
    step "5. skipped: one GPU (torchrun with NCCL needs two or more)"
fi
echo
echo "kept in $LOG"
