#include "hybench/dnn.h"

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
  int64_t a_stride, b_stride, dst_stride; /* batch strides in floats */
  dnnl_primitive_t prim;
  dnnl_memory_t a_mem, b_mem, dst_mem, scratch_mem;
  size_t scratch_bytes;
} MatmulOp;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static MatmulOp *ops;
static int n_ops, cap_ops;
static double matmul_seconds;
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
  snprintf(buf, n, "matmul batch=%ld M=%ld K=%ld N=%ld trans_a=%d trans_b=%d accumulate=%d strides=%ld,%ld,%ld",
           (long)op->batch, (long)op->M, (long)op->K, (long)op->N, op->trans_a, op->trans_b, op->accumulate,
           (long)op->a_stride, (long)op->b_stride, (long)op->dst_stride);
}

/* Describes a (batch, rows, cols) operand; `transposed` means each matrix is
 * stored (cols, rows); matrices are `stride` floats apart. 2-D when batch is
 * 1, so plain GEMMs get 2-D kernels. */
static void init_md(dnnl_memory_desc_t *md, int64_t batch, int64_t rows, int64_t cols, int transposed, int64_t stride,
                    const char *shape) {
  if (batch == 1) {
    dnnl_dims_t dims = {rows, cols};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 2, dims, dnnl_f32, transposed ? dnnl_ba : dnnl_ab), shape);
  } else {
    dnnl_dims_t dims = {batch, rows, cols};
    dnnl_dims_t strides = {stride, transposed ? 1 : cols, transposed ? rows : 1};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(md, 3, dims, dnnl_f32, strides), shape);
  }
}

static void build_op(MatmulOp *op) {
  char shape[160];
  shape_text(shape, sizeof shape, op);
  dnnl_memory_desc_t a_md, b_md, dst_md;
  init_md(&a_md, op->batch, op->M, op->K, op->trans_a, op->a_stride, shape);
  init_md(&b_md, op->batch, op->K, op->N, op->trans_b, op->b_stride, shape);
  init_md(&dst_md, op->batch, op->M, op->N, 0, op->dst_stride, shape);

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
  /* One matrix per batch: strides do not matter, so they do not split the cache. */
  key.a_stride = batch > 1 ? a_stride : 0, key.b_stride = batch > 1 ? b_stride : 0;
  key.dst_stride = batch > 1 ? dst_stride : 0;
  MatmulOp *op = find_op(&key);
  char shape[160];
  shape_text(shape, sizeof shape, op);
  DNNL_CHECK(dnnl_memory_set_data_handle(op->a_mem, (void *)a), shape);
  DNNL_CHECK(dnnl_memory_set_data_handle(op->b_mem, (void *)b), shape);
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
  if (dx) dnn_matmul(dx, dy, w, 1, M, N, K, 0, 0, accumulate_dx);
  dnn_matmul(dw, dy, x, 1, N, M, K, 1, 0, 1);
}

double dnn_matmul_seconds(void) { return matmul_seconds; }
void dnn_reset_timers(void) { matmul_seconds = 0; }
int dnn_cache_size(void) { return n_ops; }
