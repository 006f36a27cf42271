/* The one oneDNN module (STYLE.md rule 7): one engine and stream per process,
 * every dnnl_status_t checked, and each matmul shape built once and cached;
 * a cached primitive is re-pointed at the caller's buffers on every call
 * (dnnl_memory_set_data_handle), so arenas can be reused freely.
 *
 * All products are row-major float32:
 *   dst (batch, M, N) (+)= op(a) (batch, M, K) . op(b) (batch, K, N)
 * where op(a) = a stored (batch, M, K), or a stored (batch, K, M) when trans_a;
 * op(b) = b stored (batch, K, N), or b stored (batch, N, K) when trans_b.
 * Transposes are memory-format tags (ab vs ba, abc vs acb): no copies. With
 * accumulate the product is added into dst (a sum post-op), which is how
 * backward passes add into gradient buffers. */
#ifndef HYBENCH_DNN_H
#define HYBENCH_DNN_H

#include <stddef.h>
#include <stdint.h>

/* Precision of every product (process-wide, set once by the command before
 * the model runs): DNN_FP32 as above, or DNN_BF16: both operands rounded to
 * bfloat16 (nearest, ties to even) into a copy of the same layout, multiplied
 * with fp32 accumulation into the fp32 dst (so accumulate still adds in fp32).
 * Only the products change: weights, optimizer, softmax, norms, recurrences
 * and the loss stay fp32 (fp32 master weights). */
typedef enum { DNN_FP32 = 0, DNN_BF16 = 1 } DnnPrecision;
void dnn_set_precision(DnnPrecision p);
DnnPrecision dnn_precision(void);
const char *dnn_precision_name(DnnPrecision p);
/* "fp32" or "bf16"; 0 for anything else. */
int dnn_precision_parse(const char *text, DnnPrecision *out);
/* The oneDNN kernel of a bf16 linear-layer product on this CPU (e.g.
 * "brg:avx512_core_amx", "brg:avx512_core_bf16"), and whether it is native
 * bf16 hardware (AMX or AVX-512 BF16) rather than an emulation: commands
 * refuse --precision bf16 without it; tests may use the emulation ("none":
 * oneDNN has no bf16 matmul here, and bf16 mode multiplies the bf16-rounded
 * operands in an fp32 product). */
const char *dnn_bf16_kernel(void);
int dnn_bf16_native(void);
/* x rounded to bfloat16 (nearest, ties to even; NaN stays NaN): the bits,
 * and the value as a float. */
uint16_t dnn_bf16_bits(float x);
float dnn_bf16_round(float x);

/* bf16 mode: rounds src[0, n) once and uses that copy for every product whose
 * operand lies inside it until dnn_bf16_release(src) (holds nest; release
 * innermost first). The caller promises not to write src meanwhile. For an
 * operand several products read (K and V across attention's causal groups,
 * a layer's output gradient for dX and dW); no-ops in fp32, and the bits of
 * every product are the same with or without it. */
void dnn_bf16_hold(const float *src, size_t n);
void dnn_bf16_release(const float *src);

void dnn_init(void);
void dnn_shutdown(void);

void dnn_matmul(float *dst, const float *a, const float *b, int64_t batch, int64_t M, int64_t K,
                int64_t N, int trans_a, int trans_b, int accumulate);

/* The same with explicit batch strides (in floats) for a, b and dst: the
 * matrices of one batch need not be adjacent, e.g. row blocks of attention
 * heads laid out (B*H, T, dh), addressed in place without copies. Within a
 * matrix, rows stay contiguous (leading dimension = row length). */
void dnn_matmul_strided(float *dst, const float *a, const float *b, int64_t batch, int64_t M, int64_t K, int64_t N,
                        int trans_a, int trans_b, int accumulate, int64_t a_stride, int64_t b_stride,
                        int64_t dst_stride);

/* Linear layer y (M, N) = x (M, K) . W^T with W stored (N, K), as PyTorch. */
void dnn_linear_forward(float *y, const float *x, const float *w, int64_t M, int64_t K, int64_t N);
/* dx (M, K) = dy (M, N) . W (overwrites dx unless accumulate_dx);
 * dW (N, K) += dy^T . x. dx may be NULL when not needed. */
void dnn_linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int64_t M,
                         int64_t K, int64_t N, int accumulate_dx);

/* Seconds spent inside dnn_matmul since the last reset (for bench breakdowns). */
double dnn_matmul_seconds(void);
/* Of which rounding operands to bf16. */
double dnn_convert_seconds(void);
void dnn_reset_timers(void);
/* Number of distinct cached primitives (tests check reuse). */
int dnn_cache_size(void);

#endif
