"""Writing a user's output file whole or not at all.

:func:`write_atomic` writes to a temporary file beside the target and renames it over the target only when
everything was written, so a full disk or an interrupt never leaves a truncated file, and the name written is
exactly the name asked for. A path that cannot be written raises :class:`~lstm97.errors.UserError` naming it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import UserError


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` with a binary file that becomes ``path`` once ``write`` returns; return the path."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"cannot write {str(path)!r}: it is a directory; give a file name.")
    if not path.parent.is_dir():
        raise UserError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} does not exist.")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.chmod(tmp, 0o666 & ~_umask())  # the mode an ordinary new file gets (mkstemp makes it private)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UserError(f"cannot write {str(path)!r}: {exc.strerror or exc}; nothing was written.") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    """:func:`write_atomic` for text (UTF-8), with a final newline."""
    data = (text if text.endswith("\n") else text + "\n").encode()
    return write_atomic(path, lambda f: f.write(data))
