/* File formats: safetensors checkpoints, NumPy .npy arrays, token files.
 *
 * safetensors (DESIGN.md section 3): 8-byte little-endian header length N,
 * N bytes of JSON {"NAME": {"dtype": "F32", "shape": [..], "data_offsets":
 * [begin, end]}, ..., "__metadata__": {"key": "string value", ...}}, then the
 * raw little-endian data; offsets are relative to the end of the header.
 * Checksums: hb_st_save adds "crc32.NAME": "1c291ca3" to __metadata__ for
 * every tensor NAME, after the caller's keys and in tensor order: the CRC-32
 * of zlib (Python: "%08x" % zlib.crc32(bytes)) of the tensor's data, 8
 * lowercase hex digits. The loader verifies every one, so a damaged byte is
 * an input error naming the file and the tensor. Files without checksum keys
 * (written before they existed, or by other tools) load unchecked; a file
 * with some must have one for every tensor.
 *
 * Token file (.tok), version 1, all little-endian:
 *   bytes 0-7   magic "HBTOKENS"
 *   bytes 8-11  u32 version = 1
 *   bytes 12-15 u32 bytes per token: 2 (u16) or 4 (u32)
 *   bytes 16-19 u32 vocab: every id is < vocab
 *   bytes 20-23 u32 reserved = 0
 *   bytes 24-31 u64 count
 *   then count ids.
 * Every reader validates everything and reports bad input with
 * hb_input_error(), naming the file and the field or tensor. */
#ifndef HYBENCH_TENSORIO_H
#define HYBENCH_TENSORIO_H

#include <stddef.h>
#include <stdint.h>

#define HB_MAX_DIMS 4

typedef struct {
  char *name;
  char dtype[8]; /* "F32", "I32", "I64", ... as written in the header */
  int ndim;
  int64_t shape[HB_MAX_DIMS];
  size_t begin, end; /* byte offsets into data */
} HbStEntry;

typedef struct {
  char *path;
  int n_entries;
  HbStEntry *entries;
  int n_meta;
  char **meta_keys, **meta_values; /* __metadata__, unescaped strings */
  unsigned char *data;             /* the raw data block */
  size_t data_len;
} HbSafetensors;

/* A tensor to save: name, shape, f32 data. */
typedef struct {
  const char *name;
  int ndim;
  int64_t shape[HB_MAX_DIMS];
  const float *data;
} HbStTensor;

#define HB_ST_CHECKSUM_PREFIX "crc32."

/* Loads and validates: header length within the file, JSON well formed,
 * known dtype, shape product matches the offsets, offsets within the data and
 * not overlapping, checksums (when present) match. The checksum keys stay
 * in the metadata. */
void hb_st_load(HbSafetensors *st, const char *path);
/* hb_st_load that reports a bad or missing file instead of exiting: returns 0
 * with the one-line message ("FILE: tensor NAME: ...") in err and *st
 * empty, or 1 with *st loaded. For choosing among files (resume takes the
 * newest checkpoint that loads). */
int hb_st_try_load(HbSafetensors *st, const char *path, char *err, size_t err_cap);
/* The F32 tensor `name` with exactly this shape, or an input error naming the
 * file and tensor (missing / wrong dtype / wrong shape). */
const float *hb_st_get_f32(const HbSafetensors *st, const char *name, int ndim, const int64_t *shape);
/* Finds an entry by name; NULL when absent. */
const HbStEntry *hb_st_find(const HbSafetensors *st, const char *name);
/* A __metadata__ value; NULL when absent. */
const char *hb_st_meta(const HbSafetensors *st, const char *key);
void hb_st_free(HbSafetensors *st);
/* Writes atomically (temporary name, then rename). Tensors are written in the
 * given order; metadata values are JSON-escaped and followed by the
 * checksums (keys starting with HB_ST_CHECKSUM_PREFIX are the writer's). */
void hb_st_save(const char *path, const HbStTensor *tensors, int n, const char *const *meta_keys,
                const char *const *meta_values, int n_meta);

/* CRC-32 of zlib (IEEE 802.3 polynomial): "123456789" gives 0xcbf43926. */
uint32_t hb_crc32(const void *data, size_t n);

/* .npy: reads a C-ordered 2-D int32 or int64 array (version 1.0-3.0 headers)
 * into newly allocated int64 values; *rows, *cols get the shape. */
int64_t *hb_npy_read_int2d(const char *path, int64_t *rows, int64_t *cols);
/* Writes a little-endian float32 C-ordered array, atomically. */
void hb_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);
/* Writes a little-endian int32 C-ordered array ('<i4'), atomically: the token
 * batches of `hybench tokens to-npy`. */
void hb_npy_write_i32(const char *path, const int32_t *data, int ndim, const int64_t *shape);

typedef struct {
  uint32_t vocab;
  uint64_t count;
  uint32_t *ids; /* (count) */
} HbTokens;

/* Reads a token file. An id >= the file's vocab, or a file vocab larger than
 * model_vocab (when model_vocab > 0), is an input error naming the file, the
 * index and the id. */
void hb_tokens_read(HbTokens *tokens, const char *path, uint32_t model_vocab);
void hb_tokens_write(const char *path, const uint32_t *ids, uint64_t count, uint32_t vocab);
void hb_tokens_free(HbTokens *tokens);

#endif
