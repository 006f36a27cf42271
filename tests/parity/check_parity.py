#!/usr/bin/python3
"""Checks the C engine against the independent PyTorch reference (python/hybench/reference.py)
through the interop contract of DESIGN.md section 3.

    check_parity.py --hybench bin/hybench --model models/X.conf --seq-len 128 --batch 2 \
                    --seed 1 --workdir DIR [--scale-weights 1,auto] [--tol 1e-4]

Steps:
  1. `hybench init --model M --seed S --out DIR/init.safetensors`; the checkpoint must hold
     exactly the tensors DESIGN.md section 3 names for its config (f32), with the resolved
     config in __metadata__["config"] agreeing with every key of the model file.
  2. random tokens (B, T), uniform over the vocabulary, numpy default_rng(seed), saved as an
     int64 .npy at DIR/tok.npy.
  3. for each weight scale X of --scale-weights:
       X = 1: the engine's own init checkpoint, unchanged;
       X != 1 ("auto" = 0.3 / init_std, i.e. 15 for init_std 0.02): a rewritten checkpoint
         DIR/scaled_X.safetensors (same __metadata__) where every 2-D matrix is multiplied by X
         and every norm gain g becomes g * (1 + 0.1 * N(0, 1)); everything else is unchanged.
         Freshly initialised weights (std 0.02) make attention nearly uniform, so RoPE, window
         and mask bugs barely move the outputs; the scaled weights make attention peaked
         (the mean max attention probability per layer is printed to show it).
     `hybench forward --ckpt C --tokens DIR/tok.npy --out DIR/logits_X.npy
                      --grads DIR/grads_X.safetensors`
     and compare, against the reference computed in float64 from the same f32 weights:
     the logits (B, T, V), the loss (the engine's stdout line `loss <value>`), and the gradient
     of every checkpoint tensor (same names and shapes, f32).

Relative error of a tensor (engine a, reference b):
        rel(a, b) = max|a - b| / max(max|b|, 1e-6)
i.e. the worst absolute difference relative to the largest reference magnitude of that tensor
(a per-tensor, scale-aware criterion that does not blow up on elements near zero). A tensor
passes when rel <= --tol (default 1e-4); NaN/Inf fail.

Prints a table (tensor, shape, max abs diff, rel err, PASS/FAIL) per scale, then one summary
line per scale and a final `parity <model>: PASS|FAIL ...` line. Exit status 1 on any failure,
missing/extra/misshapen gradient, engine error or contract violation; 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from hybench import reference as ref  # noqa: E402
from hybench.checkpoint import read_safetensors, write_safetensors  # noqa: E402

ABS_FLOOR = 1e-6


def rel_error(a, b):
    """(max|a-b|, max|a-b| / max(max|b|, 1e-6)); NaN when a has NaN/Inf or shapes differ."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("nan"), float("nan")
    if a.size == 0:
        return 0.0, 0.0
    if not np.all(np.isfinite(a)):
        return float("nan"), float("nan")
    diff = float(np.max(np.abs(a - b)))
    return diff, diff / max(float(np.max(np.abs(b))), ABS_FLOOR)


def passes(rel, tol):
    return rel == rel and rel <= tol  # NaN fails


def run(cmd, timeout):
    t0 = time.time()
    print("+ " + " ".join(cmd), flush=True)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s"
    except OSError as e:
        return None, "", str(e)
    dt = time.time() - t0
    if r.returncode != 0:
        print(f"  exit status {r.returncode} after {dt:.1f} s", flush=True)
    return r.returncode, r.stdout, r.stderr


def parse_loss(stdout):
    vals = re.findall(r"^\s*loss\s+(\S+)\s*$", stdout, flags=re.M)
    if not vals:
        return None
    try:
        return float(vals[-1])
    except ValueError:
        return None


def typed(key, value):
    """Normalise a config value for comparison between the model file and the checkpoint."""
    if key in ref.Config.BOOL_KEYS:
        return ref.parse_bool(value, key)
    if key in ref.Config.INT_KEYS:
        return int(value)
    if key in ref.Config.FLOAT_KEYS:
        return float(value)
    return str(value)


def scaled_checkpoint(tensors, meta, scale, seed, out):
    rng = np.random.default_rng(seed)
    new = OrderedDict()
    for name, a in tensors.items():
        if ref.is_norm_gain(name):
            b = a * (1.0 + 0.1 * rng.standard_normal(a.shape))
        elif a.ndim == 2:
            b = a * scale
        else:
            b = a
        new[name] = np.asarray(b, dtype=np.float32)
    write_safetensors(out, new, meta)
    return new


class Table:
    def __init__(self):
        self.rows = []

    def add(self, name, shape, diff, rel, ok, note=""):
        self.rows.append((name, shape, diff, rel, ok, note))

    def print(self):
        w = max([len("tensor")] + [len(r[0]) for r in self.rows])
        ws = max([len("shape")] + [len(r[1]) for r in self.rows])
        print(f"  {'tensor':<{w}}  {'shape':<{ws}}  {'max_abs_diff':>12}  {'rel_err':>10}  result")
        for name, shape, diff, rel, ok, note in self.rows:
            d = "-" if diff is None else f"{diff:12.4e}"
            r = "-" if rel is None else f"{rel:10.3e}"
            print(f"  {name:<{w}}  {shape:<{ws}}  {d:>12}  {r:>10}  {'PASS' if ok else 'FAIL'}"
                  + (f"  {note}" if note else ""))


def check_scale(args, label, ckpt_path, cfg, params, tok, tok_path):
    """Runs the engine forward on ckpt_path and compares. Returns (ok, summary text)."""
    wd = args.workdir
    logits_path = os.path.join(wd, f"logits_{label}.npy")
    grads_path = os.path.join(wd, f"grads_{label}.safetensors")
    for pth in (logits_path, grads_path):
        if os.path.exists(pth):
            os.remove(pth)
    rc, out, err = run([args.hybench, "forward", "--ckpt", ckpt_path, "--tokens", tok_path,
                        "--out", logits_path, "--grads", grads_path], args.timeout)
    if rc != 0:
        sys.stdout.write(out)
        sys.stdout.write(err)
        return False, "engine forward failed", float("inf")
    problems = []
    eng_loss = parse_loss(out)
    if eng_loss is None:
        problems.append("no `loss <value>` line on the engine's stdout")
    try:
        eng_logits = np.load(logits_path)
    except Exception as e:  # noqa: BLE001
        eng_logits = None
        problems.append(f"cannot read {logits_path}: {e}")
    try:
        eng_grads, _, gdt = read_safetensors(grads_path, with_dtypes=True)
    except Exception as e:  # noqa: BLE001
        eng_grads, gdt = {}, {}
        problems.append(f"cannot read {grads_path}: {e}")

    stats = {}
    t0 = time.time()
    r_logits, r_loss, r_grads = ref.forward_and_grads(cfg, params, tok, stats=stats)
    t_ref = time.time() - t0

    table = Table()
    B, T = tok.shape
    worst = (0.0, "")
    n_fail = 0

    def record(name, shape, a, b, note=""):
        nonlocal worst, n_fail
        diff, rel = rel_error(a, b)
        ok = passes(rel, args.tol)
        table.add(name, shape, diff, rel, ok, note)
        if not ok:
            n_fail += 1
        r = rel if rel == rel else float("inf")
        if r > worst[0] or not worst[1]:
            worst = (r, name)

    # logits
    want_shape = (B, T, cfg.vocab)
    if eng_logits is not None:
        if eng_logits.dtype != np.float32:
            problems.append(f"logits dtype {eng_logits.dtype}, contract says float32")
        if tuple(eng_logits.shape) != want_shape:
            table.add("logits", str(list(eng_logits.shape)), None, None, False, f"expected {list(want_shape)}")
            n_fail += 1
        else:
            record("logits", str(list(want_shape)), eng_logits, r_logits)
    # loss
    if eng_loss is not None:
        record("loss", "[]", np.array([eng_loss]), np.array([r_loss]),
               f"engine {eng_loss:.9g} ref {r_loss:.9g}")
    # gradients
    for name, shape in ref.param_shapes(cfg).items():
        sh = str(list(shape))
        if name not in eng_grads:
            table.add(f"grad {name}", sh, None, None, False, "MISSING in engine output")
            n_fail += 1
            continue
        g = eng_grads[name]
        if tuple(g.shape) != tuple(shape):
            table.add(f"grad {name}", sh, None, None, False, f"engine shape {list(g.shape)}")
            n_fail += 1
            continue
        note = "" if gdt.get(name) == "F32" else f"dtype {gdt.get(name)} (contract: F32)"
        if note:
            problems.append(f"grad {name}: {note}")
        record(f"grad {name}", sh, g, r_grads[name])
    extra = [n for n in eng_grads if n not in r_grads]
    for n in extra:
        problems.append(f"unexpected gradient tensor {n} (not in the checkpoint)")

    table.print()
    peaks = ", ".join(f"{pre.split('.')[-1]}{kind}:{mp:.2f}" for pre, kind, mp in stats.get("attn_max_p", []))
    if peaks:
        print(f"  mean max attention probability per layer (1/#keys = uniform): {peaks}")
    print(f"  reference forward+backward (float64): {t_ref:.2f} s")
    for p in problems:
        print(f"  CONTRACT: {p}")
    ok = n_fail == 0 and not problems
    n = len(table.rows)
    summary = (f"{'PASS' if ok else 'FAIL'} {n - n_fail}/{n} tensors within {args.tol:g}, "
               f"worst rel err {worst[0]:.3g} ({worst[1] or '-'})"
               + (f", {len(problems)} contract problem(s)" if problems else ""))
    return ok, summary, worst[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description="engine vs PyTorch reference parity (DESIGN.md section 3)")
    ap.add_argument("--hybench", default="bin/hybench", help="engine binary")
    ap.add_argument("--model", required=True, help="model config file (key = value)")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--scale-weights", default="1,auto",
                    help="comma list of weight multipliers; 'auto' = 0.3 / init_std (default: 1,auto)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative error per tensor")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per engine call")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # the reference is tiny; leave the cores to the engine

    os.makedirs(args.workdir, exist_ok=True)
    model_name = os.path.splitext(os.path.basename(args.model))[0]

    def fail(msg):
        print(f"ERROR: {msg}")
        print(f"parity {model_name}: FAIL ({msg})")
        return 1

    try:
        with open(args.model) as f:
            conf_raw = ref.parse_config_text(f.read())
    except (OSError, ValueError) as e:
        return fail(f"cannot read model config: {e}")
    model_name = conf_raw.get("name", model_name)

    # 1. init
    init_path = os.path.join(args.workdir, "init.safetensors")
    if os.path.exists(init_path):
        os.remove(init_path)
    rc, out, err = run([args.hybench, "init", "--model", args.model, "--seed", str(args.seed),
                        "--out", init_path], args.timeout)
    if rc != 0:
        sys.stdout.write(out)
        sys.stdout.write(err)
        return fail("engine init failed")
    try:
        tensors, meta, dtypes = read_safetensors(init_path, with_dtypes=True)
    except Exception as e:  # noqa: BLE001
        return fail(f"cannot read the init checkpoint: {e}")
    if "config" not in meta:
        return fail("init checkpoint has no __metadata__['config']")
    try:
        cfg = ref.parse_config(meta["config"])
    except ValueError as e:
        return fail(f"checkpoint config: {e}")
    problems = ref.check_params(cfg, tensors)
    problems += [f"tensor {n}: dtype {d}, contract says F32" for n, d in dtypes.items() if d != "F32"]
    for k, v in conf_raw.items():
        if k not in cfg.raw:  # keys the model needs were already required by parse_config
            print(f"  note: config key {k} of {args.model} is not in the checkpoint's resolved config")
            continue
        try:
            same = typed(k, v) == typed(k, cfg.raw[k])
        except ValueError:
            same = str(v) == str(cfg.raw[k])
        if not same:
            problems.append(f"config key {k}: model file {v!r}, checkpoint {cfg.raw[k]!r}")
    if problems:
        for p in problems:
            print(f"  CONTRACT: {p}")
        return fail(f"init checkpoint does not match the spec ({len(problems)} problem(s))")
    untested = sorted(set(cfg.pattern) - ref.TESTED_AGAINST_ENGINE)
    print(f"model {cfg.name}: pattern {cfg.pattern}, vocab {cfg.vocab}, d_model {cfg.d_model}, "
          f"{cfg.n_heads}x{cfg.head_dim} heads, mlp {cfg.mlp_hidden}, window {cfg.window}, "
          f"rope_F {cfg.rope_F}, rope_S {cfg.rope_S}, tied {cfg.tie_embeddings}; T {args.seq_len}, B {args.batch}")
    if untested:
        print(f"  note: reference mixers {''.join(untested)} have never been checked against an engine before")

    # 2. tokens
    tok = np.random.default_rng(args.seed).integers(0, cfg.vocab, size=(args.batch, args.seq_len), dtype=np.int64)
    tok_path = os.path.join(args.workdir, "tok.npy")
    np.save(tok_path, tok)

    # 3. per scale
    init_std = cfg.init_std if cfg.init_std else 0.02
    scales = []
    for s in args.scale_weights.split(","):
        s = s.strip()
        if not s:
            continue
        scales.append(0.3 / init_std if s == "auto" else float(s))
    all_ok, summaries, worsts = True, [], []
    for i, sc in enumerate(scales):
        label = f"x{sc:g}"
        print(f"\n== {cfg.name}: weights {label} ==")
        if sc == 1.0:
            ckpt, params = init_path, tensors
        else:
            ckpt = os.path.join(args.workdir, f"scaled_{label}.safetensors")
            params = scaled_checkpoint(tensors, meta, sc, args.seed + 1000 + i, ckpt)
        ok, summary, worst = check_scale(args, label, ckpt, cfg, params, tok, tok_path)
        all_ok &= ok
        summaries.append(f"weights {label}: {summary}")
        worsts.append(f"{label} {'ok' if ok else 'FAIL'} worst {worst:.2g}")
    print()
    for s in summaries:
        print(f"  {cfg.name} {s}")
    print(f"parity {cfg.name} [{cfg.pattern}"
          f"{' w' + str(cfg.window) if 'S' in cfg.pattern else ''}, rope_F {'on' if cfg.rope_F else 'off'}"
          f", rope_S {'on' if cfg.rope_S else 'off'}, tied {'on' if cfg.tie_embeddings else 'off'}]: "
          f"{'PASS' if all_ok else 'FAIL'} (rel err per weight scale: {'; '.join(worsts)}; tol {args.tol:g})")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
