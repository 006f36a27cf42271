"""hybench: the Python bridge to hybrid-bench's files, for researchers. Needs only Debian's
python3-numpy and python3-torch, and no network. Use Debian's interpreter (on many machines
`python3` on PATH is another one) with the repository's python/ directory on the path:

    PYTHONPATH=python /usr/bin/python3 -c 'import hybench'

API
    load_model(path_or_run_dir, dtype=torch.float32) -> HybenchModel, a torch.nn.Module
        A checkpoint (.safetensors), or a `hybench train` run directory (its latest
        checkpoint); the config comes from the checkpoint's __metadata__["config"].
        model(tokens (B, T)) -> logits (B, T, V), equal to `hybench forward`'s within 1e-5
        (tests/cli/python.sh); model.loss(tokens) -> the mean next-token cross-entropy.
    save_checkpoint(model, path)
        Writes the model back as a checkpoint `hybench` reads; unchanged, the same bytes.
    read_tok(path, with_vocab=False) -> int64 numpy array (count,) [, vocab]
    write_tok(path, ids, vocab)
        Token files (.tok), the corpora of `hybench train` (format in hybench.tok).
    read_safetensors(path, with_dtypes=False) -> (tensors, metadata[, dtypes])
    write_safetensors(path, tensors, metadata=None)
    FormatError
        Raised on a bad file; its message is one line 'PATH: FIELD: problem'.
    reference
        The model's math (DESIGN.md section 3) on a mapping name -> tensor, the config parser
        (reference.parse_config) and the tensor names and shapes (reference.param_shapes).

Every writer writes to a temporary name and renames it, so no reader sees a partial file.
"""
from . import reference
from .checkpoint import load_checkpoint, read_safetensors, write_safetensors
from .files import FormatError
from .model import HybenchModel, load_model, save_checkpoint
from .tok import read_tok, write_tok

__all__ = ["FormatError", "HybenchModel", "load_checkpoint", "load_model", "read_safetensors", "read_tok",
           "reference", "save_checkpoint", "write_safetensors", "write_tok"]
