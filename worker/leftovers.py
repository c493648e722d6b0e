"""Temp files that an interrupted atomic subtitle write leaves behind, and their removal.

Subtitles are written to a hidden temp file beside the target and renamed over it, so a worker killed
mid-write never leaves a half subtitle under the real name. The hidden temp (``.song.srt.tmp-1a2b``)
can remain; these helpers find and remove exactly those names, never anything else.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

# ".<name>.<extension>.tmp-<random>": hidden, with the subtitle extension, then the temp suffix.
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9]{1,8}\.tmp-[0-9a-f]+$")


def is_partial_output(name: str) -> bool:
    return bool(TEMP_NAME.match(name))


def remove_partial_outputs(folders: Iterable[Path]) -> list[Path]:
    """Delete the leftover temp files in each folder (not recursive); returns what was removed."""
    removed: list[Path] = []
    for folder in dict.fromkeys(folders):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if is_partial_output(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except OSError as exc:
                    logger.warning("cannot remove the leftover %s: %s", entry.path, exc)
                    continue
                removed.append(Path(entry.path))
    return removed
