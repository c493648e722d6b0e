"""Read a finished subtitle file back into cues, so the user can check the result without a player.

Parsing is deliberately forgiving: the files were written by this product, but a user may have edited
them, and a preview must show what is there rather than fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_PREVIEW_BYTES = 2_000_000

_CUE_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")
_LRC_STAMP = re.compile(r"\[(\d+):(\d{1,2}(?:\.\d+)?)\]")
_LRC_WORD_STAMP = re.compile(r"<\d+:\d{1,2}(?:\.\d+)?>")


@dataclass(frozen=True)
class PreviewCue:
    start_s: float
    end_s: float | None
    text: str


@dataclass(frozen=True)
class Preview:
    """The cues found in a file, or its raw text when the format has no cue timing we can read."""

    cues: tuple[PreviewCue, ...]
    raw_text: str


def _cue_seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds, fraction = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def parse_timed_blocks(text: str) -> list[PreviewCue]:
    """SRT and WebVTT: blank-line separated blocks with a ``start --> end`` line, then the cue text."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines):
            if "-->" not in line:
                continue
            left, right = line.split("-->", 1)
            start, end = _CUE_TIME.search(left), _CUE_TIME.search(right)
            if start and end:
                cues.append(PreviewCue(_cue_seconds(start), _cue_seconds(end), "\n".join(lines[i + 1 :]).strip()))
            break
    return cues


def parse_lrc(text: str) -> list[PreviewCue]:
    """LRC and enhanced LRC: each line lasts until the next one starts; word stamps are dropped."""
    timed: list[tuple[float, str]] = []
    for line in text.splitlines():
        stamps = _LRC_STAMP.findall(line)
        if not stamps:
            continue
        words = _LRC_WORD_STAMP.sub("", _LRC_STAMP.sub("", line)).strip()
        timed.extend((int(minutes) * 60 + float(seconds), words) for minutes, seconds in stamps)
    timed.sort(key=lambda item: item[0])
    ends: list[float | None] = [start for start, _ in timed[1:]]
    ends.append(None)
    return [PreviewCue(start, end, words) for (start, words), end in zip(timed, ends, strict=True) if words]


_PARSERS = {".srt": parse_timed_blocks, ".vtt": parse_timed_blocks, ".lrc": parse_lrc, ".elrc": parse_lrc}


def read_preview(path: Path) -> Preview:
    """Raises OSError when the file cannot be read; the caller tells the user."""
    with path.open("rb") as handle:
        text = handle.read(MAX_PREVIEW_BYTES).decode("utf-8-sig", errors="replace")
    parser = _PARSERS.get(path.suffix.lower())
    cues = tuple(parser(text)) if parser else ()
    return Preview(cues=cues, raw_text=text)


def format_time(seconds: float | None) -> str:
    """``m:ss.cc`` (hours only when needed), the way players show positions."""
    if seconds is None:
        return ""
    centis = round(seconds * 100)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    clock = f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"
    return f"{hours}:{clock}" if hours else clock


def cue_rows(preview: Preview) -> list[list[str]]:
    return [[format_time(c.start_s), format_time(c.end_s), c.text] for c in preview.cues]
