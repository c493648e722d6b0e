"""webui_config.json: every setting of the WebUI, restored on start and autosaved as the user edits.

Only settings that differ from their defaults are written, so the others keep following the defaults,
including those the environment sets (ASR_CHECKPOINT, ALIGNER_CHECKPOINT, OUTPUT_DIR, VAD_REPO_DIR): a
NAS user who points docker-compose at a new model sees it in the WebUI without editing the settings.

Writes are atomic (temp file + rename) and at most one per ``min_interval_s``, however fast the user
types: on a NAS mount every write is a network round trip, so a burst of edits becomes one write now
and one more, with the latest values, when the interval is over.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr_core.errors import OutputError
from asr_core.writers.atomic import atomic_write
from webui.fields import Field, by_key, defaults

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_META_KEYS = ("schema_version", "saved_at")

Clock = Callable[[], float]
Scheduler = Callable[[float, Callable[[], None]], None]


def _thread_timer(delay_s: float, callback: Callable[[], None]) -> None:
    timer = threading.Timer(delay_s, callback)
    timer.daemon = True
    timer.start()


@dataclass(frozen=True)
class LoadedConfig:
    """The settings to start from, and what the user should be told about the file they came from."""

    values: dict[str, Any]
    notices: tuple[str, ...] = ()


def _set_aside(path: Path) -> Path:
    backup = path.with_name(path.name + ".bak")
    os.replace(path, backup)
    return backup


def load_config(path: Path, fields: Iterable[Field]) -> LoadedConfig:
    """Read the saved settings; never fails. A file that cannot be used is kept as ``.bak`` for the user.

    Keys this version does not know (from an older or newer version) are ignored; a value of the wrong
    type or outside its choices falls back to that setting's default.
    """
    fields = tuple(fields)
    values = defaults(fields)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedConfig(values, (f"No saved settings yet ({path}); using the defaults.",))
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedConfig(values, (f"Could not read the saved settings {path} ({exc}); using the defaults.",))
    try:
        raw = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        raw = None
    if not isinstance(raw, dict):
        what = "empty" if not text.strip() else "damaged"
        backup = _set_aside(path)
        return LoadedConfig(values, (f"The saved settings file was {what}; using the defaults (kept as {backup}).",))
    return _apply_saved(raw, fields, values)


def _apply_saved(raw: dict[str, Any], fields: tuple[Field, ...], values: dict[str, Any]) -> LoadedConfig:
    known = by_key(fields)
    notices: list[str] = []
    version = raw.get("schema_version", 0)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        notices.append("The saved settings come from a newer version; settings it added are ignored.")
    unknown = sorted(k for k in raw if k not in known and k not in _META_KEYS)
    if unknown:
        logger.info("ignoring unknown saved settings: %s", ", ".join(unknown))
    rejected = []
    for key, value in raw.items():
        field = known.get(key)
        if field is None:
            continue
        try:
            values[key] = field.coerce(value)
        except ValueError as exc:
            rejected.append(key)
            logger.warning("saved setting reset to its default: %s", exc)
    if rejected:
        notices.append(f"Some saved settings were invalid and reset to their defaults: {', '.join(rejected)}.")
    return LoadedConfig(values, tuple(notices))


class ConfigStore:
    """The current settings, shared by every open page, saved at most once per ``min_interval_s``.

    ``clock`` (monotonic) and ``schedule`` (run a callback after a delay) are injectable so the rate
    limit can be tested without sleeping.
    """

    def __init__(
        self,
        path: Path,
        fields: Iterable[Field],
        *,
        min_interval_s: float = 1.0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        schedule: Scheduler = _thread_timer,
    ) -> None:
        self.path = Path(path)
        self._fields = by_key(fields)
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._schedule = schedule
        self._lock = threading.Lock()
        self._defaults = defaults(self._fields.values())
        self._values = dict(self._defaults)
        self._pending = False
        self._timer_armed = False
        self._last_write: float | None = None
        self._load_notices: tuple[str, ...] = ()
        self.write_error: str | None = None

    def load(self) -> tuple[str, ...]:
        """Replace the in-memory settings with the saved ones; returns notices for the user."""
        loaded = load_config(self.path, self._fields.values())
        with self._lock:
            self._values = loaded.values
            self._load_notices = loaded.notices
        return loaded.notices

    @property
    def notices(self) -> tuple[str, ...]:
        """What the user should know about the settings file now: the load notices until the first save
        replaces the file they describe, then only a failing save."""
        with self._lock:
            return (*self._load_notices, *([self.write_error] if self.write_error else []))

    def values(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def update(self, key: str, value: Any) -> None:
        """Remember one edited setting; it reaches the disk now or within ``min_interval_s``.

        Raises ValueError (unknown key or unusable value): the UI only sends values its controls allow.
        """
        field = self._fields.get(key)
        if field is None:
            raise ValueError(f"unknown setting {key!r}")
        coerced = field.coerce(value)
        with self._lock:
            if self._values[key] == coerced:
                return
            self._values[key] = coerced
            self._pending = True
            self._write_or_arm()

    def flush(self) -> None:
        """Write pending edits now, whatever the rate limit (used when the app shuts down)."""
        with self._lock:
            if self._pending:
                self._write()

    def _write_or_arm(self) -> None:
        if self._timer_armed:
            return
        wait = 0.0 if self._last_write is None else self._last_write + self._min_interval_s - self._clock()
        if wait <= 0:
            self._write()
        else:
            self._timer_armed = True
            self._schedule(wait, self._on_timer)

    def _on_timer(self) -> None:
        with self._lock:
            self._timer_armed = False
            if self._pending:
                self._write_or_arm()

    def _write(self) -> None:
        self._last_write = self._clock()
        self._pending = False
        changed = {key: value for key, value in self._values.items() if value != self._defaults[key]}
        data = {"schema_version": SCHEMA_VERSION, "saved_at": round(self._wall_clock(), 3), **changed}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        except (OSError, OutputError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.write_error = f"Settings could not be saved to {self.path}: {reason}"
            logger.warning("%s", self.write_error)
        else:
            self.write_error = None
            self._load_notices = ()
