"""What every reader and writer of this package shares: one error for a bad input file, worded
like the engine's exit-2 input errors, and writing through a temporary name."""
import os


class FormatError(ValueError):
    """A file that is not what it should be. str(error) is one line, 'PATH: FIELD: problem', as
    `hybench` prints for the same file; .path, .field and .problem hold the parts."""

    def __init__(self, path, field, problem):
        super().__init__(f"{path}: {field}: {problem}")
        self.path, self.field, self.problem = str(path), field, problem


def write_atomically(path, chunks):
    """Writes the bytes-like items of `chunks` to PATH.tmp.PID and renames that to `path` (the
    engine's hb_out_open / hb_out_commit naming): a reader never sees a half-written file, and
    a write that fails, or a chunk generator that raises, leaves nothing behind."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
