"""Find media files under the user's inputs and decide where each one's subtitles go."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MEDIA_EXTENSIONS = frozenset({
    ".mp3", ".flac", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wma", ".ape", ".alac", ".aiff", ".aif",
    ".wv", ".mka", ".amr", ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".wmv", ".flv", ".ts", ".m2ts",
    ".mts", ".mpg", ".mpeg", ".3gp",
})


@dataclass(frozen=True)
class PlannedFile:
    """One input and the mirror path its sidecars are named after (``output_base.with_suffix('.srt')``)."""

    source: Path
    output_base: Path
    display_name: str
    album_root: Path | None = None  # the first-level sub-folder of the input folder that holds the file


def normalise_extensions(values: Iterable[str]) -> frozenset[str]:
    """``["MP3", ".flac", "m4a,ogg"]`` -> ``{".mp3", ".flac", ".m4a", ".ogg"}``; nothing given means every
    media extension."""
    wanted = {"." + part.strip().lower().lstrip(".") for value in values for part in value.split(",") if part.strip()}
    return frozenset(wanted) if wanted else MEDIA_EXTENSIONS


def walk_media(
    root: Path, extensions: Iterable[str] = MEDIA_EXTENSIONS, *, recursive: bool = True
) -> Iterator[Path]:
    """Yield media files under ``root`` in sorted order, following folder links but never looping.

    ``recursive=False`` looks at the files directly inside ``root`` only.
    """
    wanted = {e.lower() for e in extensions}
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path) -> Iterator[Path]:
        try:
            info = folder.stat()
        except OSError:
            return
        key = (info.st_dev, info.st_ino)
        if key in seen:
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    if recursive:
                        yield from visit(path)
                elif entry.is_file() and path.suffix.lower() in wanted:
                    yield path
            except OSError:
                continue

    yield from visit(root)


def plan_batch(
    inputs: Sequence[Path],
    output_dir: Path | None,
    *,
    extensions: Iterable[str] = MEDIA_EXTENSIONS,
    recursive: bool = True,
) -> list[PlannedFile]:
    """Expand folders (recursively unless told not to); outputs mirror each file's path relative to its
    input folder.

    ``output_dir=None`` puts subtitles next to their sources.
    """
    planned: list[PlannedFile] = []
    for given in inputs:
        if given.is_dir():
            for source in walk_media(given, extensions, recursive=recursive):
                relative = source.relative_to(given)
                base = (output_dir / relative) if output_dir is not None else source
                album = given / relative.parts[0] if len(relative.parts) > 1 else None
                planned.append(PlannedFile(source, base, relative.as_posix(), album))
        else:
            base = (output_dir / given.name) if output_dir is not None else given
            planned.append(PlannedFile(given, base, given.name))
    return planned
