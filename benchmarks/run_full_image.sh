#!/usr/bin/env bash
# The paper's full-image baselines (FC, 2 layers of 256; a 2-layer CNN) on every
# classification task: 1,100,000 fresh training canvases each (20 epochs of the 55,000
# training digits, new translation/clutter every time), Adam 1e-3, batch 128, one torch
# thread; scored on the whole fixed 10,000-image test split.  Figures: benchmarks/RESULTS.md.
#   bash benchmarks/run_full_image.sh [runs/full-image]
set -euo pipefail
out=${1:-runs/full-image}
for env in RAM-MNIST-v0 RAM-TranslatedMNIST-v0 RAM-ClutteredMNIST-v0 RAM-ClutteredMNIST100-v0; do
  for algo in fc cnn; do
    ram train --env "$env" --algo "$algo" --steps 1100000 --threads 1 --no-progress --out "$out/$algo-$env"
  done
done
