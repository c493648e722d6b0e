"""LRC lyrics (.lrc): one ``[mm:ss.xx]text`` line per cue, as music servers and players read them.

Only start stamps are written: end stamps after the text break several parsers, so a cue's end is
marked by an empty ``[mm:ss.xx]`` line instead, and only before a long gap (an instrumental break),
where players would otherwise keep showing the last line. Header tags (``[ti:]``, ``[ar:]``,
``[al:]``, ``[length:]``) are optional because some players display them as lyrics.
"""

from __future__ import annotations

from collections.abc import Callable

from asr_core.types import Cue
from asr_core.writers.document import SubtitleDocument, Writer, one_line, visible_cues
from asr_core.writers.timecode import lrc_stamp

_HEADER_TAGS = (("ti", "title"), ("ar", "artist"), ("al", "album"))


def _tag_value(value: str) -> str:
    return " ".join(value.replace("[", "(").replace("]", ")").split())


def header_lines(document: SubtitleDocument) -> list[str]:
    """The enabled header tags that the file's own tags (matched case-insensitively) can fill."""
    if not document.options.lrc_header_tags:
        return []
    tags = {key.lower(): value for key, value in document.tags.items()}
    lines = [f"[{tag}:{_tag_value(tags[key])}]" for tag, key in _HEADER_TAGS if _tag_value(tags.get(key, ""))]
    if document.duration_s > 0:
        minutes, seconds = divmod(round(document.duration_s), 60)
        lines.append(f"[length:{minutes:02d}:{seconds:02d}]")
    return lines


def timed_lines(document: SubtitleDocument, line_for: Callable[[Cue], str]) -> list[str]:
    """``[start]`` + ``line_for(cue)`` per cue, plus an empty stamped line ending each cue before a long gap."""
    cues = visible_cues(document)
    blank_after = document.options.lrc_blank_after_gap_s
    lines = header_lines(document)
    for index, cue in enumerate(cues):
        lines.append(f"[{lrc_stamp(cue.start_s)}]{line_for(cue)}")
        following = cues[index + 1].start_s if index + 1 < len(cues) else document.duration_s
        if blank_after is not None and following - cue.end_s >= blank_after:
            lines.append(f"[{lrc_stamp(cue.end_s)}]")
    return lines


def render(document: SubtitleDocument) -> str:
    """No cues gives an empty file (or only the header tags when they are enabled)."""
    lines = timed_lines(document, one_line)
    return "\n".join(lines) + "\n" if lines else ""


WRITER = Writer(name="lrc", extension=".lrc", render=render)
