"""Independent PyTorch reference for the hybrid-bench model (DESIGN.md section 3).

Written from the specification only, not from the C engine, so that the two can check
each other through the interop contract (`hybench forward`, see tests/parity/check_parity.py).
hybench.model wraps it in a torch.nn.Module; the parameters are a mapping name -> tensor
under the checkpoint's tensor names.
Plain and slow on purpose: float64 by default, explicit O(T^2) masks for attention,
plain sequential loops for the recurrent mixers.

Model (DESIGN.md section 3), decoder-only, pre-norm:
    x_0 = E[tokens]                                     E = tok_emb.weight [V, D]
    h   = x + Mixer_i(RMSNorm(x; n1_i))                 n1_i = layers.{i}.norm1.weight
    x'  = h + MLP_i(RMSNorm(h; n2_i))                   n2_i = layers.{i}.norm2.weight
    logits = RMSNorm(x_L; nf) . Wout^T                  Wout = E if tie_embeddings else lm_head.weight
    RMSNorm(x; g) = x / sqrt(mean(x^2) + 1e-5) * g
    MLP(u) = down(silu(gate(u)) * up(u))                SwiGLU, weights [out, in], u . W^T, no biases
    loss = mean cross-entropy of logits[:, :-1] predicting tokens[:, 1:]

Mixers, one function per layer kind (MIXERS below); adding a kind = one mixer function plus
one entry in MIXER_PARAMS giving its tensor names and shapes:
    F  full causal attention          key j allowed for query t iff j <= t
    S  sliding-window attention       allowed iff t - w < j <= t (w keys, itself included)
    L  Lightning linear attention
    M  Mamba-2
    G  Gated DeltaNet

Conventions chosen where DESIGN.md is silent (written down here so that a mismatch with the
engine is a visible, discussable difference, not a hidden one):
  * heads: a projection output of width H*dh is split into H contiguous chunks of dh,
    head h = columns [h*dh, (h+1)*dh) (i.e. .view(B, T, H, dh)); o_proj consumes the heads
    concatenated in the same order.
  * RoPE: base 10000, rotate-half: inv_freq_i = 10000^(-2i/dh) for i < dh/2, angle t*inv_freq_i
    at position t = 0, 1, ...; element j < dh/2 pairs with j + dh/2:
        x'_j        = x_j cos - x_{j+dh/2} sin
        x'_{j+dh/2} = x_{j+dh/2} cos + x_j sin
    applied to q and k of F layers iff rope_F, of S layers iff rope_S. No RoPE in L/M/G.
  * attention scale 1/sqrt(dh).
  * causal depthwise conv1d with weight [C, 1, 4] (Mamba-2 xBC, Gated DeltaNet q/k/v):
        y_t[c] = bias[c] + sum_{k=0..3} w[c, 0, k] * x_{t-3+k}[c],   x_{<0} = 0
    i.e. w[..., 3] multiplies the current position (PyTorch conv1d with padding 3, first T outputs,
    the usual Mamba convention).
  * Lightning decay lambda_h = 1 - 2^-(5+h) with h = 0 .. H-1.
  * RMSNorm_head (Lightning, Gated DeltaNet): RMSNorm over each head's dh values with the shared
    gain [dh], eps 1e-5. Mamba-2's gated norm is one RMSNorm over all d_inner values, eps 1e-5.
  * Gated DeltaNet L2 normalisation: x / sqrt(sum(x^2) + 1e-6) per head (the eps is an assumption).
  * Mamba-2 in_proj output order [z (d_inner), xBC (d_inner + 2N), dt (H)], xBC = [x, B, C],
    H = d_inner / mamba_head_dim, one group (B, C shared by all heads).

Also: the model config parser and the checkpoint's tensor names and shapes (param_shapes).
"""
import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as Fn

RMS_EPS = 1e-5
L2_EPS = 1e-6
ROPE_BASE = 10000.0
CONV_K = 4

# --------------------------------------------------------------------------------------------
# model config
# --------------------------------------------------------------------------------------------

_TRUE = {"on", "true", "1", "yes"}
_FALSE = {"off", "false", "0", "no"}


def parse_bool(v, key="?"):
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"config key {key}: not a boolean: {v!r} (use on/off, true/false, 1/0)")


class Config:
    """Typed model config. Unknown keys are kept in .raw and otherwise ignored."""
    INT_KEYS = ("vocab", "d_model", "n_heads", "head_dim", "mlp_hidden", "window",
                "expand", "state_size", "mamba_head_dim")
    FLOAT_KEYS = ("init_std",)
    BOOL_KEYS = ("rope_F", "rope_S", "tie_embeddings")

    def __init__(self, raw):
        self.raw = dict(raw)
        self.name = raw.get("name", "model")
        for k in self.INT_KEYS:
            setattr(self, k, int(raw[k]) if k in raw else None)
        for k in self.FLOAT_KEYS:
            setattr(self, k, float(raw[k]) if k in raw else None)
        for k in self.BOOL_KEYS:
            setattr(self, k, parse_bool(raw[k], k) if k in raw else None)
        self.pattern = raw.get("pattern")
        self.validate()

    def validate(self):
        need = ["vocab", "d_model", "n_heads", "head_dim", "mlp_hidden", "pattern", "tie_embeddings"]
        p = self.pattern or ""
        if "F" in p:
            need.append("rope_F")
        if "S" in p:
            need += ["rope_S", "window"]
        if "M" in p:
            need += ["expand", "state_size", "mamba_head_dim"]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"config {self.name}: missing keys: {', '.join(missing)}")
        bad = sorted(set(p) - set(MIXERS))
        if not p or bad:
            raise ValueError(f"config {self.name}: bad pattern {p!r} (letters {''.join(MIXERS)})")
        if ("F" in p or "S" in p) and self.head_dim % 2:
            raise ValueError(f"config {self.name}: head_dim must be even for RoPE")
        if "S" in p and self.window < 1:
            raise ValueError(f"config {self.name}: window must be >= 1")
        if "M" in p and (self.d_inner % self.mamba_head_dim):
            raise ValueError(f"config {self.name}: expand*d_model not divisible by mamba_head_dim")

    @property
    def n_layers(self):
        return len(self.pattern)

    @property
    def d_inner(self):
        return self.expand * self.d_model

    def __repr__(self):
        return f"Config({self.raw!r})"


def parse_config_text(text):
    """`key = value` lines; '#' starts a comment; blank lines ignored. Returns dict str -> str."""
    raw = OrderedDict()
    for ln, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            raise ValueError(f"config line {ln}: expected `key = value`: {line!r}")
        k, v = (s.strip() for s in line.split("=", 1))
        if not k:
            raise ValueError(f"config line {ln}: empty key")
        raw[k] = v
    return raw


def parse_config(text):
    return Config(parse_config_text(text))


# --------------------------------------------------------------------------------------------
# parameter names and shapes (DESIGN.md section 3)
# --------------------------------------------------------------------------------------------

def _attn_params(c, pre):
    hd = c.n_heads * c.head_dim
    return [(f"{pre}.attn.q_proj.weight", (hd, c.d_model)), (f"{pre}.attn.k_proj.weight", (hd, c.d_model)),
            (f"{pre}.attn.v_proj.weight", (hd, c.d_model)), (f"{pre}.attn.o_proj.weight", (c.d_model, hd))]


def _lightning_params(c, pre):
    hd, D = c.n_heads * c.head_dim, c.d_model
    return [(f"{pre}.lightning.{n}_proj.weight", (hd, D)) for n in "qkvg"] + [
        (f"{pre}.lightning.o_proj.weight", (D, hd)), (f"{pre}.lightning.norm.weight", (c.head_dim,))]


def _mamba2_params(c, pre):
    D, di, N = c.d_model, c.d_inner, c.state_size
    H = di // c.mamba_head_dim
    C = di + 2 * N
    m = f"{pre}.mamba2"
    return [(f"{m}.in_proj.weight", (2 * di + 2 * N + H, D)), (f"{m}.conv1d.weight", (C, 1, CONV_K)),
            (f"{m}.conv1d.bias", (C,)), (f"{m}.dt_bias", (H,)), (f"{m}.A_log", (H,)), (f"{m}.D", (H,)),
            (f"{m}.norm.weight", (di,)), (f"{m}.out_proj.weight", (D, di))]


def _gdn_params(c, pre):
    D, H, dh = c.d_model, c.n_heads, c.head_dim
    hd = H * dh
    g = f"{pre}.gdn"
    return ([(f"{g}.{n}_proj.weight", (hd, D)) for n in "qkv"] +
            [(f"{g}.a_proj.weight", (H, D)), (f"{g}.b_proj.weight", (H, D)), (f"{g}.g_proj.weight", (hd, D)),
             (f"{g}.o_proj.weight", (D, hd))] +
            [(f"{g}.{n}_conv.weight", (hd, 1, CONV_K)) for n in "qkv"] +
            [(f"{g}.A_log", (H,)), (f"{g}.dt_bias", (H,)), (f"{g}.norm.weight", (dh,))])


MIXER_PARAMS = {"F": _attn_params, "S": _attn_params, "L": _lightning_params, "M": _mamba2_params,
                "G": _gdn_params}


def param_shapes(cfg):
    """OrderedDict name -> shape of every tensor a checkpoint of this config must hold."""
    D, V, Hm = cfg.d_model, cfg.vocab, cfg.mlp_hidden
    out = [("tok_emb.weight", (V, D))]
    for i, kind in enumerate(cfg.pattern):
        pre = f"layers.{i}"
        out += [(f"{pre}.norm1.weight", (D,)), (f"{pre}.norm2.weight", (D,))]
        out += MIXER_PARAMS[kind](cfg, pre)
        out += [(f"{pre}.mlp.gate_proj.weight", (Hm, D)), (f"{pre}.mlp.up_proj.weight", (Hm, D)),
                (f"{pre}.mlp.down_proj.weight", (D, Hm))]
    out.append(("norm_f.weight", (D,)))
    if not cfg.tie_embeddings:
        out.append(("lm_head.weight", (V, D)))
    return OrderedDict(out)


def is_norm_gain(name):
    return name.endswith("norm1.weight") or name.endswith("norm2.weight") or \
        name == "norm_f.weight" or name.endswith(".norm.weight")


def init_params(cfg, seed=0, dtype=torch.float64, std=None):
    """Random parameters for self-tests and the fake engine (NOT the engine's init scheme):
    matrices N(0, std), norm gains 1, recurrent-mixer scalars in their usual ranges."""
    g = torch.Generator().manual_seed(seed)
    std = cfg.init_std if std is None else std
    std = 0.02 if std is None else std
    p = OrderedDict()
    for name, shape in param_shapes(cfg).items():
        if is_norm_gain(name):
            t = torch.ones(shape, dtype=torch.float64)
        elif name.endswith("A_log"):
            t = torch.log(torch.empty(shape, dtype=torch.float64).uniform_(1, 16, generator=g))
        elif name.endswith("dt_bias"):  # softplus^-1 of dt in [1e-3, 1e-1]
            lo, hi = math.log(1e-3), math.log(1e-1)
            dt = torch.exp(torch.empty(shape, dtype=torch.float64).uniform_(lo, hi, generator=g))
            t = dt + torch.log(-torch.expm1(-dt))
        elif name.endswith(".D"):
            t = torch.ones(shape, dtype=torch.float64)
        elif name.endswith("conv1d.bias"):
            t = torch.zeros(shape, dtype=torch.float64)
        elif "conv" in name:
            t = torch.empty(shape, dtype=torch.float64).uniform_(-0.5, 0.5, generator=g)
        else:
            t = torch.randn(shape, dtype=torch.float64, generator=g) * std
        p[name] = t.to(dtype)
    return p


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------

def rms_norm(x, g, eps=RMS_EPS):
    """x / sqrt(mean(x^2) + eps) * g over the last dimension."""
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * g


def linear(u, w):
    """u . W^T with W stored [out, in]; no bias."""
    return u @ w.t()


def swiglu_mlp(u, p, pre):
    gate = linear(u, p[f"{pre}.mlp.gate_proj.weight"])
    up = linear(u, p[f"{pre}.mlp.up_proj.weight"])
    return linear(Fn.silu(gate) * up, p[f"{pre}.mlp.down_proj.weight"])


def rope_cos_sin(T, dh, dtype, offset=0):
    """cos, sin tables [T, dh] for positions offset .. offset+T-1, rotate-half layout
    (frequency i used at columns i and i + dh/2)."""
    half = dh // 2
    inv_freq = ROPE_BASE ** (-2.0 * torch.arange(half, dtype=torch.float64) / dh)
    pos = torch.arange(offset, offset + T, dtype=torch.float64)
    ang = pos[:, None] * inv_freq[None, :]                      # [T, dh/2]
    ang = torch.cat([ang, ang], dim=-1)                         # [T, dh]
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


def apply_rope(x, cos, sin):
    """x [..., T, dh]; element j pairs with j + dh/2."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    rot = torch.cat([-x2, x1], dim=-1)
    return x * cos + rot * sin


def attention_mask(T, window=None, device=None):
    """Boolean [T, T], True where key j is allowed for query t.
    window None: full causal (j <= t). window w: t - w < j <= t. Explicit band, O(T^2)."""
    t = torch.arange(T, device=device)[:, None]
    j = torch.arange(T, device=device)[None, :]
    allowed = j <= t
    if window is not None:
        allowed = allowed & (j > t - window)
    return allowed


def _split_heads(x, H, dh):
    B, T, _ = x.shape
    return x.view(B, T, H, dh).transpose(1, 2)  # [B, H, T, dh]


def _merge_heads(x):
    B, H, T, dh = x.shape
    return x.transpose(1, 2).reshape(B, T, H * dh)


def attention_core(q, k, v, allowed):
    """q, k, v [B, H, T, dh]; allowed [T, T] bool. Returns o [B, H, T, dh] and probs."""
    dh = q.shape[-1]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
    scores = scores.masked_fill(~allowed, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    return probs @ v, probs


# --------------------------------------------------------------------------------------------
# mixers: fn(u [B, T, D], params, prefix "layers.i", cfg, stats) -> [B, T, D]
# --------------------------------------------------------------------------------------------

def _attention_mixer(u, p, pre, cfg, kind, stats):
    H, dh = cfg.n_heads, cfg.head_dim
    T = u.shape[1]
    q = _split_heads(linear(u, p[f"{pre}.attn.q_proj.weight"]), H, dh)
    k = _split_heads(linear(u, p[f"{pre}.attn.k_proj.weight"]), H, dh)
    v = _split_heads(linear(u, p[f"{pre}.attn.v_proj.weight"]), H, dh)
    if (cfg.rope_F if kind == "F" else cfg.rope_S):
        cos, sin = rope_cos_sin(T, dh, u.dtype)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    allowed = attention_mask(T, None if kind == "F" else cfg.window, u.device)
    o, probs = attention_core(q, k, v, allowed)
    if stats is not None:
        stats.setdefault("attn_max_p", []).append((pre, kind, float(probs.detach().max(-1).values.mean())))
    return linear(_merge_heads(o), p[f"{pre}.attn.o_proj.weight"])


def full_attention_mixer(u, p, pre, cfg, stats=None):
    return _attention_mixer(u, p, pre, cfg, "F", stats)


def sliding_attention_mixer(u, p, pre, cfg, stats=None):
    return _attention_mixer(u, p, pre, cfg, "S", stats)


def causal_depthwise_conv(x, w, b=None):
    """x [B, T, C], w [C, 1, K]: y_t = b + sum_k w[:, 0, k] * x_{t-K+1+k} (zeros before t = 0)."""
    B, T, C = x.shape
    K = w.shape[-1]
    y = torch.zeros_like(x) if b is None else b.expand(B, T, C).clone()
    for k in range(K):
        shift = K - 1 - k  # w[..., K-1] multiplies the current position
        if shift >= T:
            continue
        xs = Fn.pad(x[:, :T - shift, :], (0, 0, shift, 0))
        y = y + xs * w[:, 0, k]
    return y


def lightning_mixer(u, p, pre, cfg, stats=None):
    """Lightning linear attention. Sequential recurrence:
    S_t = lambda_h S_{t-1} + k_t^T v_t,  o_t = q_t S_t,  S: [dh, dh] per head."""
    H, dh = cfg.n_heads, cfg.head_dim
    B, T, _ = u.shape
    pl = f"{pre}.lightning"
    q = Fn.silu(linear(u, p[f"{pl}.q_proj.weight"])).view(B, T, H, dh)
    k = Fn.silu(linear(u, p[f"{pl}.k_proj.weight"])).view(B, T, H, dh)
    v = linear(u, p[f"{pl}.v_proj.weight"]).view(B, T, H, dh)
    lam = torch.tensor([1.0 - 2.0 ** -(5 + h) for h in range(H)], dtype=u.dtype)
    S = torch.zeros(B, H, dh, dh, dtype=u.dtype)
    outs = []
    for t in range(T):
        S = lam[None, :, None, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        outs.append(torch.einsum("bhi,bhij->bhj", q[:, t], S))
    o = torch.stack(outs, dim=1)                                  # [B, T, H, dh]
    o = rms_norm(o, p[f"{pl}.norm.weight"]).reshape(B, T, H * dh)
    o = o * Fn.silu(linear(u, p[f"{pl}.g_proj.weight"]))
    return linear(o, p[f"{pl}.o_proj.weight"])


def mamba2_mixer(u, p, pre, cfg, stats=None):
    """Mamba-2. Sequential scan, one group:
    a_t = exp(-dt_t exp(A_log_h)), S_t = a_t S_{t-1} + dt_t x_t B_t^T, y_t = S_t C_t + D_h x_t."""
    B, T, _ = u.shape
    di, N, P = cfg.d_inner, cfg.state_size, cfg.mamba_head_dim
    H = di // P
    pm = f"{pre}.mamba2"
    zxbcdt = linear(u, p[f"{pm}.in_proj.weight"])
    z, xBC, dt = zxbcdt[..., :di], zxbcdt[..., di:2 * di + 2 * N], zxbcdt[..., 2 * di + 2 * N:]
    xBC = Fn.silu(causal_depthwise_conv(xBC, p[f"{pm}.conv1d.weight"], p[f"{pm}.conv1d.bias"]))
    x, Bm, Cm = xBC[..., :di].reshape(B, T, H, P), xBC[..., di:di + N], xBC[..., di + N:]
    dt = Fn.softplus(dt + p[f"{pm}.dt_bias"])                       # [B, T, H]
    A = torch.exp(p[f"{pm}.A_log"])                                 # [H]
    Dh = p[f"{pm}.D"]
    S = torch.zeros(B, H, P, N, dtype=u.dtype)
    ys = []
    for t in range(T):
        a = torch.exp(-dt[:, t] * A)                                # [B, H]
        S = a[:, :, None, None] * S + (dt[:, t, :, None, None] * x[:, t, :, :, None]) * Bm[:, t, None, None, :]
        y = torch.einsum("bhpn,bn->bhp", S, Cm[:, t]) + Dh[None, :, None] * x[:, t]
        ys.append(y)
    y = torch.stack(ys, dim=1).reshape(B, T, di)
    y = rms_norm(y * Fn.silu(z), p[f"{pm}.norm.weight"])
    return linear(y, p[f"{pm}.out_proj.weight"])


def l2_normalize(x, eps=L2_EPS):
    return x / torch.sqrt((x * x).sum(dim=-1, keepdim=True) + eps)


def gdn_mixer(u, p, pre, cfg, stats=None):
    """Gated DeltaNet. Sequential recurrence, S: [dv, dk]:
    S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,  o_t = S_t q_t."""
    B, T, _ = u.shape
    H, dh = cfg.n_heads, cfg.head_dim
    pg = f"{pre}.gdn"
    q = Fn.silu(causal_depthwise_conv(linear(u, p[f"{pg}.q_proj.weight"]), p[f"{pg}.q_conv.weight"]))
    k = Fn.silu(causal_depthwise_conv(linear(u, p[f"{pg}.k_proj.weight"]), p[f"{pg}.k_conv.weight"]))
    v = Fn.silu(causal_depthwise_conv(linear(u, p[f"{pg}.v_proj.weight"]), p[f"{pg}.v_conv.weight"]))
    q = l2_normalize(q.view(B, T, H, dh)) / math.sqrt(dh)
    k = l2_normalize(k.view(B, T, H, dh))
    v = v.view(B, T, H, dh)
    gate_dt = Fn.softplus(linear(u, p[f"{pg}.a_proj.weight"]) + p[f"{pg}.dt_bias"])  # [B, T, H]
    alpha = torch.exp(-torch.exp(p[f"{pg}.A_log"]) * gate_dt)
    beta = torch.sigmoid(linear(u, p[f"{pg}.b_proj.weight"]))       # [B, T, H]
    eye = torch.eye(dh, dtype=u.dtype)
    S = torch.zeros(B, H, dh, dh, dtype=u.dtype)
    outs = []
    for t in range(T):
        kt, vt, qt = k[:, t], v[:, t], q[:, t]                      # [B, H, dh]
        bt = beta[:, t, :, None, None]
        kkT = kt[..., :, None] * kt[..., None, :]
        S = alpha[:, t, :, None, None] * (S @ (eye - bt * kkT)) + bt * (vt[..., :, None] * kt[..., None, :])
        outs.append((S @ qt[..., None])[..., 0])
    o = torch.stack(outs, dim=1)                                    # [B, T, H, dh]
    o = rms_norm(o, p[f"{pg}.norm.weight"]).reshape(B, T, H * dh)
    o = o * Fn.silu(linear(u, p[f"{pg}.g_proj.weight"]))
    return linear(o, p[f"{pg}.o_proj.weight"])


MIXERS = {"F": full_attention_mixer, "S": sliding_attention_mixer, "L": lightning_mixer,
          "M": mamba2_mixer, "G": gdn_mixer}
TESTED_AGAINST_ENGINE = {"F", "S", "L", "M", "G"}


# --------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------

def forward(cfg, p, tokens, stats=None):
    """tokens [B, T] int64 -> logits [B, T, V] in the parameters' dtype."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.dim() != 2:
        raise ValueError("tokens must be (B, T)")
    if int(tokens.min()) < 0 or int(tokens.max()) >= cfg.vocab:
        raise ValueError(f"token ids outside [0, {cfg.vocab})")
    E = p["tok_emb.weight"]
    x = E[tokens]
    for i, kind in enumerate(cfg.pattern):
        pre = f"layers.{i}"
        h = x + MIXERS[kind](rms_norm(x, p[f"{pre}.norm1.weight"]), p, pre, cfg, stats)
        x = h + swiglu_mlp(rms_norm(h, p[f"{pre}.norm2.weight"]), p, pre)
    W = E if cfg.tie_embeddings else p["lm_head.weight"]
    return linear(rms_norm(x, p["norm_f.weight"]), W)


def next_token_loss(logits, tokens):
    """Mean cross-entropy of logits[:, :-1] predicting tokens[:, 1:] over all B*(T-1) targets."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    V = logits.shape[-1]
    return Fn.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), reduction="mean")


def check_params(cfg, params):
    """Returns a list of problems (missing / unexpected names, wrong shapes)."""
    want = param_shapes(cfg)
    problems = []
    for n, s in want.items():
        if n not in params:
            problems.append(f"missing tensor {n} {list(s)}")
        elif tuple(params[n].shape) != tuple(s):
            problems.append(f"tensor {n}: shape {list(params[n].shape)}, expected {list(s)}")
    for n in params:
        if n not in want:
            problems.append(f"unexpected tensor {n}")
    return problems


def forward_and_grads(cfg, params_np, tokens, dtype=torch.float64, stats=None):
    """params_np: mapping name -> array. Returns (logits np, loss float, grads OrderedDict np)."""
    p = OrderedDict((n, torch.tensor(np.asarray(a), dtype=dtype).requires_grad_(True)) for n, a in params_np.items())
    logits = forward(cfg, p, tokens, stats)
    loss = next_token_loss(logits, tokens)
    loss.backward()
    grads = OrderedDict()
    for n, t in p.items():
        grads[n] = (t.grad if t.grad is not None else torch.zeros_like(t)).detach().numpy()
    return logits.detach().numpy(), float(loss.detach()), grads
