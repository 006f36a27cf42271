#!/usr/bin/python3
"""The Python bridge (python/hybench) against the engine; run by tests/cli/python.sh.

    check_bridge.py --hybench bin/hybench --workdir DIR --train MODEL.conf MODEL.conf ...

For each model config (tests/cli/python.sh passes the parity configs, tests/parity/*.conf):
  1. `hybench init`, then hybench.load_model (float32, the default): its logits on random
     tokens (B 2, T 64) equal `hybench forward`'s within 1e-5 (relative error as in
     check_parity.py: max|a - b| / max|b|).
  2. save_checkpoint of the unchanged model writes the init file's own bytes, and `hybench
     forward` on the saved file writes the same logits file; so does it on the file saved from
     a HybenchModel built from the config and given the same state_dict.
  3. an edited model (every matrix x 2, norm gains x (1 + 0.1 N(0, 1))) saved: `hybench
     forward` on it agrees with the model within 1e-5, and load_model gives back its weights.
Then --train's config is trained by `hybench train` on a corpus written by hybench.write_tok:
load_model(RUN) takes the run's latest checkpoint, matches `hybench forward` within 1e-5 and
saves back byte-identical. Last, .tok files: write_tok and `hybench tokens from-npy` write the
same bytes (u16 and u32 widths), read_tok reads what the engine wrote, and read_tok rejects a
truncated file and an id >= vocab with one-line FormatErrors naming the file and field.

Prints one line per check; exits 1 if any fails.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hybench  # noqa: E402
from check_parity import rel_error  # noqa: E402  (this directory is on the path as the script's own)

TOL = 1e-5
B, T = 2, 64


class Checks:
    def __init__(self):
        self.n = self.failed = 0

    def __call__(self, ok, what):
        self.n += 1
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        return ok


def same_bytes(p, q):
    with open(p, "rb") as f, open(q, "rb") as g:
        return f.read() == g.read()


class Engine:
    def __init__(self, binary):
        self.binary = binary

    def __call__(self, *args):
        r = subprocess.run([self.binary, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError(f"hybench {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def logits(self, ckpt, tokens_npy, out):
        self("forward", "--ckpt", ckpt, "--tokens", tokens_npy, "--out", out)
        return np.load(out)


def model_logits(model, tokens):
    with torch.no_grad():
        return model(tokens).numpy()


def check_logits(check, engine, model, ckpt, tokens, tokens_npy, out, what):
    """Model logits vs `hybench forward` on ckpt (which writes them to out)."""
    _, err = rel_error(model_logits(model, tokens), engine.logits(ckpt, tokens_npy, out))
    check(err <= TOL, f"{what}: logits vs hybench forward, rel err {err:.2e} (tol {TOL:g})")


def edit(model, seed):
    """Every matrix x 2, every norm gain x (1 + 0.1 N(0, 1)): weights no engine wrote."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if hybench.reference.is_norm_gain(name):
                p.mul_(torch.from_numpy(1 + 0.1 * rng.standard_normal(p.shape)).to(p.dtype))
            elif p.ndim == 2:
                p.mul_(2)


def check_model(check, engine, conf, wd, seed):
    name = os.path.splitext(os.path.basename(conf))[0]
    init = os.path.join(wd, f"{name}.safetensors")
    engine("init", "--model", conf, "--seed", seed, "--out", init)
    model = hybench.load_model(init)
    tokens = np.random.default_rng(seed).integers(0, model.config.vocab, size=(B, T), dtype=np.int64)
    tokens_npy = os.path.join(wd, f"{name}_tok.npy")
    np.save(tokens_npy, tokens)
    init_npy = os.path.join(wd, f"{name}_init.npy")
    check_logits(check, engine, model, init, tokens, tokens_npy, init_npy, f"{name} init")

    saved = os.path.join(wd, f"{name}_saved.safetensors")
    hybench.save_checkpoint(model, saved)
    check(same_bytes(init, saved), f"{name}: save_checkpoint of the unchanged model writes the init file's bytes")
    saved_npy = os.path.join(wd, f"{name}_saved.npy")
    engine.logits(saved, tokens_npy, saved_npy)
    check(same_bytes(init_npy, saved_npy), f"{name}: hybench forward on the saved file writes the same logits file")
    fresh = hybench.HybenchModel(model.config)  # built from a config: its own tensor order and metadata
    fresh.load_state_dict(model.state_dict())
    fresh_ckpt, fresh_npy = os.path.join(wd, f"{name}_fresh.safetensors"), os.path.join(wd, f"{name}_fresh.npy")
    hybench.save_checkpoint(fresh, fresh_ckpt)
    engine.logits(fresh_ckpt, tokens_npy, fresh_npy)
    check(same_bytes(init_npy, fresh_npy), f"{name}: a HybenchModel built from the config saves a file hybench "
                                           "forward reads, same logits file")

    edit(model, seed)
    edited = os.path.join(wd, f"{name}_edited.safetensors")
    hybench.save_checkpoint(model, edited)
    check_logits(check, engine, model, edited, tokens, tokens_npy, os.path.join(wd, f"{name}_edited.npy"),
                 f"{name} edited")
    back = hybench.load_model(edited)
    check(all(torch.equal(p, back.get_parameter(n)) for n, p in model.named_parameters()),
          f"{name}: load_model of the edited file gives back its weights exactly")


def check_run(check, engine, conf, wd, seed):
    """A `hybench train` run on a corpus written by write_tok, loaded by its directory."""
    init = os.path.join(wd, "run_init.safetensors")  # the resolved config, defaults included
    engine("init", "--model", conf, "--seed", seed, "--out", init)
    vocab = hybench.load_model(init).config.vocab
    corpus = os.path.join(wd, "corpus.tok")
    hybench.write_tok(corpus, np.random.default_rng(seed).integers(0, vocab, size=20000), vocab)
    run = os.path.join(wd, "run")
    engine("train", "--model", conf, "--data", corpus, "--seq-len", 32, "--batch", 4, "--tokens", 1024,
           "--ckpt-at", "512,1024", "--out", run, "--quiet")
    model = hybench.load_model(run)
    latest = os.path.join(run, "checkpoints", "tok000000001024.safetensors")
    check(model.checkpoint_path == latest and model.metadata.get("tokens") == "1024",
          f"load_model(RUN) takes the latest checkpoint: {model.checkpoint_path}")
    tokens = np.random.default_rng(seed).integers(0, vocab, size=(B, T), dtype=np.int32)
    tokens_npy = os.path.join(wd, "run_tok.npy")
    np.save(tokens_npy, tokens)
    check_logits(check, engine, model, latest, tokens, tokens_npy, os.path.join(wd, "run.npy"),
                 f"{model.config.name} trained 1024 tokens")
    saved = os.path.join(wd, "run_saved.safetensors")
    hybench.save_checkpoint(model, saved)
    check(same_bytes(latest, saved), "save_checkpoint of a trained checkpoint writes its bytes")


def expect_format_error(check, fn, needle, what):
    try:
        fn()
    except hybench.FormatError as e:
        return check(needle in str(e) and "\n" not in str(e), f"{what}: {e}")
    return check(False, f"{what}: no FormatError")


def check_tok(check, engine, wd):
    ids = np.random.default_rng(3).integers(0, 300, size=(3, 50), dtype=np.int64)
    ids[1, 7] = 299
    npy = os.path.join(wd, "ids.npy")
    np.save(npy, ids)
    for vocab in (300, 70000):  # u16 and u32 ids
        ours, theirs = os.path.join(wd, f"py{vocab}.tok"), os.path.join(wd, f"engine{vocab}.tok")
        hybench.write_tok(ours, ids, vocab)
        engine("tokens", "from-npy", "--in", npy, "--out", theirs, "--vocab", vocab)
        check(same_bytes(ours, theirs), f"write_tok and hybench tokens from-npy write the same bytes (vocab {vocab})")
        back, v = hybench.read_tok(theirs, with_vocab=True)
        check(v == vocab and back.dtype == np.int64 and np.array_equal(back, ids.reshape(-1)),
              f"read_tok reads the engine's file back (vocab {vocab})")
    info = engine("tokens", "info", "--in", os.path.join(wd, "py300.tok"))
    check(f"count = {ids.size}\n" in info and "max_id = 299\n" in info, "hybench tokens info reads write_tok's file")
    batch = os.path.join(wd, "batch.npy")
    engine("tokens", "to-npy", "--in", os.path.join(wd, "py300.tok"), "--seq-len", 50, "--batch", 3, "--out", batch)
    check(np.array_equal(np.load(batch), ids), "hybench tokens to-npy of write_tok's file gives the array back")

    raw = open(os.path.join(wd, "py300.tok"), "rb").read()
    bad = os.path.join(wd, "bad.tok")
    with open(bad, "wb") as f:
        f.write(raw[:-1])
    expect_format_error(check, lambda: hybench.read_tok(bad), "bad.tok: count: truncated", "read_tok, truncated")
    with open(bad, "wb") as f:
        f.write(raw[:16] + (100).to_bytes(4, "little") + raw[20:])
    want = f"bad.tok: token {int(np.flatnonzero(ids.reshape(-1) >= 100)[0])}: id"
    expect_format_error(check, lambda: hybench.read_tok(bad), want, "read_tok, id >= vocab")
    expect_format_error(check, lambda: hybench.load_model(bad), "bad.tok: header length", "load_model, not a checkpoint")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hybench", default="bin/hybench")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train", required=True, help="model config of the short training run")
    ap.add_argument("models", nargs="+", help="model configs (key = value)")
    a = ap.parse_args()
    torch.set_num_threads(1)  # the machine's cores belong to the engine
    os.makedirs(a.workdir, exist_ok=True)
    check, engine = Checks(), Engine(a.hybench)
    try:
        for conf in a.models:
            check_model(check, engine, conf, a.workdir, a.seed)
        check_run(check, engine, a.train, a.workdir, a.seed)
        check_tok(check, engine, a.workdir)
    except (RuntimeError, ValueError, OSError) as e:
        check(False, f"stopped: {e}")
    print(f"check_bridge: {check.n - check.failed}/{check.n} checks passed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
