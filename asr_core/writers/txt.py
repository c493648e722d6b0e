"""Plain text (.txt): one line per cue, the unsynced lyrics that Jellyfin, Navidrome and Plex read."""

from __future__ import annotations

from asr_core.writers.document import SubtitleDocument, Writer, one_line, visible_cues


def render(document: SubtitleDocument) -> str:
    lines = [one_line(cue) for cue in visible_cues(document)]
    return "\n".join(lines) + "\n" if lines else ""


WRITER = Writer(name="txt", extension=".txt", render=render)
