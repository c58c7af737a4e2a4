#!/usr/bin/env bash
# What bf16 costs where oneDNN has no bf16 instructions: the same beta-VAE run, alone, one thread,
# with oneDNN capped at AVX-512 core (Skylake/Cascade Lake: bf16 emulated), AVX-512 bf16 (Cooper Lake),
# and everything this CPU has (AMX).
set -u; mkdir -p results/precision/isa
# run from the repository root with its environment active
for isa in AVX512_CORE AVX512_CORE_BF16 ALL; do for p in fp32 bf16; do
  out=results/precision/isa/$isa-$p; rm -rf $out
  ONEDNN_MAX_CPU_ISA=$isa python -m bench.cli run --methods beta_vae --seeds 0 --steps 500 --precision $p \
     --threads 1 --jobs 1 --quick --metrics beta_vae --no-progress --out $out > $out.log 2>&1
  echo "$isa $p $(python -c "
import pandas as pd,glob; d=pd.read_csv(glob.glob('$out/runs/*/log.csv')[0]); print(round(d['images_per_s'].iloc[1:].median()))")"
done; done
