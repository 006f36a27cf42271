"""Token files (.tok), the corpora `hybench train` reads (include/hybench/tensorio.h; README,
"Python bridge and the .tok format"). Version 1, all little-endian:

    bytes 0-7   magic "HBTOKENS"
    bytes 8-11  u32 version = 1
    bytes 12-15 u32 bytes per token: 2 (u16) when vocab <= 65536, else 4 (u32)
    bytes 16-19 u32 vocab: every id is < vocab
    bytes 20-23 u32 reserved = 0
    bytes 24-31 u64 count
    then count ids.

    read_tok(path, with_vocab=False) -> ids, int64 (count,)  [, vocab]
    write_tok(path, ids, vocab)

The reader makes the engine's checks (src/io/tokens.c) with the engine's words.
"""
import os
import struct

import numpy as np

from .files import FormatError, write_atomically

_HEADER = struct.Struct("<8sIIIIQ")  # magic, version, bytes per token, vocab, reserved, count
_MAGIC = b"HBTOKENS"
_VERSION = 1
_ID_DTYPES = {2: np.dtype("<u2"), 4: np.dtype("<u4")}


def _bytes_per_token(vocab):
    return 2 if vocab <= 65536 else 4  # u16 halves the size of byte and BPE corpora


def _check_header(path, header, file_size):
    """(bytes per token, vocab, count) of a validated header."""
    magic, version, width, vocab, reserved, count = header
    if magic != _MAGIC:
        raise FormatError(path, "magic", "not a token file (no HBTOKENS signature)")
    if version != _VERSION:
        raise FormatError(path, "version", f"{version}, expected {_VERSION}")
    if width not in _ID_DTYPES:
        raise FormatError(path, "bytes per token", f"{width}, expected 2 or 4")
    if vocab == 0:
        raise FormatError(path, "vocab", "0; a vocabulary has at least one id")
    if reserved != 0:
        raise FormatError(path, "reserved", f"{reserved}, expected 0")
    body = file_size - _HEADER.size
    if count > body // width:
        raise FormatError(path, "count", f"truncated: header says {count} tokens but the file holds "
                                         f"{body} bytes of ids")
    if body != count * width:
        raise FormatError(path, "count", f"{body - count * width} trailing bytes after {count} tokens")
    return width, vocab, count


def read_tok(path, with_vocab=False):
    """Reads a token file. Returns the ids as an int64 array (count,) (ready for torch), and with
    with_vocab the pair (ids, vocab). Raises FormatError naming the file and the field (or the
    token index) on a bad file: wrong magic, version, width or reserved field, a count that does
    not match the file size, an id >= vocab."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _HEADER.size:
            raise FormatError(path, "header", f"truncated: {size} bytes, the header alone is {_HEADER.size}")
        width, vocab, count = _check_header(path, _HEADER.unpack(f.read(_HEADER.size)), size)
        ids = np.fromfile(f, dtype=_ID_DTYPES[width], count=count).astype(np.int64)
    bad = np.flatnonzero(ids >= vocab)
    if bad.size:
        raise FormatError(path, f"token {bad[0]}", f"id {ids[bad[0]]} >= vocab {vocab}")
    return (ids, vocab) if with_vocab else ids


def write_tok(path, ids, vocab):
    """Writes integer ids (any shape, taken in C order: a (B, T) batch becomes B*T consecutive
    tokens) as a token file of the given vocab, byte for byte as the engine writes it (`hybench
    tokens from-npy` of the same array and vocab gives the same file). Raises ValueError before
    writing anything when vocab is outside [1, 2^32 - 1], ids are not integers, or an id is
    negative or >= vocab. Written to a temporary name, then renamed."""
    if not (isinstance(vocab, (int, np.integer)) and 1 <= vocab <= 0xFFFFFFFF):
        raise ValueError(f"write_tok {path}: vocab {vocab!r} is not an integer in [1, 4294967295]")
    a = np.asarray(ids)
    if a.dtype.kind not in "iu":
        raise ValueError(f"write_tok {path}: ids have dtype {a.dtype}, not an integer type")
    flat = a.reshape(-1)
    bad = np.flatnonzero((flat < 0) | (flat >= vocab))
    if bad.size:
        where = np.unravel_index(bad[0], a.shape) if a.ndim else ()
        raise ValueError(f"write_tok {path}: ids[{', '.join(map(str, where))}] = {flat[bad[0]]} "
                         f"is outside [0, vocab {vocab})")
    width = _bytes_per_token(vocab)
    header = _HEADER.pack(_MAGIC, _VERSION, width, vocab, 0, flat.size)
    write_atomically(path, [header, flat.astype(_ID_DTYPES[width]).tobytes()])
