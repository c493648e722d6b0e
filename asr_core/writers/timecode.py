"""Time stamps as each format spells them. Negative times (which a format cannot express) become 0."""

from __future__ import annotations


def _units(seconds: float, per_second: int) -> int:
    return max(0, round(seconds * per_second))


def clock_ms(seconds: float, decimal_mark: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT)."""
    ms = _units(seconds, 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"


def lrc_stamp(seconds: float) -> str:
    """``mm:ss.xx`` with minutes counting past 59 (``75:03.20``): players show an hours field as text."""
    cs = _units(seconds, 100)
    minutes, rest = divmod(cs, 6000)
    secs, hundredths = divmod(rest, 100)
    return f"{minutes:02d}:{secs:02d}.{hundredths:02d}"
