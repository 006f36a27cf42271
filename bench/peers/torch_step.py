#!/usr/bin/python3
"""PyTorch peer for the training-throughput benchmark: the hybrid-bench model (DESIGN.md
section 3, layer kinds F and S) written plainly in PyTorch, float32 (or, with --autocast bf16,
under torch.autocast("cpu", bfloat16): the mixed precision a PyTorch user would pick, whose
matmuls run on oneDNN's bf16 kernels), trained with AdamW on random tokens. Prints

    peak_rss_mb <value>       (the process's peak resident memory, MiB)
    tokens_per_s <value>      (the LAST line)

= batch * seq_len * timed_steps / wall seconds of the timed steps (every position of every
sequence is processed; the loss has batch * (seq_len - 1) targets). The first --warmup-steps
steps are run but not timed.

Same semantics as the engine: pre-norm, RMSNorm(x; g) = x / sqrt(mean(x^2) + 1e-5) * g, SwiGLU
MLP, bias-free linears, RoPE (base 10000, rotate-half) on F layers iff --rope-F and on S layers
iff --rope-S, scores / sqrt(head_dim), F causal, S keys t - w < j <= t, tied or separate output
head, mean next-token cross-entropy. One deliberate difference from the engine: S is computed
like F with a band mask, i.e. O(T^2) work and memory, because that is what a plain PyTorch
implementation does (PyTorch 1.13 has no fused sliding-window attention). Only F and S layers.

Threads: torch.set_num_threads(--threads) sets the OpenMP pool but NOT the pthread pool of
Debian's OpenBLAS, which does the float32 matmuls (torch is built with BLAS_INFO=generic and
calls sgemm_ through libblas.so.3, the alternatives symlink). So this script also sets
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before importing torch and calls
openblas_set_num_threads(); it prints which BLAS library is actually mapped and its core type.
Run it with OPENBLAS_CORETYPE=SKYLAKEX to pin the kernel choice (the auto-detected core on the
benchmark machine is SkylakeX as well). With --threads > 1 it sets OMP_WAIT_POLICY=PASSIVE
unless the environment already sets it (see below at the environment setup for why).

Example:
  OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 bench/peers/torch_step.py --vocab 256 --d-model 64 \
      --pattern SF --window 8 --n-heads 4 --head-dim 16 --mlp-hidden 192 --seq-len 128 --batch 32 \
      --steps 20 --warmup-steps 3 --threads 1
"""
import argparse
import ctypes
import contextlib
import math
import os
import resource
import sys
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch peer: training steps/s of the hybrid model")
    onoff = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}
    ap.add_argument("--vocab", type=int, default=256)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--pattern", default=None, help="layer kinds, e.g. SF or SSSF (F and S only)")
    ap.add_argument("--n-layers", type=int, default=None, help="all-F model of this depth when --pattern is absent")
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=16)
    ap.add_argument("--mlp-hidden", type=int, default=192)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--rope-F", type=lambda s: onoff[s.lower()], default=True)
    ap.add_argument("--rope-S", type=lambda s: onoff[s.lower()], default=True)
    ap.add_argument("--tie-embeddings", type=lambda s: onoff[s.lower()], default=False)
    ap.add_argument("--init-std", type=float, default=0.02)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20, help="timed steps")
    ap.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS threads (default: --threads)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--autocast", choices=["off", "bf16"], default="off",
                    help="bf16: forward and loss under torch.autocast('cpu', torch.bfloat16)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.pattern is None:
        a.pattern = "F" * (a.n_layers or 2)
    elif a.n_layers is not None and a.n_layers != len(a.pattern):
        ap.error(f"--n-layers {a.n_layers} disagrees with --pattern {a.pattern}")
    if not a.pattern or set(a.pattern) - set("FS"):
        ap.error("this peer implements layer kinds F and S only")
    if a.blas_threads is None:
        a.blas_threads = a.threads
    if a.head_dim % 2:
        ap.error("--head-dim must be even (RoPE)")
    return a


if __name__ == "__main__":
    ARGS = parse_args()
    # Must happen before torch (and with it OpenBLAS / libgomp) is loaded.
    os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.blas_threads)
    if ARGS.threads > 1:
        # Two spinning pools (libgomp's and OpenBLAS's pthreads) on the same cores: measured on the
        # 2-core benchmark machine, 2 threads with libgomp's default or ACTIVE wait policy ran 3-5x
        # SLOWER than 1 thread; PASSIVE fixes it. Override by setting OMP_WAIT_POLICY yourself.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(T, dh):
    inv = 10000.0 ** (-2.0 * torch.arange(dh // 2, dtype=torch.float64) / dh)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], -1)
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class Attention(nn.Module):
    def __init__(self, a, kind):
        super().__init__()
        hd = a.n_heads * a.head_dim
        self.H, self.dh = a.n_heads, a.head_dim
        self.q_proj = nn.Linear(a.d_model, hd, bias=False)
        self.k_proj = nn.Linear(a.d_model, hd, bias=False)
        self.v_proj = nn.Linear(a.d_model, hd, bias=False)
        self.o_proj = nn.Linear(hd, a.d_model, bias=False)
        self.rope = a.rope_F if kind == "F" else a.rope_S
        T = a.seq_len
        t = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        allowed = j <= t
        if kind == "S":
            allowed &= j > t - a.window  # plain band mask: O(T^2), see the module docstring
        self.register_buffer("blocked", ~allowed, persistent=False)
        cos, sin = rope_tables(T, a.head_dim)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, u):
        B, T, _ = u.shape
        q = self.q_proj(u).view(B, T, self.H, self.dh).transpose(1, 2)
        k = self.k_proj(u).view(B, T, self.H, self.dh).transpose(1, 2)
        v = self.v_proj(u).view(B, T, self.H, self.dh).transpose(1, 2)
        if self.rope:
            q, k = apply_rope(q, self.cos[:T], self.sin[:T]), apply_rope(k, self.cos[:T], self.sin[:T])
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.dh))
        p = torch.softmax(s.masked_fill(self.blocked[:T, :T], float("-inf")), dim=-1)
        return self.o_proj((p @ v).transpose(1, 2).reshape(B, T, self.H * self.dh))


class MLP(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.gate_proj = nn.Linear(a.d_model, a.mlp_hidden, bias=False)
        self.up_proj = nn.Linear(a.d_model, a.mlp_hidden, bias=False)
        self.down_proj = nn.Linear(a.mlp_hidden, a.d_model, bias=False)

    def forward(self, u):
        return self.down_proj(F.silu(self.gate_proj(u)) * self.up_proj(u))


class Block(nn.Module):
    def __init__(self, a, kind):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(a.d_model), RMSNorm(a.d_model)
        self.attn, self.mlp = Attention(a, kind), MLP(a)

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.mlp(self.norm2(h))


class Model(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.tok_emb = nn.Embedding(a.vocab, a.d_model)
        self.layers = nn.ModuleList(Block(a, k) for k in a.pattern)
        self.norm_f = RMSNorm(a.d_model)
        self.lm_head = None if a.tie_embeddings else nn.Linear(a.d_model, a.vocab, bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=a.init_std)

    def forward(self, tok):
        x = self.tok_emb(tok)
        for layer in self.layers:
            x = layer(x)
        x = self.norm_f(x)
        return x @ (self.tok_emb.weight if self.lm_head is None else self.lm_head.weight).t()


def blas_report(threads):
    """Which BLAS is mapped into this process, and set its thread count."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(path)
            if any(s in base for s in ("blas", "lapack", "mkl", "blis", "dnnl")):
                libs.add(path)
    info = []
    for lib in sorted(libs):
        real = os.path.realpath(lib)
        info.append(lib if real == lib else f"{lib} -> {real}")
    core = ""
    for lib in sorted(libs):
        if "openblas" not in os.path.basename(lib):
            continue
        try:
            L = ctypes.CDLL(lib)
            L.openblas_set_num_threads(ctypes.c_int(threads))
            L.openblas_get_corename.restype = ctypes.c_char_p
            L.openblas_get_config.restype = ctypes.c_char_p
            core = (f"openblas core {L.openblas_get_corename().decode()}, threads {L.openblas_get_num_threads()}, "
                    f"config: {L.openblas_get_config().decode()}")
            break
        except (OSError, AttributeError):
            continue
    return info, core


def main(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    model = Model(a)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    n_params = sum(p.numel() for p in model.parameters())
    g = torch.Generator().manual_seed(a.seed + 1)
    total = a.warmup_steps + a.steps
    batches = [torch.randint(0, a.vocab, (a.batch, a.seq_len), generator=g) for _ in range(min(total, 8))]

    _ = torch.ones(64, 64) @ torch.ones(64, 64)  # make sure BLAS is loaded before the report
    libs, core = blas_report(a.blas_threads)
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    for lib in libs:
        print(f"blas: {lib}")
    print(f"blas: {core or 'no OpenBLAS mapped'}")
    print(f"model: pattern {a.pattern}, window {a.window}, vocab {a.vocab}, d {a.d_model}, "
          f"{a.n_heads}x{a.head_dim} heads, mlp {a.mlp_hidden}, tied {a.tie_embeddings}, params {n_params}; "
          f"T {a.seq_len}, B {a.batch}, steps {a.warmup_steps} warm-up + {a.steps} timed, autocast {a.autocast}")

    def precision():
        if a.autocast == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    t_start = None
    for step in range(total):
        if step == a.warmup_steps:
            t_start = time.perf_counter()
        tok = batches[step % len(batches)]
        with precision():
            logits = model(tok)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), tok[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    lossv = float(loss.detach())  # forces completion (CPU is synchronous anyway)
    elapsed = time.perf_counter() - t_start
    tps = a.batch * a.seq_len * a.steps / elapsed
    print(f"final loss {lossv:.4f}, {elapsed / max(a.steps, 1) * 1e3:.1f} ms/step")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
    print(f"tokens_per_s {tps:.1f}")


if __name__ == "__main__":
    if ARGS.steps < 1:
        sys.exit("--steps must be >= 1")
    main(ARGS)
