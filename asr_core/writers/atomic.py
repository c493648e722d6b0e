"""Write a text file so that readers only ever see the old or the complete new content.

The text goes to a hidden temp file in the target's folder (same file system, so the rename is atomic),
is flushed to disk, and then renamed over the target. Any failure removes the temp file. Files are
UTF-8 without a byte-order mark and use ``"\\n"`` line ends on every platform: music servers misread
a BOM, and every subtitle reader accepts ``"\\n"``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from asr_core.errors import OutputError

_NEW_FILE_MODE = 0o666  # narrowed by the umask, like any file the user creates


def temp_path_for(path: Path) -> Path:
    """The hidden temp name beside ``path``: ``.<name>.tmp-<random>``."""
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")


def _mode_to_keep(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; raises ``OutputError`` with the reason on failure.

    An existing file keeps its permissions; a new one gets the usual umask-based ones (a plain temp
    file would be private to its owner, which hides subtitles from a media server's user).
    """
    data = text.encode("utf-8")
    temp = temp_path_for(path)
    try:
        mode = _mode_to_keep(path)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), _NEW_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path.name}: {exc.strerror or exc}") from exc
