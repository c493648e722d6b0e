"""SubRip (.srt): numbered blocks, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the cue's lines, a blank line."""

from __future__ import annotations

from asr_core.writers.document import SubtitleDocument, Writer, cue_lines, visible_cues
from asr_core.writers.timecode import clock_ms


def render(document: SubtitleDocument) -> str:
    """No cues gives an empty file, which SRT readers accept as "no subtitles"."""
    blocks = [
        f"{number}\n{clock_ms(cue.start_s, ',')} --> {clock_ms(cue.end_s, ',')}\n" + "\n".join(cue_lines(cue)) + "\n"
        for number, cue in enumerate(visible_cues(document), start=1)
    ]
    return "\n".join(blocks)


WRITER = Writer(name="srt", extension=".srt", render=render)
