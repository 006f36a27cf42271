#!/usr/bin/python3
"""A stand-in engine for testing check_parity.py itself (used by selftest.py), NOT a model
implementation under test: it implements `init` and `forward` of the interop contract with
python/hybench/reference.py's code run in float32, so that

  * the whole check_parity pipeline (files, names, shapes, table, exit status) runs without the
    C engine, and
  * the 1e-4 tolerance is shown to be reachable by float32 arithmetic at both weight scales.

FAKE_HYBENCH_MUTATE injects one bug so that the checker can be shown to catch it:
  window+1      S layers use window w + 1          (off-by-one band)
  rope-off      no RoPE anywhere
  drop-grad     the gradient of norm_f.weight is not written
  no-loss       no `loss` line on stdout
init: matrices N(0, init_std), norm gains 1 (not necessarily the C engine's scheme).
"""
import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from hybench import reference as ref  # noqa: E402
from hybench.checkpoint import load_checkpoint, write_safetensors  # noqa: E402


def load_tokens(path):
    tok = np.load(path)
    if tok.ndim != 2 or tok.dtype not in (np.int32, np.int64):
        raise ValueError(f"{path}: expected an int32/int64 (B, T) array, got {tok.dtype} {tok.shape}")
    return tok.astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init")
    i.add_argument("--model", required=True)
    i.add_argument("--seed", type=int, default=1)
    i.add_argument("--out", required=True)
    f = sub.add_parser("forward")
    f.add_argument("--ckpt", required=True)
    f.add_argument("--tokens", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--grads")
    a = ap.parse_args()
    mutate = os.environ.get("FAKE_HYBENCH_MUTATE", "")

    if a.cmd == "init":
        with open(a.model) as fh:
            raw = ref.parse_config_text(fh.read())
        cfg = ref.Config(raw)
        text = "".join(f"{k} = {v}\n" for k, v in raw.items())
        params = ref.init_params(cfg, seed=a.seed, dtype=torch.float32)
        write_safetensors(a.out, OrderedDict((n, t.numpy()) for n, t in params.items()), {"config": text})
        return 0

    cfg, params, meta, _ = load_checkpoint(a.ckpt)
    if mutate == "window+1":
        cfg.window += 1
    if mutate == "rope-off":
        cfg.rope_F = cfg.rope_S = False
    logits, loss, grads = ref.forward_and_grads(cfg, params, load_tokens(a.tokens), dtype=torch.float32)
    np.save(a.out, logits.astype(np.float32))
    if a.grads:
        if mutate == "drop-grad":
            grads.pop("norm_f.weight")
        write_safetensors(a.grads, grads, meta)
    if mutate != "no-loss":
        print(f"loss {loss:.9g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
