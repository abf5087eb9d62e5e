#!/usr/bin/env bash
# Issue 11 item 2: does the SSL part of the s presets learn? One tokenizer per configuration on
# fmnist-color (10,000 images, 939 steps = x3 of one epoch, seed 0), trained in an embedded mesh,
# then its final DINO collapse statistics and its probes (TokenizerEvaluator defaults).
# Usage: ssl-diagnosis.sh MESHCTL HOME NAME PRESET [--set k=v ...]
set -euo pipefail
MESHCTL=$1; HOME_DIR=$2; NAME=$3; PRESET=$4; shift 4
SETS=()
for s in "$@"; do SETS+=(--set "$s"); done
echo "== $NAME: $PRESET $* ($(date -u +%H:%M:%S))"
"$MESHCTL" tokenizer train --embedded --home "$HOME_DIR" --preset "$PRESET" --steps 939 --seed 0 --train-limit 10000 \
  --name "$NAME" "${SETS[@]}" 2>/dev/null | tail -2
"$MESHCTL" tokenizer eval "$NAME" --embedded --home "$HOME_DIR" --json 2>/dev/null | tr -d "\n " ; echo
echo "== $NAME done ($(date -u +%H:%M:%S))"
