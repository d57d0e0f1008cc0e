"""Writing output files so that a failure never leaves a half-written one behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StmodelError


class WriteError(StmodelError, ValueError):
    """The file cannot be written; the message names it and says why."""


@contextmanager
def replacing(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `target`: write it in the `with` block; on success it replaces `target`.

    On any failure the temporary file is removed and `target` keeps its old content (if it had one).
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"{target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise WriteError(f"{target}: no permission to write in {folder}")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=suffix)
    except OSError as e:
        raise WriteError(f"{target}: cannot write in {folder} ({e.strerror})") from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except OSError as e:
        raise WriteError(f"{target}: cannot write ({e.strerror})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
