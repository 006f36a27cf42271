"""Checkpoints: safetensors files (DESIGN.md section 3) read and written with json + struct +
numpy (no safetensors package), and the run directories of `hybench train`.

Layout: an 8-byte little-endian header length N, N bytes of JSON
    {"__metadata__": {"config": "<key = value lines>", "format": "hybench-1", ...},
     "NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
padded with spaces to a multiple of 8, then the raw little-endian data (offsets relative to the
end of the header). __metadata__ ends with "crc32.NAME": "%08x" % zlib.crc32(data of NAME) for
every tensor, in tensor order (include/hybench/tensorio.h): written by write_safetensors,
verified and removed from the metadata by read_safetensors; files without them load unchecked. A hybench checkpoint holds exactly the F32 tensors reference.param_shapes
names for the config in __metadata__["config"], in the engine's order; write_safetensors keeps
the order and the metadata it is given, so reading a file and writing it back gives the same
bytes.

    read_safetensors(path, with_dtypes=False) -> (tensors, metadata[, dtypes])
    write_safetensors(path, tensors, metadata=None)
    checkpoint_path(path_or_run_dir) -> the weights file
    load_checkpoint(path_or_run_dir) -> (config, tensors, metadata, path)
"""
import json
import os
import re
import struct
import zlib
from collections import OrderedDict

import numpy as np

from . import reference
from .files import FormatError, write_atomically

_ST_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NP_TO_ST = {v: k for k, v in _ST_DTYPES.items()}


def _read_header(path, raw):
    """The JSON header of a safetensors file's bytes, and where its data starts."""
    if len(raw) < 8:
        raise FormatError(path, "header length", f"file has {len(raw)} bytes, fewer than the 8 of the length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise FormatError(path, "header length", f"{n} bytes, but only {len(raw) - 8} follow")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FormatError(path, "header", f"not JSON: {e}") from None
    if not isinstance(header, dict):
        raise FormatError(path, "header", "not a JSON object")
    return header, 8 + n


def _data_begin(info):
    """Where a tensor's data begins, for sorting; a malformed entry sorts first and fails there."""
    try:
        return int(info["data_offsets"][0])
    except (KeyError, TypeError, ValueError, IndexError):
        return -1


def _tensor_view(path, name, info, data):
    """The array the header entry `info` describes, as an array over `data`, and its dtype."""
    field = f"tensor {name}"
    try:
        dt, shape, (b, e) = info["dtype"], tuple(int(d) for d in info["shape"]), info["data_offsets"]
    except (KeyError, TypeError, ValueError):
        raise FormatError(path, field, "needs dtype, shape and data_offsets [begin, end]") from None
    if not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e <= len(data)):
        raise FormatError(path, field, f"data_offsets {b}..{e} outside the {len(data)} bytes of data")
    if dt == "BF16":  # widened to float32
        width = 2
    elif dt in _ST_DTYPES:
        width = _ST_DTYPES[dt].itemsize
    else:
        raise FormatError(path, field, f"unsupported dtype {dt}")
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) * width != e - b:
        raise FormatError(path, field, f"{e - b} bytes do not hold shape {list(shape)} of {dt}")
    if dt == "BF16":
        u32 = np.frombuffer(data[b:e], dtype="<u2").astype(np.uint32) << 16
        return u32.view(np.float32).reshape(shape), dt
    return np.frombuffer(data[b:e], dtype=_ST_DTYPES[dt]).reshape(shape).copy(), dt


def read_safetensors(path, with_dtypes=False):
    """Reads and validates a safetensors file.

    Returns (tensors, metadata): an OrderedDict name -> np.ndarray in the file's data order, and
    the __metadata__ dict (str -> str, header order); with with_dtypes, a third dict name ->
    safetensors dtype string. BF16 is widened to float32. Raises FormatError naming the file
    and the field or tensor on a bad file, OSError when it cannot be read."""
    with open(path, "rb") as f:
        raw = f.read()
    header, start = _read_header(path, raw)
    data = memoryview(raw)[start:]
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise FormatError(path, "__metadata__", "not an object of strings")
    if not all(isinstance(info, dict) for info in header.values()):
        raise FormatError(path, "header", "every entry but __metadata__ must be a tensor object")
    tensors, dtypes = OrderedDict(), {}
    for name, info in sorted(header.items(), key=lambda kv: _data_begin(kv[1])):
        tensors[name], dtypes[name] = _tensor_view(path, name, info, data)
    meta = _verify_checksums(path, header, data, meta)
    return (tensors, meta, dtypes) if with_dtypes else (tensors, meta)


_CHECKSUM_PREFIX = "crc32."  # HB_ST_CHECKSUM_PREFIX


def _checksum(data):
    return "%08x" % zlib.crc32(data)


def _verify_checksums(path, header, data, meta):
    """The metadata without its checksum keys, after checking them as hb_st_load does: each names
    a tensor and matches its bytes, and a file with any has one for every tensor."""
    sums = {k[len(_CHECKSUM_PREFIX):]: v for k, v in meta.items() if k.startswith(_CHECKSUM_PREFIX)}
    for name, want in sums.items():
        if name not in header:
            raise FormatError(path, f"__metadata__: {_CHECKSUM_PREFIX}{name}",
                              "the checksum of a tensor the file does not hold")
        b, e = header[name]["data_offsets"]
        got = _checksum(data[b:e])
        if got != want:
            raise FormatError(path, f"tensor {name}",
                              f"data damaged: its CRC-32 is {got}, __metadata__ {_CHECKSUM_PREFIX}{name} says {want}")
    if sums:
        for name in header:
            if name not in sums:
                raise FormatError(path, f"tensor {name}", f"no checksum (__metadata__ {_CHECKSUM_PREFIX}{name}) "
                                  "although the other tensors have one")
    return {k: v for k, v in meta.items() if not k.startswith(_CHECKSUM_PREFIX)}


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (mapping name -> array; in the given order, C-ordered, little-endian) and
    `metadata` (mapping str -> str, in the given order) the way the engine's hb_st_save does:
    compact JSON, __metadata__ first, UTF-8 unescaped, then one checksum per tensor (any given
    in `metadata` are replaced), padded with spaces to 8 bytes. Written to a temporary name,
    then renamed."""
    header, chunks, off = {}, [], 0
    meta = {str(k): str(v) for k, v in (metadata or {}).items() if not str(k).startswith(_CHECKSUM_PREFIX)}
    if meta or tensors:
        header["__metadata__"] = meta
    for name, arr in tensors.items():
        a = np.asarray(arr, order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in _NP_TO_ST:
            raise ValueError(f"tensor {name}: unsupported dtype {a.dtype}")
        b = a.astype(dt, copy=False).tobytes()
        header[name] = {"dtype": _NP_TO_ST[dt], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        meta[_CHECKSUM_PREFIX + name] = _checksum(b)
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)  # the data starts 8-aligned (trailing spaces are allowed)
    write_atomically(path, [struct.pack("<Q", len(h)), h] + chunks)


_RUN_CKPT = re.compile(r"tok(\d+)\.safetensors")  # weights only: tokN.optim.safetensors does not match


def checkpoint_path(path_or_run_dir):
    """A file is returned as it is. A run directory of `hybench train` (it has run.conf) gives its
    latest weights, RUN/checkpoints/tokN.safetensors with the largest N: the rule of
    hb_run_final_checkpoint (include/hybench/rundir.h, the format's owner), kept here so the
    bridge needs no engine binary."""
    if not os.path.isdir(path_or_run_dir):
        return path_or_run_dir
    run = path_or_run_dir
    if not os.path.isfile(os.path.join(run, "run.conf")):
        raise FormatError(run, "run.conf", "missing (not a run directory of hybench train)")
    ckpts = os.path.join(run, "checkpoints")
    names = os.listdir(ckpts) if os.path.isdir(ckpts) else []
    found = [(int(m.group(1)), name) for name in names if (m := _RUN_CKPT.fullmatch(name))]
    if not found:
        raise FormatError(ckpts, "checkpoints", "no checkpoint (tokN.safetensors)")
    return os.path.join(ckpts, max(found)[1])


def load_checkpoint(path_or_run_dir):
    """Reads a hybench checkpoint (or a run directory's latest, see checkpoint_path) and checks it
    against the config in its own __metadata__["config"], as the engine does.

    Returns (config, tensors, metadata, path): a reference.Config, an OrderedDict name -> float32
    array in file order, the __metadata__ dict and the file read. Raises FormatError naming the
    file and the field or tensor."""
    path = checkpoint_path(path_or_run_dir)
    tensors, meta, dtypes = read_safetensors(path, with_dtypes=True)
    if "config" not in meta:
        raise FormatError(path, "__metadata__", 'no "config" entry (not a hybench checkpoint?)')
    try:
        cfg = reference.parse_config(meta["config"])
    except ValueError as e:
        raise FormatError(path, "__metadata__.config", str(e)) from None
    problems = reference.check_params(cfg, tensors)
    problems += [f"tensor {n}: dtype {d}, expected F32" for n, d in dtypes.items() if d != "F32"]
    if problems:
        raise FormatError(path, "tensors", "; ".join(problems))
    return cfg, tensors, meta, path
