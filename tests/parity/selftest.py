#!/usr/bin/python3
"""Self-checks of the PyTorch reference (python/hybench/reference.py) and of check_parity.py,
runnable without the C engine. Run by tests/parity/run.sh before the engine parity checks.

    /usr/bin/python3 tests/parity/selftest.py [-k substring] [--quick]

What is checked:
  * safetensors reader/writer against a hand-built file; config parser.
  * RoPE: position 0 is the identity, norms are kept, rotate-half pairing (element j with
    j + dh/2, inv_freq_i = 10000^(-2i/dh)), q.k depends only on the relative position.
  * masks: F is causal; S with window w allows exactly t-w < j <= t; S with w >= T equals F
    for the whole model; receptive field of stacked S layers measured by gradients (one layer
    reaches w-1 back, k layers k(w-1)).
  * a second, independent implementation of the F/S model in numpy with explicit per-position
    loops gives the same logits.
  * gradients: torch.autograd.gradcheck in float64 on tiny models (F/S and L/M/G).
  * tied embeddings == untied with lm_head a copy of tok_emb.
  * causality of every mixer (a later token never changes an earlier logit).
  * L/M/G recurrences against their parallel/alternative forms (Lightning decayed quadratic form,
    Mamba-2 SSD quadratic form, Gated DeltaNet delta-rule form), conv1d convention.
  * sensitivity: with the scaled weights used by check_parity.py, an off-by-one window or a
    RoPE convention swap moves the outputs far beyond the 1e-4 tolerance.
  * check_parity.py end to end with fake_hybench.py (float32 implementation of the contract):
    passes; and fails on injected bugs (window off by one, missing gradient).
"""
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import OrderedDict

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from hybench import reference as ref  # noqa: E402
from hybench.checkpoint import read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def cfg_of(**kw):
    base = dict(name="t", vocab=13, d_model=8, n_heads=2, head_dim=4, mlp_hidden=12, pattern="SF",
                window=3, rope_F="on", rope_S="on", tie_embeddings="off", init_std=0.02,
                expand=2, state_size=4, mamba_head_dim=4)
    base.update({k: str(v) for k, v in kw.items()})
    return ref.Config(base)


def params_of(cfg, seed=0, std=0.5, gain_noise=0.1):
    """Random float64 parameters with peaked attention (std 0.5) and non-trivial gains."""
    p = ref.init_params(cfg, seed=seed, std=std)
    g = torch.Generator().manual_seed(seed + 7)
    for n in p:
        if ref.is_norm_gain(n):
            p[n] = p[n] * (1 + gain_noise * torch.randn(p[n].shape, generator=g, dtype=torch.float64))
    return p


def tokens_of(cfg, B, T, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, cfg.vocab, (B, T), generator=g)


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6))


def logits_np(cfg, p, tok):
    with torch.no_grad():
        return ref.forward(cfg, p, tok).numpy()


# ------------------------------------------------------------------------------------------
@test
def safetensors_roundtrip():
    # hand-built file: header length LE u64, JSON, raw LE data
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    b = np.array([1.5, -2.0], dtype="<f8")
    hdr = ('{"__metadata__":{"config":"x = 1"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},'
           '"b":{"dtype":"F64","shape":[2],"data_offsets":[24,40]}}').encode()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "h.safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(hdr)) + hdr + a.tobytes() + b.tobytes())
        t, meta = read_safetensors(path)
        assert meta == {"config": "x = 1"}, meta
        assert np.array_equal(t["a"], a) and np.array_equal(t["b"], b)
        # writer -> reader, and the writer's header is plain JSON after an 8-byte LE length
        src = OrderedDict([("w", np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)),
                           ("i", np.array([[1, 2]], dtype=np.int64)), ("s", np.float32(3.0).reshape(()))])
        path2 = os.path.join(d, "w.safetensors")
        write_safetensors(path2, src, {"config": "a = b\nc = d\n"})
        raw = open(path2, "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        import json
        h = json.loads(raw[8:8 + n])
        assert h["w"]["dtype"] == "F32" and h["w"]["shape"] == [3, 5] and h["i"]["dtype"] == "I64"
        assert (8 + n) % 8 == 0
        t2, meta2 = read_safetensors(path2)
        assert meta2 == {"config": "a = b\nc = d\n"}
        for k in src:
            assert t2[k].dtype == src[k].dtype and np.array_equal(t2[k], src[k]), k


@test
def config_parse():
    text = """# comment line
    name = m   # trailing comment
    vocab = 64
    d_model = 32
    n_heads = 2
    head_dim = 16
    mlp_hidden = 64
    pattern = SSSF
    window = 16
    rope_F = off
    rope_S = true
    tie_embeddings = 1
    init_std = 0.02
    some_future_key = whatever
    """
    c = ref.parse_config(text)
    assert (c.name, c.vocab, c.d_model, c.n_heads, c.head_dim, c.mlp_hidden, c.pattern, c.window) == \
        ("m", 64, 32, 2, 16, 64, "SSSF", 16)
    assert c.rope_F is False and c.rope_S is True and c.tie_embeddings is True and c.init_std == 0.02
    for v, want in (("on", True), ("OFF", False), ("True", True), ("false", False), ("1", True), ("0", False)):
        assert ref.parse_bool(v) is want
    for bad in ("vocab = 64\n", text.replace("window = 16", "")):
        try:
            ref.parse_config(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("missing keys accepted")
    shapes = ref.param_shapes(c)
    assert "lm_head.weight" not in shapes and len(shapes) == 1 + 4 * 9 + 1
    assert shapes["layers.3.attn.o_proj.weight"] == (32, 32) and shapes["layers.0.mlp.down_proj.weight"] == (32, 64)
    for f in ("ffff.conf", "sssf_w16.conf", "sssf_w16_nope.conf"):
        with open(os.path.join(HERE, f)) as fh:
            ref.parse_config(fh.read())


@test
def rope_properties():
    dh, T = 8, 40
    cos, sin = ref.rope_cos_sin(T, dh, torch.float64)
    x = torch.randn(3, T, dh, dtype=torch.float64)
    y = ref.apply_rope(x, cos, sin)
    assert torch.allclose(y[:, 0], x[:, 0], atol=0, rtol=0)                       # position 0: identity
    assert torch.allclose(y.norm(dim=-1), x.norm(dim=-1), atol=1e-12)             # a rotation
    # rotate-half pairing: basis vector e_j (j < dh/2) rotates in the (j, j + dh/2) plane
    for j in range(dh // 2):
        f = 10000.0 ** (-2.0 * j / dh)
        e = torch.zeros(1, T, dh, dtype=torch.float64)
        e[..., j] = 1
        r = ref.apply_rope(e, cos, sin)[0]
        t = torch.arange(T, dtype=torch.float64)
        want = torch.zeros(T, dh, dtype=torch.float64)
        want[:, j] = torch.cos(t * f)
        want[:, j + dh // 2] = torch.sin(t * f)
        assert torch.allclose(r, want, atol=1e-12), j
    # relative position invariance: <R_t q, R_s k> depends on t - s only
    q, k = torch.randn(dh, dtype=torch.float64), torch.randn(dh, dtype=torch.float64)
    for t, s, d in ((5, 2, 17), (30, 0, 3), (7, 7, 100)):
        c1, s1 = ref.rope_cos_sin(1, dh, torch.float64, offset=t)
        c2, s2 = ref.rope_cos_sin(1, dh, torch.float64, offset=s)
        c3, s3 = ref.rope_cos_sin(1, dh, torch.float64, offset=t + d)
        c4, s4 = ref.rope_cos_sin(1, dh, torch.float64, offset=s + d)
        a = (ref.apply_rope(q, c1, s1) * ref.apply_rope(k, c2, s2)).sum()
        b = (ref.apply_rope(q, c3, s3) * ref.apply_rope(k, c4, s4)).sum()
        assert abs(float(a - b)) < 1e-10, (t, s, d, float(a), float(b))


@test
def masks():
    T = 10
    full = ref.attention_mask(T)
    assert torch.equal(full, torch.tril(torch.ones(T, T, dtype=torch.bool)))
    for w in (1, 3, 10, 20):
        m = ref.attention_mask(T, w)
        for t in range(T):
            for j in range(T):
                assert bool(m[t, j]) == (t - w < j <= t), (w, t, j)
        assert m.sum(1).tolist() == [min(t + 1, w) for t in range(T)]
    # window 1: every position attends only to itself -> o_t = v_t
    q, k, v = (torch.randn(2, 3, T, 4, dtype=torch.float64) for _ in range(3))
    o, _ = ref.attention_core(q, k, v, ref.attention_mask(T, 1))
    assert torch.allclose(o, v, atol=1e-14)


@test
def window_ge_T_equals_full():
    T = 24
    for rope_F, rope_S in (("on", "on"), ("off", "off")):
        cf = cfg_of(pattern="FFF", rope_F=rope_F, rope_S=rope_S, window=T)
        p = params_of(cf, seed=3)
        tok = tokens_of(cf, 2, T, seed=1)
        lf = logits_np(cf, p, tok)
        for w in (T, T + 5):
            cs = cfg_of(pattern="SSS", rope_F=rope_F, rope_S=rope_S, window=w)
            assert rel(logits_np(cs, p, tok), lf) < 1e-13
        cs = cfg_of(pattern="SSS", rope_F=rope_F, rope_S=rope_S, window=T - 1)
        assert rel(logits_np(cs, p, tok), lf) > 1e-3


def _receptive_field(cfg, p, T, t):
    """Positions j whose input embedding influences logits[0, t] (untied model, distinct tokens)."""
    tok = torch.arange(T).view(1, T) % cfg.vocab
    pp = OrderedDict((n, v.clone().requires_grad_(n == "tok_emb.weight")) for n, v in p.items())
    ref.forward(cfg, pp, tok)[0, t].sum().backward()
    g = pp["tok_emb.weight"].grad.abs().sum(1)
    return [j for j in range(T) if g[tok[0, j]] > 0]


@test
def receptive_fields():
    T = 30
    for pattern, w, reach in (("S", 5, 4), ("SS", 5, 8), ("SSS", 4, 9), ("F", 5, None), ("SF", 3, None)):
        c = cfg_of(pattern=pattern, window=w, vocab=T, tie_embeddings="off")
        p = params_of(c, seed=1)
        for t in (0, 3, 17, T - 1):
            got = _receptive_field(c, p, T, t)
            lo = 0 if reach is None else max(0, t - reach)
            assert got == list(range(lo, t + 1)), (pattern, w, t, got)


def numpy_loop_model(cfg, p, tok):
    """Second, independent implementation of the F/S model: numpy, explicit loops."""
    P = {n: v.detach().numpy() for n, v in p.items()}
    tok = np.asarray(tok)
    B, T = tok.shape
    H, dh = cfg.n_heads, cfg.head_dim

    def rms(x, g):
        return x / np.sqrt(np.mean(x * x) + 1e-5) * g

    def silu(x):
        return x / (1 + np.exp(-x))

    def rot(vec, pos):
        out = np.empty_like(vec)
        for i in range(dh // 2):
            th = pos * 10000.0 ** (-2.0 * i / dh)
            a, b = vec[i], vec[i + dh // 2]
            out[i] = a * math.cos(th) - b * math.sin(th)
            out[i + dh // 2] = b * math.cos(th) + a * math.sin(th)
        return out

    logits = np.zeros((B, T, cfg.vocab))
    for bi in range(B):
        x = np.stack([P["tok_emb.weight"][tok[bi, t]] for t in range(T)])
        for li, kind in enumerate(cfg.pattern):
            pre = f"layers.{li}"
            u = np.stack([rms(x[t], P[f"{pre}.norm1.weight"]) for t in range(T)])
            Q, K, Vv = (np.stack([P[f"{pre}.attn.{n}_proj.weight"] @ u[t] for t in range(T)]) for n in "qkv")
            rope = cfg.rope_F if kind == "F" else cfg.rope_S
            att = np.zeros((T, H * dh))
            for h in range(H):
                sl = slice(h * dh, (h + 1) * dh)
                for t in range(T):
                    js = [j for j in range(T) if j <= t and (kind == "F" or j > t - cfg.window)]
                    qt = rot(Q[t, sl], t) if rope else Q[t, sl]
                    sc = np.array([(qt @ (rot(K[j, sl], j) if rope else K[j, sl])) / math.sqrt(dh) for j in js])
                    pr = np.exp(sc - sc.max())
                    pr /= pr.sum()
                    att[t, sl] = sum(pr[n] * Vv[j, sl] for n, j in enumerate(js))
            hcur = x + np.stack([P[f"{pre}.attn.o_proj.weight"] @ att[t] for t in range(T)])
            new = []
            for t in range(T):
                v2 = rms(hcur[t], P[f"{pre}.norm2.weight"])
                a = silu(P[f"{pre}.mlp.gate_proj.weight"] @ v2) * (P[f"{pre}.mlp.up_proj.weight"] @ v2)
                new.append(hcur[t] + P[f"{pre}.mlp.down_proj.weight"] @ a)
            x = np.stack(new)
        W = P["tok_emb.weight"] if cfg.tie_embeddings else P["lm_head.weight"]
        for t in range(T):
            logits[bi, t] = W @ rms(x[t], P["norm_f.weight"])
    return logits


@test
def independent_numpy_loop_model():
    for pattern, w, rf, rs, tie in (("SF", 3, "on", "on", "off"), ("SSF", 5, "off", "on", "on"),
                                    ("FS", 2, "on", "off", "off")):
        c = cfg_of(pattern=pattern, window=w, rope_F=rf, rope_S=rs, tie_embeddings=tie, head_dim=6, d_model=10)
        p = params_of(c, seed=5)
        tok = tokens_of(c, 2, 11, seed=2)
        r = rel(logits_np(c, p, tok), numpy_loop_model(c, p, tok))
        assert r < 1e-12, (pattern, r)


def _gradcheck(cfg, B, T):
    p = params_of(cfg, seed=11, std=0.4)
    names = list(p)
    tok = tokens_of(cfg, B, T, seed=4)

    def f(*vals):
        return ref.next_token_loss(ref.forward(cfg, OrderedDict(zip(names, vals)), tok), tok)

    inputs = tuple(p[n].clone().requires_grad_(True) for n in names)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    # forward_and_grads (the path check_parity uses) returns the same gradients
    _, _, grads = ref.forward_and_grads(cfg, OrderedDict((n, p[n].numpy()) for n in names), tok.numpy())
    auto = torch.autograd.grad(f(*inputs), inputs)
    for n, g in zip(names, auto):
        assert np.allclose(grads[n], g.numpy(), rtol=0, atol=1e-14), n


@test
def gradcheck_attention():
    _gradcheck(cfg_of(pattern="SF", window=2, vocab=7, d_model=4, head_dim=2, mlp_hidden=6), 2, 5)
    _gradcheck(cfg_of(pattern="FS", window=3, vocab=7, d_model=4, head_dim=2, mlp_hidden=6,
                      tie_embeddings="on", rope_F="off"), 1, 6)


@test
def gradcheck_recurrent():
    _gradcheck(cfg_of(pattern="LMG", vocab=5, d_model=4, n_heads=2, head_dim=2, mlp_hidden=4,
                      expand=2, state_size=2, mamba_head_dim=4), 1, 5)


@test
def tied_equals_untied_copy():
    ct, cu = cfg_of(pattern="SF", tie_embeddings="on"), cfg_of(pattern="SF", tie_embeddings="off")
    p = params_of(ct, seed=2)
    pu = OrderedDict(p)
    pu["lm_head.weight"] = p["tok_emb.weight"].clone()
    tok = tokens_of(ct, 2, 9)
    assert rel(logits_np(ct, p, tok), logits_np(cu, pu, tok)) == 0.0


@test
def causality_all_mixers():
    c = cfg_of(pattern="FSLMG", window=3)
    p = params_of(c, seed=9, std=0.3)
    T = 12
    tok = tokens_of(c, 1, T, seed=3)
    base = logits_np(c, p, tok)
    for s in (0, 5, T - 1):
        t2 = tok.clone()
        t2[0, s] = (t2[0, s] + 1) % c.vocab
        l2 = logits_np(c, p, t2)
        assert np.array_equal(l2[:, :s], base[:, :s]), s
        assert not np.allclose(l2[:, s], base[:, s]), s


@test
def conv_convention():
    x = torch.randn(2, 9, 5, dtype=torch.float64)
    w = torch.randn(5, 1, 4, dtype=torch.float64)
    b = torch.randn(5, dtype=torch.float64)
    y = ref.causal_depthwise_conv(x, w, b)
    want = torch.nn.functional.conv1d(x.transpose(1, 2), w, b, padding=3, groups=5)[..., :9].transpose(1, 2)
    assert torch.allclose(y, want, atol=1e-13)
    assert torch.allclose(y[:, 0], b + x[:, 0] * w[:, 0, 3], atol=1e-14)


@test
def lightning_parallel_form():
    c = cfg_of(pattern="L", n_heads=3, head_dim=4, d_model=8)
    p = params_of(c, seed=4)
    B, T, H, dh = 2, 10, 3, 4
    u = torch.randn(B, T, c.d_model, dtype=torch.float64)
    got = ref.lightning_mixer(u, p, "layers.0", c)
    pl = "layers.0.lightning"
    q = torch.nn.functional.silu(u @ p[f"{pl}.q_proj.weight"].t()).view(B, T, H, dh)
    k = torch.nn.functional.silu(u @ p[f"{pl}.k_proj.weight"].t()).view(B, T, H, dh)
    v = (u @ p[f"{pl}.v_proj.weight"].t()).view(B, T, H, dh)
    o = torch.zeros(B, T, H, dh, dtype=torch.float64)
    for h in range(H):
        lam = 1 - 2.0 ** -(5 + h)
        for t in range(T):
            for s in range(t + 1):
                o[:, t, h] += lam ** (t - s) * (q[:, t, h] * k[:, s, h]).sum(-1, keepdim=True) * v[:, s, h]
    o = ref.rms_norm(o, p[f"{pl}.norm.weight"]).reshape(B, T, H * dh)
    o = o * torch.nn.functional.silu(u @ p[f"{pl}.g_proj.weight"].t())
    want = o @ p[f"{pl}.o_proj.weight"].t()
    assert rel(got, want) < 1e-12


@test
def mamba2_ssd_form():
    c = cfg_of(pattern="M", d_model=6, expand=2, state_size=3, mamba_head_dim=4)
    p = params_of(c, seed=6)
    B, T = 2, 9
    di, N, P = 12, 3, 4
    H = di // P
    u = torch.randn(B, T, c.d_model, dtype=torch.float64)
    got = ref.mamba2_mixer(u, p, "layers.0", c)
    pm = "layers.0.mamba2"
    F = torch.nn.functional
    zxd = u @ p[f"{pm}.in_proj.weight"].t()
    z, xBC, dt = zxd[..., :di], zxd[..., di:2 * di + 2 * N], zxd[..., 2 * di + 2 * N:]
    xBC = F.silu(F.conv1d(xBC.transpose(1, 2), p[f"{pm}.conv1d.weight"], p[f"{pm}.conv1d.bias"],
                          padding=3, groups=xBC.shape[-1])[..., :T].transpose(1, 2))
    x, Bm, Cm = xBC[..., :di].reshape(B, T, H, P), xBC[..., di:di + N], xBC[..., di + N:]
    dt = F.softplus(dt + p[f"{pm}.dt_bias"])
    loga = -dt * torch.exp(p[f"{pm}.A_log"])                       # [B, T, H]
    cum = torch.cumsum(loga, dim=1)
    y = torch.zeros(B, T, H, P, dtype=torch.float64)
    for t in range(T):
        for s in range(t + 1):
            decay = torch.exp(cum[:, t] - cum[:, s])                 # prod_{r=s+1..t} a_r
            cb = (Cm[:, t] * Bm[:, s]).sum(-1)                       # [B]
            y[:, t] += (cb[:, None] * decay * dt[:, s])[..., None] * x[:, s]
        y[:, t] += p[f"{pm}.D"][None, :, None] * x[:, t]
    y = ref.rms_norm(y.reshape(B, T, di) * F.silu(z), p[f"{pm}.norm.weight"])
    want = y @ p[f"{pm}.out_proj.weight"].t()
    assert rel(got, want) < 1e-12


@test
def gdn_delta_rule_form():
    c = cfg_of(pattern="G", n_heads=2, head_dim=3, d_model=6)
    p = params_of(c, seed=8)
    B, T, H, dh = 2, 8, 2, 3
    u = torch.randn(B, T, c.d_model, dtype=torch.float64)
    got = ref.gdn_mixer(u, p, "layers.0", c)
    F = torch.nn.functional
    pg = "layers.0.gdn"
    q, k, v = (F.silu(ref.causal_depthwise_conv(u @ p[f"{pg}.{n}_proj.weight"].t(), p[f"{pg}.{n}_conv.weight"]))
               .view(B, T, H, dh) for n in "qkv")
    q = q / torch.sqrt((q * q).sum(-1, keepdim=True) + 1e-6) / math.sqrt(dh)
    k = k / torch.sqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    alpha = torch.exp(-torch.exp(p[f"{pg}.A_log"]) * F.softplus(u @ p[f"{pg}.a_proj.weight"].t() + p[f"{pg}.dt_bias"]))
    beta = torch.sigmoid(u @ p[f"{pg}.b_proj.weight"].t())
    o = torch.zeros(B, T, H, dh, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            S = torch.zeros(dh, dh, dtype=torch.float64)
            for t in range(T):
                kt, vt = k[b, t, h], v[b, t, h]
                Sd = alpha[b, t, h] * S                                 # decayed state
                S = Sd + beta[b, t, h] * torch.outer(vt - Sd @ kt, kt)  # delta rule: write the error
                o[b, t, h] = S @ q[b, t, h]
    o = ref.rms_norm(o, p[f"{pg}.norm.weight"]).reshape(B, T, H * dh) * F.silu(u @ p[f"{pg}.g_proj.weight"].t())
    want = o @ p[f"{pg}.o_proj.weight"].t()
    assert rel(got, want) < 1e-12
    # with alpha = beta = 1 the write is exact: after writing (k, v), reading with k gives v
    k1 = ref.l2_normalize(torch.randn(dh, dtype=torch.float64), eps=0)
    S = torch.randn(dh, dh, dtype=torch.float64)
    v1 = torch.randn(dh, dtype=torch.float64)
    S = S @ (torch.eye(dh, dtype=torch.float64) - torch.outer(k1, k1)) + torch.outer(v1, k1)
    assert torch.allclose(S @ k1, v1, atol=1e-12)


@test
def sensitivity_of_parity_check():
    """Mutations an engine could plausibly have, measured with check_parity's criterion."""
    with open(os.path.join(HERE, "sssf_w16.conf")) as f:
        base_raw = ref.parse_config_text(f.read())
    T = 128
    tok = np.random.default_rng(1).integers(0, 64, size=(2, T))
    orig_rope = ref.apply_rope

    def interleaved(x, cos, sin):       # the GPT-J / Meta convention: pairs (2i, 2i+1)
        x1, x2 = x[..., 0::2], x[..., 1::2]
        c, s = cos[..., : x.shape[-1] // 2], sin[..., : x.shape[-1] // 2]
        return torch.stack([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).flatten(-2)

    lines = []
    for scale in (1.0, 15.0):
        c = ref.Config(base_raw)
        p = ref.init_params(c, seed=1)
        g = torch.Generator().manual_seed(2)
        for n in p:
            if ref.is_norm_gain(n):
                p[n] = p[n] * (1 + 0.1 * torch.randn(p[n].shape, generator=g, dtype=torch.float64))
            elif p[n].dim() == 2:
                p[n] = p[n] * scale
        want = logits_np(c, p, tok)
        res = {}
        for label, w in (("window-1", 15), ("window+1", 17)):
            cm = ref.Config(dict(base_raw, window=str(w)))
            res[label] = rel(logits_np(cm, p, tok), want)
        ref.apply_rope = interleaved
        try:
            res["rope-interleaved"] = rel(logits_np(c, p, tok), want)
        finally:
            ref.apply_rope = orig_rope
        res["rope_S-off"] = rel(logits_np(ref.Config(dict(base_raw, rope_S="off")), p, tok), want)
        res["rope_F-off"] = rel(logits_np(ref.Config(dict(base_raw, rope_F="off")), p, tok), want)
        lines.append(f"      scale {scale:g}: " + ", ".join(f"{k} {v:.1e}" for k, v in res.items()))
        if scale != 1.0:
            for k, v in res.items():
                assert v > 100 * 1e-4, (k, v)
    print("    logits rel err of a mutated model vs the correct one (tolerance 1e-4):")
    print("\n".join(lines))


@test
def peer_benchmark_model_matches_reference():
    """bench/peers/torch_step.py computes the same model (its state_dict uses the spec's names)."""
    import argparse
    import importlib.util
    path = os.path.join(HERE, "..", "..", "bench", "peers", "torch_step.py")
    if not os.path.exists(path):
        print("    (bench/peers/torch_step.py not present; skipped)")
        return
    spec = importlib.util.spec_from_file_location("torch_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for pattern, rf, rs, tie in (("SSF", True, True, False), ("FS", False, True, True)):
        a = argparse.Namespace(vocab=40, d_model=16, pattern=pattern, n_heads=2, head_dim=8, mlp_hidden=24,
                               window=5, rope_F=rf, rope_S=rs, tie_embeddings=tie, init_std=0.3, seq_len=20)
        torch.manual_seed(0)
        m = mod.Model(a).double()
        for layer in m.layers:  # the peer builds float32 RoPE tables; use exact ones here
            layer.attn.cos, layer.attn.sin = ref.rope_cos_sin(a.seq_len, a.head_dim, torch.float64)
        c = cfg_of(vocab=40, d_model=16, pattern=pattern, n_heads=2, head_dim=8, mlp_hidden=24, window=5,
                   rope_F="on" if rf else "off", rope_S="on" if rs else "off", tie_embeddings="on" if tie else "off")
        sd = OrderedDict((n, t.detach().clone()) for n, t in m.state_dict().items())
        assert set(sd) == set(ref.param_shapes(c)), sorted(set(sd) ^ set(ref.param_shapes(c)))
        for n, t in sd.items():
            if ref.is_norm_gain(n):
                sd[n] = t + 0.1 * torch.randn(t.shape, dtype=t.dtype)
        m.load_state_dict(sd, strict=False)
        tok = tokens_of(c, 2, 20, seed=6)
        with torch.no_grad():
            r = rel(m(tok).numpy(), logits_np(c, sd, tok))
        assert r < 1e-12, (pattern, r)


def _run_parity(workdir, env_extra=None, scales="1,auto"):
    env = dict(os.environ)
    env.update(env_extra or {})
    cmd = [sys.executable, os.path.join(HERE, "check_parity.py"), "--hybench", os.path.join(HERE, "fake_hybench.py"),
           "--model", os.path.join(HERE, "sssf_w16_nope.conf"), "--seq-len", "128", "--batch", "2", "--seed", "1",
           "--workdir", workdir, "--scale-weights", scales]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    return r.returncode, r.stdout


@test
def check_parity_end_to_end_with_fake_engine():
    with tempfile.TemporaryDirectory() as d:
        rc, out = _run_parity(os.path.join(d, "ok"))
        assert rc == 0, out
        assert "parity sssf_w16_nope [SSSF w16, rope_F off, rope_S on, tied on]: PASS" in out, out
        for line in out.splitlines():
            if "weights x" in line and "tensors within" in line:
                print("    fake float32 engine: " + line.strip())
        rc, out = _run_parity(os.path.join(d, "w"), {"FAKE_HYBENCH_MUTATE": "window+1"}, scales="auto")
        assert rc == 1 and "FAIL" in out, out
        rc, out = _run_parity(os.path.join(d, "g"), {"FAKE_HYBENCH_MUTATE": "drop-grad"}, scales="1")
        assert rc == 1 and "MISSING" in out, out


def main():
    args = sys.argv[1:]
    sel = args[args.index("-k") + 1] if "-k" in args else ""
    failed = 0
    n = 0
    t_all = time.time()
    for fn in TESTS:
        if sel not in fn.__name__:
            continue
        n += 1
        t0 = time.time()
        try:
            fn()
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAIL {fn.__name__} ({time.time() - t0:.1f}s)")
            traceback.print_exc(file=sys.stdout)
        else:
            print(f"ok   {fn.__name__} ({time.time() - t0:.1f}s)", flush=True)
    print(f"selftest: {n - failed}/{n} passed ({time.time() - t_all:.1f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
