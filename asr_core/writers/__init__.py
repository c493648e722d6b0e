"""Subtitle formats. Each format is one module with a ``WRITER``; adding one means one file plus a
golden test. Sidecars take the media file's folder and base name (``song.mp3`` -> ``song.lrc``), the
layout Jellyfin, Navidrome and Plex look for.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from asr_core.errors import OutputError
from asr_core.writers import elrc, lrc, srt, txt, vtt
from asr_core.writers.atomic import atomic_write
from asr_core.writers.document import SubtitleDocument, Writer

logger = logging.getLogger(__name__)

WRITERS: dict[str, Writer] = {module.WRITER.name: module.WRITER for module in (srt, vtt, lrc, elrc, txt)}

__all__ = ["WRITERS", "SubtitleDocument", "Writer", "atomic_write", "get_writer", "write_subtitles"]


def get_writer(name: str) -> Writer:
    """The writer registered as ``name`` (case-insensitive); ValueError lists the known formats."""
    try:
        return WRITERS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown subtitle format {name!r}; choose from {', '.join(WRITERS)}") from None


def write_subtitles(document: SubtitleDocument, base_path: Path, formats: Sequence[str]) -> list[Path]:
    """Write ``base_path.with_suffix(ext)`` for each format; returns the paths written.

    Everything is rendered before the first file is touched, so an unknown format or a rendering bug
    writes nothing. If a write fails, the files this call already wrote are removed again, so a
    file never ends up with only some of its formats from this run; the ``OutputError`` is re-raised.
    """
    rendered = [
        (base_path.with_suffix(writer.extension), writer.render(document)) for writer in map(get_writer, formats)
    ]
    written: list[Path] = []
    try:
        for path, text in rendered:
            atomic_write(path, text)
            written.append(path)
    except OutputError:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        logger.warning("removed %d subtitle file(s) after a failed write next to %s", len(written), base_path.name)
        raise
    return written
