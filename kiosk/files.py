"""Writing files the user keeps (exports, reports, rejected-row lists) so a failure never costs the old one.

`write_atomic` puts the new content in a temporary file in the same folder, flushes it to disk,
then renames it over the target: a full disk, a crash or a power cut leaves either the old file
or the new one, never a half-written mix. Writers render to memory first (openpyxl, csv and
reportlab all write to a buffer), so a failing disk is met in one place with one clear line.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import InvalidInput

_REASONS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
            errno.EFBIG: "the file is too large for this disk", errno.EROFS: "the disk is read-only",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied"}


def write_atomic(path: str | Path, content: bytes | str, mode: int = 0o644) -> Path:
    """Replace `path` with `content` (str is written as UTF-8) all at once; returns the path.

    On any OSError the old file is left as it was, the temporary file is removed, and the error
    is InvalidInput with one line naming the file and the reason (for example a full disk)."""
    path = Path(path).expanduser()
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tdp-new", dir=path.parent)
        temporary = Path(name)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
        temporary = None
        _sync_folder(path.parent)
    except OSError as exc:
        reason = _REASONS.get(exc.errno, exc.strerror or str(exc))
        raise InvalidInput(f"cannot write {path}: {reason}; the previous file, if any, is unchanged",
                           f"Không ghi được tệp {path.name}: {reason}; tệp cũ (nếu có) vẫn giữ nguyên") from None
    finally:
        if temporary is not None:
            try:
                temporary.unlink()
            except OSError:
                pass
    return path


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (some file systems refuse to fsync a folder: that is fine)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# A text cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "@SUM(…)", "+84…") is
# written as text: the same rule for every .xlsx and .csv the kiosk writes.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A value as a spreadsheet must take it: text that would start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
