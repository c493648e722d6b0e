"""Enhanced LRC (.elrc): LRC lines with a ``<mm:ss.xx>`` stamp before every word, for karaoke display.

Kept in its own file because players that do not parse word stamps show them as raw text in a .lrc.
Example: ``[00:02.00]<00:02.00>Come <00:02.70>on``.
"""

from __future__ import annotations

from asr_core.types import Cue
from asr_core.writers.document import SubtitleDocument, Writer, one_line
from asr_core.writers.lrc import timed_lines
from asr_core.writers.timecode import lrc_stamp


def _stamped_words(cue: Cue) -> str:
    """Each word's leading space stays before its stamp so the stamp sits right on the word."""
    if not cue.words:
        return one_line(cue)
    parts = []
    for word in cue.words:
        text = word.text.strip()
        if text:
            space = " " if word.text[:1].isspace() and parts else ""
            parts.append(f"{space}<{lrc_stamp(word.start_s)}>{' '.join(text.split())}")
    return "".join(parts)


def render(document: SubtitleDocument) -> str:
    lines = timed_lines(document, _stamped_words)
    return "\n".join(lines) + "\n" if lines else ""


WRITER = Writer(name="elrc", extension=".elrc", render=render)
