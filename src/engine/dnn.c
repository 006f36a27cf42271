#include "hybench/dnn.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"

/* Checks a dnnl call; on failure names the call, the shape being built and the status. */
#define DNNL_CHECK(call, shape)                                                          \
  do {                                                                                   \
    dnnl_status_t st_ = (call);                                                          \
    if (st_ != dnnl_success)                                                             \
      HB_FATAL("oneDNN call `%s` failed for %s: %s", #call, shape, dnnl_status2str(st_)); \
  } while (0)

typedef struct {
  int64_t batch, M, K, N;
  int trans_a, trans_b, accumulate;
  DnnPrecision precision;
  int emulated; /* bf16 on a CPU where oneDNN has no bf16 matmul: see widen() */
  int64_t a_stride, b_stride, dst_stride; /* batch strides in floats */
  dnnl_primitive_t prim;
  dnnl_memory_t a_mem, b_mem, dst_mem, scratch_mem;
  size_t scratch_bytes;
} MatmulOp;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static MatmulOp *ops;
static int n_ops, cap_ops;
static double matmul_seconds, convert_seconds;
static DnnPrecision precision = DNN_FP32;
/* bf16 copies of the two operands of the current product (bf16 mode only),
 * grown to the largest operand seen and kept for the process. */
static uint16_t *a_bf16, *b_bf16;
static size_t a_bf16_cap, b_bf16_cap;
/* Operands held in bf16 across several products (dnn_bf16_hold), innermost last. */
#define MAX_HELD 8
typedef struct {
  const float *src;
  size_t n, cap;
  uint16_t *copy;
} HeldOperand;
static HeldOperand held[MAX_HELD];
static int n_held;
/* The bf16 operands widened back to fp32, where oneDNN has no bf16 matmul. */
static float *a_wide, *b_wide;
static size_t a_wide_cap, b_wide_cap;
/* One scratchpad for all primitives (user scratchpad mode): calls run one at
 * a time, and a buffer that lives for the process avoids the fresh pages a
 * per-call allocation would fault in on every step. */
static void *scratchpad;
static size_t scratchpad_bytes;

void dnn_init(void) {
  if (engine) return;
  DNNL_CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0), "the CPU engine");
  DNNL_CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags), "the stream");
}

void dnn_shutdown(void) {
  for (int i = 0; i < n_ops; i++) {
    dnnl_primitive_destroy(ops[i].prim);
    dnnl_memory_destroy(ops[i].a_mem);
    dnnl_memory_destroy(ops[i].b_mem);
    dnnl_memory_destroy(ops[i].dst_mem);
    dnnl_memory_destroy(ops[i].scratch_mem);
  }
  free(ops);
  free(a_bf16), free(b_bf16);
  free(a_wide), free(b_wide);
  a_wide = b_wide = NULL;
  a_wide_cap = b_wide_cap = 0;
  for (int i = 0; i < MAX_HELD; i++) free(held[i].copy);
  memset(held, 0, sizeof held);
  n_held = 0;
  a_bf16 = b_bf16 = NULL;
  a_bf16_cap = b_bf16_cap = 0;
  free(scratchpad);
  scratchpad = NULL;
  scratchpad_bytes = 0;
  ops = NULL;
  n_ops = cap_ops = 0;
  if (stream) dnnl_stream_destroy(stream);
  if (engine) dnnl_engine_destroy(engine);
  stream = NULL;
  engine = NULL;
}

static void shape_text(char *buf, size_t n, const MatmulOp *op) {
  snprintf(buf, n, "%s matmul batch=%ld M=%ld K=%ld N=%ld trans_a=%d trans_b=%d accumulate=%d strides=%ld,%ld,%ld",
           dnn_precision_name(op->precision), (long)op->batch, (long)op->M, (long)op->K, (long)op->N, op->trans_a, op->trans_b, op->accumulate,
           (long)op->a_stride, (long)op->b_stride, (long)op->dst_stride);
}

/* Describes a (batch, rows, cols) operand; `transposed` means each matrix is
 * stored (cols, rows); matrices are `stride` floats apart. 2-D when batch is
 * 1, so plain GEMMs get 2-D kernels. */
static void init_md(dnnl_memory_desc_t *md, dnnl_data_type_t type, int64_t batch, int64_t rows, int64_t cols,
                    int transposed, int64_t stride, const char *shape) {
  if (batch == 1) {
    dnnl_dims_t dims = {rows, cols};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 2, dims, type, transposed ? dnnl_ba : dnnl_ab), shape);
  } else {
    dnnl_dims_t dims = {batch, rows, cols};
    dnnl_dims_t strides = {stride, transposed ? 1 : cols, transposed ? rows : 1};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(md, 3, dims, type, strides), shape);
  }
}

static void build_op(MatmulOp *op) {
  char shape[160];
  shape_text(shape, sizeof shape, op);
  dnnl_memory_desc_t a_md, b_md, dst_md;
  /* bf16 operands, fp32 product: oneDNN accumulates bf16 products in fp32. */
  op->emulated = op->precision == DNN_BF16 && strcmp(dnn_bf16_kernel(), "none") == 0;
  dnnl_data_type_t in = op->precision == DNN_BF16 && !op->emulated ? dnnl_bf16 : dnnl_f32;
  init_md(&a_md, in, op->batch, op->M, op->K, op->trans_a, op->a_stride, shape);
  init_md(&b_md, in, op->batch, op->K, op->N, op->trans_b, op->b_stride, shape);
  init_md(&dst_md, dnnl_f32, op->batch, op->M, op->N, 0, op->dst_stride, shape);

  dnnl_matmul_desc_t desc;
  DNNL_CHECK(dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &dst_md), shape);
  dnnl_primitive_attr_t attr;
  DNNL_CHECK(dnnl_primitive_attr_create(&attr), shape);
  DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), shape);
  if (op->accumulate) {
    dnnl_post_ops_t post_ops;
    DNNL_CHECK(dnnl_post_ops_create(&post_ops), shape);
    DNNL_CHECK(dnnl_post_ops_append_sum(post_ops, 1.0f), shape);
    DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, post_ops), shape);
    DNNL_CHECK(dnnl_post_ops_destroy(post_ops), shape);
  }
  dnnl_primitive_desc_t pd;
  DNNL_CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL), shape);
  DNNL_CHECK(dnnl_primitive_attr_destroy(attr), shape);
  const dnnl_memory_desc_t *scratch_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  HB_ASSERT(scratch_md != NULL, "user scratchpad mode always reports a scratchpad descriptor");
  op->scratch_bytes = dnnl_memory_desc_get_size(scratch_md);
  DNNL_CHECK(dnnl_memory_create(&op->scratch_mem, scratch_md, engine, DNNL_MEMORY_NONE), shape);
  DNNL_CHECK(dnnl_primitive_create(&op->prim, pd), shape);
  DNNL_CHECK(dnnl_primitive_desc_destroy(pd), shape);
  /* Memory objects without data: the handle is set on every call. */
  DNNL_CHECK(dnnl_memory_create(&op->a_mem, &a_md, engine, DNNL_MEMORY_NONE), shape);
  DNNL_CHECK(dnnl_memory_create(&op->b_mem, &b_md, engine, DNNL_MEMORY_NONE), shape);
  DNNL_CHECK(dnnl_memory_create(&op->dst_mem, &dst_md, engine, DNNL_MEMORY_NONE), shape);
}

static MatmulOp *find_op(const MatmulOp *key) {
  for (int i = 0; i < n_ops; i++) {
    MatmulOp *op = &ops[i];
    if (op->batch == key->batch && op->M == key->M && op->K == key->K && op->N == key->N &&
        op->trans_a == key->trans_a && op->trans_b == key->trans_b && op->accumulate == key->accumulate &&
        op->precision == key->precision &&
        op->a_stride == key->a_stride && op->b_stride == key->b_stride && op->dst_stride == key->dst_stride)
      return op;
  }
  if (n_ops == cap_ops) {
    cap_ops = cap_ops ? 2 * cap_ops : 32;
    MatmulOp *grown = realloc(ops, (size_t)cap_ops * sizeof *ops);
    if (!grown) HB_FATAL("out of memory growing the matmul cache");
    ops = grown;
  }
  MatmulOp *op = &ops[n_ops++];
  *op = *key;
  build_op(op);
  return op;
}

/* Denormals flush to (signed) zero, as the AVX-512 BF16 instruction does,
 * so the scalar and the vector rounding agree bit for bit. */
uint16_t dnn_bf16_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN stays a (quiet) NaN */
  if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
  u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest, ties to even */
  return (uint16_t)(u >> 16);
}

static float dnn_bf16_widen(uint16_t bits) {
  uint32_t u = (uint32_t)bits << 16;
  float r;
  memcpy(&r, &u, sizeof r);
  return r;
}

float dnn_bf16_round(float x) { return dnn_bf16_widen(dnn_bf16_bits(x)); }

static void round_scalar(uint16_t *dst, const float *src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = dnn_bf16_bits(src[i]);
}

#if defined(__GNUC__) && defined(__x86_64__)
/* VCVTNEPS2BF16, chosen at run time so a portable build uses it too. */
__attribute__((target("avx512bf16,avx512f,avx512vl"))) static void round_avx512(uint16_t *dst, const float *src,
                                                                               int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
  round_scalar(dst + i, src + i, n - i);
}
#endif

typedef void (*RoundFn)(uint16_t *, const float *, int64_t);
static RoundFn round_fn(void) {
  static RoundFn fn;
  if (!fn) {
    fn = round_scalar;
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx512bf16")) fn = round_avx512;
#endif
  }
  return fn;
}

/* Rows per parallel chunk of a long operand: big enough to amortise the
 * fork, small enough to split a linear layer's activations. */
#define ROUND_CHUNK (1 << 14)

/* The bf16 copy of an operand of `batch` matrices of `floats` each, `stride`
 * apart: same layout (so the primitive's strides hold), only the matrices
 * themselves converted. */
static const uint16_t *to_bf16(uint16_t **buf, size_t *cap, const float *src, int64_t batch, int64_t floats,
                               int64_t stride) {
  double t0 = hb_now_seconds();
  size_t extent = (size_t)((batch - 1) * stride + floats);
  if (extent > *cap) {
    free(*buf);
    *buf = hb_aligned_alloc(extent * sizeof(uint16_t));
    *cap = extent;
  }
  RoundFn fn = round_fn();
  uint16_t *dst = *buf;
  if (batch == 1 || stride == floats) {
    int64_t n = (int64_t)extent, chunks = (n + ROUND_CHUNK - 1) / ROUND_CHUNK;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
      int64_t lo = c * ROUND_CHUNK, len = n - lo < ROUND_CHUNK ? n - lo : ROUND_CHUNK;
      fn(dst + lo, src + lo, len);
    }
  } else {
#pragma omp parallel for schedule(static) if (batch * floats > ROUND_CHUNK)
    for (int64_t i = 0; i < batch; i++) fn(dst + i * stride, src + i * stride, floats);
  }
  convert_seconds += hb_now_seconds() - t0;
  return dst;
}

void dnn_bf16_hold(const float *src, size_t n) {
  if (precision != DNN_BF16) return;
  HB_ASSERT(n_held < MAX_HELD, "at most 8 operands held at once");
  double t0 = hb_now_seconds();
  HeldOperand *h = &held[n_held++];
  h->src = src, h->n = n;
  to_bf16(&h->copy, &h->cap, src, 1, (int64_t)n, 0);
  matmul_seconds += hb_now_seconds() - t0; /* rounding is part of the products' cost */
}

void dnn_bf16_release(const float *src) {
  if (precision != DNN_BF16) return;
  HB_ASSERT(n_held > 0 && held[n_held - 1].src == src, "held operands are released innermost first");
  n_held--;
}

/* The held bf16 copy covering [src, src + extent), or NULL. */
static const uint16_t *held_copy(const float *src, int64_t extent) {
  uintptr_t lo = (uintptr_t)src, hi = (uintptr_t)(src + extent);
  for (int i = n_held - 1; i >= 0; i--) {
    uintptr_t h_lo = (uintptr_t)held[i].src, h_hi = (uintptr_t)(held[i].src + held[i].n);
    if (lo >= h_lo && hi <= h_hi) return held[i].copy + (lo - h_lo) / sizeof(float);
  }
  return NULL;
}

/* The bf16 operand of a product: the held copy when there is one, else a fresh rounding. */
static const uint16_t *bf16_operand(uint16_t **buf, size_t *cap, const float *src, int64_t batch, int64_t floats,
                                    int64_t stride) {
  const uint16_t *h = held_copy(src, (batch - 1) * stride + floats);
  return h ? h : to_bf16(buf, cap, src, batch, floats, stride);
}

/* Where oneDNN has no bf16 matmul at all (CPUs without AVX-512, oneDNN 2.6),
 * bf16 mode widens the bf16 operands back to fp32 for an fp32 product: the
 * same operands, and a product of two bf16 values is exact in fp32, so only
 * the order of the fp32 accumulation can differ. Tests of the bf16 path then
 * run on every CPU; the commands still refuse bf16 without native hardware. */
static const float *widen(float **buf, size_t *cap, const uint16_t *src, int64_t batch, int64_t floats,
                          int64_t stride) {
  size_t extent = (size_t)((batch - 1) * stride + floats);
  if (extent > *cap) {
    free(*buf);
    *buf = hb_aligned_alloc(extent * sizeof(float));
    *cap = extent;
  }
  int64_t n_mats = batch == 1 || stride == floats ? 1 : batch, len = n_mats == 1 ? (int64_t)extent : floats;
  for (int64_t m = 0; m < n_mats; m++)
    for (int64_t i = m * stride; i < m * stride + len; i++) (*buf)[i] = dnn_bf16_widen(src[i]);
  return *buf;
}

void dnn_matmul_strided(float *dst, const float *a, const float *b, int64_t batch, int64_t M, int64_t K, int64_t N,
                        int trans_a, int trans_b, int accumulate, int64_t a_stride, int64_t b_stride,
                        int64_t dst_stride) {
  HB_ASSERT(engine != NULL, "dnn_init() runs before any matmul");
  HB_ASSERT(batch > 0 && M > 0 && K > 0 && N > 0, "oneDNN rejects empty products");
  double t0 = hb_now_seconds();
  MatmulOp key;
  memset(&key, 0, sizeof key);
  key.batch = batch, key.M = M, key.K = K, key.N = N;
  key.trans_a = trans_a != 0, key.trans_b = trans_b != 0, key.accumulate = accumulate != 0;
  key.precision = precision;
  /* One matrix per batch: strides do not matter, so they do not split the cache. */
  key.a_stride = batch > 1 ? a_stride : 0, key.b_stride = batch > 1 ? b_stride : 0;
  key.dst_stride = batch > 1 ? dst_stride : 0;
  MatmulOp *op = find_op(&key);
  char shape[160];
  shape_text(shape, sizeof shape, op);
  const void *a_in = a, *b_in = b;
  if (precision == DNN_BF16) {
    a_in = bf16_operand(&a_bf16, &a_bf16_cap, a, batch, M * K, key.a_stride);
    b_in = bf16_operand(&b_bf16, &b_bf16_cap, b, batch, K * N, key.b_stride);
    if (op->emulated) {
      a_in = widen(&a_wide, &a_wide_cap, a_in, batch, M * K, key.a_stride);
      b_in = widen(&b_wide, &b_wide_cap, b_in, batch, K * N, key.b_stride);
    }
  }
  DNNL_CHECK(dnnl_memory_set_data_handle(op->a_mem, (void *)a_in), shape);
  DNNL_CHECK(dnnl_memory_set_data_handle(op->b_mem, (void *)b_in), shape);
  DNNL_CHECK(dnnl_memory_set_data_handle(op->dst_mem, dst), shape);
  if (op->scratch_bytes > scratchpad_bytes) {
    free(scratchpad);
    scratchpad = hb_aligned_alloc(op->scratch_bytes);
    scratchpad_bytes = op->scratch_bytes;
  }
  DNNL_CHECK(dnnl_memory_set_data_handle(op->scratch_mem, scratchpad), shape);
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, op->a_mem},
                             {DNNL_ARG_WEIGHTS, op->b_mem},
                             {DNNL_ARG_DST, op->dst_mem},
                             {DNNL_ARG_SCRATCHPAD, op->scratch_mem}};
  DNNL_CHECK(dnnl_primitive_execute(op->prim, stream, 4, args), shape);
  DNNL_CHECK(dnnl_stream_wait(stream), shape);
  matmul_seconds += hb_now_seconds() - t0;
}

void dnn_matmul(float *dst, const float *a, const float *b, int64_t batch, int64_t M, int64_t K, int64_t N,
                int trans_a, int trans_b, int accumulate) {
  dnn_matmul_strided(dst, a, b, batch, M, K, N, trans_a, trans_b, accumulate, M * K, K * N, M * N);
}

void dnn_linear_forward(float *y, const float *x, const float *w, int64_t M, int64_t K, int64_t N) {
  dnn_matmul(y, x, w, 1, M, K, N, 0, 1, 0);
}

void dnn_linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int64_t M,
                         int64_t K, int64_t N, int accumulate_dx) {
  dnn_bf16_hold(dy, (size_t)(M * N));
  if (dx) dnn_matmul(dx, dy, w, 1, M, N, K, 0, 0, accumulate_dx);
  dnn_matmul(dw, dy, x, 1, N, M, K, 1, 0, 1);
  dnn_bf16_release(dy);
}

double dnn_matmul_seconds(void) { return matmul_seconds; }
double dnn_convert_seconds(void) { return convert_seconds; }
void dnn_reset_timers(void) { matmul_seconds = convert_seconds = 0; }

void dnn_set_precision(DnnPrecision p) { precision = p; }
DnnPrecision dnn_precision(void) { return precision; }
const char *dnn_precision_name(DnnPrecision p) { return p == DNN_BF16 ? "bf16" : "fp32"; }

int dnn_precision_parse(const char *text, DnnPrecision *out) {
  if (strcmp(text, "fp32") == 0) *out = DNN_FP32;
  else if (strcmp(text, "bf16") == 0) *out = DNN_BF16;
  else return 0;
  return 1;
}

/* Asks oneDNN which kernel it would pick for a bf16 linear-layer product
 * (4096 x 128 x 384, the reference shape's): it knows the CPU better than a
 * cpuid test here would (AMX needs the OS's permission too). */
const char *dnn_bf16_kernel(void) {
  static char kernel[64];
  if (kernel[0]) return kernel;
  dnn_init();
  dnnl_memory_desc_t a_md, b_md, dst_md;
  dnnl_dims_t a_dims = {4096, 128}, b_dims = {128, 384}, dst_dims = {4096, 384};
  const char *shape = "the bf16 probe product";
  DNNL_CHECK(dnnl_memory_desc_init_by_tag(&a_md, 2, a_dims, dnnl_bf16, dnnl_ab), shape);
  DNNL_CHECK(dnnl_memory_desc_init_by_tag(&b_md, 2, b_dims, dnnl_bf16, dnnl_ba), shape);
  DNNL_CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_f32, dnnl_ab), shape);
  dnnl_matmul_desc_t desc;
  DNNL_CHECK(dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &dst_md), shape);
  dnnl_primitive_desc_t pd;
  if (dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL) != dnnl_success) {
    snprintf(kernel, sizeof kernel, "none");
    return kernel;
  }
  const char *impl = NULL;
  DNNL_CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl), shape);
  snprintf(kernel, sizeof kernel, "%s", impl ? impl : "unknown");
  DNNL_CHECK(dnnl_primitive_desc_destroy(pd), shape);
  return kernel;
}

int dnn_bf16_native(void) {
  const char *k = dnn_bf16_kernel();
  return strstr(k, "amx") != NULL || strstr(k, "bf16") != NULL;
}
int dnn_cache_size(void) { return n_ops; }
