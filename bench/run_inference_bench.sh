#!/usr/bin/env bash
# nnfi vs ONNX Runtime inference throughput, in one run on the same machine (see bench/README.md).
#
#   bench/run_inference_bench.sh [--models gtsrb_cnn,resnet18,vgg16] [--batches 1,32]
#       [--warmup 1] [--iters 50] [--max-seconds 10] [--timeout 900] [--threads 2]
#       [--reference] [--out DIR]
#
# Makes the models if missing (bench/make_models.py), builds nnfi_infer_bench in build-bench/
# (-DNNFI_BUILD_BENCH=ON), installs onnxruntime-node from the lock file if missing, runs nnfi
# then ORT on every model and batch (one at a time, never side by side), and prints the table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3  # Debian's, with python3-torch and python3-onnx
BUILD="$ROOT/build-bench"
MODELS="gtsrb_cnn,resnet18,vgg16"
BATCHES="1,32"
WARMUP=1
ITERS=50
MAX_SECONDS=10
TIMEOUT=900
THREADS=2
REFERENCE=""
OUT=""

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) MODELS="$2"; shift 2 ;;
    --batches) BATCHES="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --iters) ITERS="$2"; shift 2 ;;
    --max-seconds) MAX_SECONDS="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --reference) REFERENCE="--reference"; shift ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run_inference_bench.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
OUT="${OUT:-$BUILD/bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

echo "== models ($MODELS)"
"$PY" "$ROOT/bench/make_models.py" --models "$MODELS"

echo "== build ($BUILD)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNNFI_BUILD_BENCH=ON \
  -DNNFI_BUILD_TESTS=OFF > "$OUT/cmake.log"
nice make -C "$BUILD" -j2 nnfi_infer_bench > "$OUT/make.log" || {
  tail -30 "$OUT/make.log" >&2; exit 1; }

if [[ ! -d "$ROOT/bench/ort/node_modules/onnxruntime-node" ]]; then
  echo "== npm ci (onnxruntime-node, CPU library shipped in the package)"
  (cd "$ROOT/bench/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi

# Runs one engine; its log gets the RESULT line, or TIMEOUT / the error.
run_one() {
  local log="$1"; shift
  local rc=0
  timeout "$TIMEOUT" "$@" > "$log" 2>&1 || rc=$?
  if [[ $rc -eq 124 ]]; then echo "TIMEOUT after ${TIMEOUT}s" >> "$log"; fi
  grep -h '^RESULT' "$log" || echo "  $(basename "$log" .log): $(tail -1 "$log")"
}

COMMIT="$(git -C "$ROOT" rev-parse --short=12 HEAD)"
if [[ -n "$(git -C "$ROOT" status --porcelain -- src include bench CMakeLists.txt)" ]]; then
  COMMIT="$COMMIT (+ uncommitted changes in src/include/bench)"
fi
ORT_VERSION="$(node -p "require('$ROOT/bench/ort/node_modules/onnxruntime-node/package.json')\
.version")"
{
  echo "commit: $COMMIT"
  echo "date: $(date -Is)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
  echo "threads: $THREADS (nnfi OMP_NUM_THREADS, ORT intraOpNumThreads); load average before:" \
       "$(cut -d" " -f1-3 /proc/loadavg)"
  echo "protocol: warmup $WARMUP, up to $ITERS timed runs or ${MAX_SECONDS}s (>= 1 run)," \
       "timeout ${TIMEOUT}s per engine run${REFERENCE:+, nnfi reference kernels only}"
  echo "ort: onnxruntime-node $ORT_VERSION"
} | tee "$OUT/header.txt"

IFS=, read -r -a model_list <<< "$MODELS"
IFS=, read -r -a batch_list <<< "$BATCHES"
for model in "${model_list[@]}"; do
  onnx="$ROOT/bench/models/$model.onnx"
  input="$ROOT/bench/models/${model}_input_b32.npy"
  for batch in "${batch_list[@]}"; do
    echo "== $model batch $batch"
    common=(--model "$onnx" --input "$input" --batch "$batch" --name "$model"
            --warmup "$WARMUP" --iters "$ITERS" --max-seconds "$MAX_SECONDS")
    OMP_NUM_THREADS="$THREADS" run_one "$OUT/nnfi_${model}_b$batch.log" \
      "$BUILD/bench/nnfi_infer_bench" "${common[@]}" $REFERENCE \
      --output "$OUT/nnfi_${model}_b$batch.npy"
    run_one "$OUT/ort_${model}_b$batch.log" \
      node "$ROOT/bench/ort/run_ort.js" "${common[@]}" --threads "$THREADS" \
      --output "$OUT/ort_${model}_b$batch.npy"
  done
done

echo
cat "$OUT/header.txt"
"$PY" "$ROOT/bench/report.py" "$OUT"
echo "(logs, outputs and table.md in $OUT)"
