"""WebVTT (.vtt): the ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` blocks."""

from __future__ import annotations

from asr_core.writers.document import SubtitleDocument, Writer, cue_lines, visible_cues
from asr_core.writers.timecode import clock_ms


def _escape(line: str) -> str:
    """``&``, ``<`` and ``>`` would start markup (and ``-->`` a timing line) in WebVTT."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(document: SubtitleDocument) -> str:
    """No cues gives just the header, a valid empty track."""
    blocks = [
        f"{clock_ms(cue.start_s, '.')} --> {clock_ms(cue.end_s, '.')}\n"
        + "\n".join(_escape(line) for line in cue_lines(cue))
        + "\n"
        for cue in visible_cues(document)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


WRITER = Writer(name="vtt", extension=".vtt", render=render)
