"""webui_config.json: defaults, damaged files set aside, unknown keys ignored, and at most one write per second."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from webui.config_store import SCHEMA_VERSION, ConfigStore, load_config
from webui.fields import CUE_LIMITS, Field, cue_key, defaults, webui_fields
from worker.settings import Settings

FORMATS = ("lrc", "srt", "vtt")


@pytest.fixture
def fields() -> tuple[Field, ...]:
    settings = Settings.from_env({"OUTPUT_DIR": "/srv/subs", "ASR_CHECKPOINT": "/m/asr", "ALIGNER_CHECKPOINT": "/m/al"})
    return webui_fields(settings, FORMATS)


class FakeTime:
    """A clock the test moves by hand, and a scheduler that only records what it was asked to run."""

    def __init__(self) -> None:
        self.now = 100.0
        self.scheduled: list[tuple[float, object]] = []

    def clock(self) -> float:
        return self.now

    def schedule(self, delay_s: float, callback) -> None:
        self.scheduled.append((self.now + delay_s, callback))

    def advance_to(self, when: float) -> None:
        """Move time forward, running every callback that falls due on the way, in order."""
        while True:
            due = sorted((t, c) for t, c in self.scheduled if t <= when)
            if not due:
                break
            at, callback = due[0]
            self.scheduled.remove((at, callback))
            self.now = max(self.now, at)
            callback()
        self.now = when


def saved(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def make_store(path: Path, fields, fake: FakeTime) -> ConfigStore:
    return ConfigStore(path, fields, clock=fake.clock, wall_clock=fake.clock, schedule=fake.schedule)


# --- loading ------------------------------------------------------------------------------------------


def test_defaults_come_from_the_environment_settings(fields):
    values = defaults(fields)
    assert values["output_dir"] == "/srv/subs"
    assert values["asr_checkpoint"] == "/m/asr"
    assert values["aligner_checkpoint"] == "/m/al"
    assert values["formats"] == ("lrc", "srt")


def test_missing_file_gives_defaults_and_says_so(tmp_path, fields):
    loaded = load_config(tmp_path / "webui_config.json", fields)
    assert loaded.values == defaults(fields)
    assert len(loaded.notices) == 1
    assert "No saved settings" in loaded.notices[0]


@pytest.mark.parametrize(
    ("content", "word"),
    [("", "empty"), ("  \n", "empty"), ("{not json", "damaged"), ("[1, 2]", "damaged"), ('"text"', "damaged")],
)
def test_unusable_file_is_kept_as_bak_and_defaults_are_used(tmp_path, fields, content, word):
    path = tmp_path / "webui_config.json"
    path.write_text(content, encoding="utf-8")
    loaded = load_config(path, fields)
    assert loaded.values == defaults(fields)
    assert word in loaded.notices[0]
    assert not path.exists()
    assert (tmp_path / "webui_config.json.bak").read_text(encoding="utf-8") == content


def test_unknown_keys_are_ignored_and_known_ones_restored(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({"dtype": "bf16", "formats": ["lrc"], "old_removed_setting": 3, "batch_size": 4.0}))
    loaded = load_config(path, fields)
    assert loaded.values["dtype"] == "bf16"
    assert loaded.values["formats"] == ("lrc",)
    assert loaded.values["batch_size"] == 4
    assert "old_removed_setting" not in loaded.values
    assert loaded.notices == ()


def test_invalid_values_fall_back_to_their_default_with_a_notice(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({"dtype": "fp8", "vad_enabled": "yes", "formats": ["srt", "docx"], "context": "x"}))
    loaded = load_config(path, fields)
    expected = defaults(fields)
    assert loaded.values["dtype"] == expected["dtype"]
    assert loaded.values["vad_enabled"] is False
    assert loaded.values["formats"] == expected["formats"]
    assert loaded.values["context"] == "x"
    assert "dtype" in loaded.notices[0] and "vad_enabled" in loaded.notices[0] and "formats" in loaded.notices[0]


def test_subtitle_layout_defaults_to_the_preset_like_the_command_line(fields):
    values = defaults(fields)
    assert values["cue_preset"] == "auto"
    assert all(values[cue_key(option)] is None for option in CUE_LIMITS)
    assert values["lrc_header_tags"] is False


def test_saved_subtitle_layout_is_restored_and_out_of_range_values_reset(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({
        "cue_preset": "japanese", "cue_max_line_width": 16.0, "cue_max_chars_per_s": 15, "lrc_header_tags": True,
        "cue_max_lines": 4, "cue_min_duration_s": 0, "cue_max_linger_s": -1, "cue_max_duration_s": "7",
    }))
    loaded = load_config(path, fields)
    assert loaded.values["cue_preset"] == "japanese"
    assert loaded.values["cue_max_line_width"] == 16 and type(loaded.values["cue_max_line_width"]) is int
    assert loaded.values["cue_max_chars_per_s"] == 15.0 and type(loaded.values["cue_max_chars_per_s"]) is float
    assert loaded.values["lrc_header_tags"] is True
    rejected = ("cue_max_lines", "cue_min_duration_s", "cue_max_linger_s", "cue_max_duration_s")
    assert all(loaded.values[key] is None for key in rejected)
    assert loaded.notices == (
        f"Some saved settings were invalid and reset to their defaults: {', '.join(rejected)}.",
    )


def test_an_unknown_preset_or_a_too_narrow_width_falls_back_to_automatic(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({"cue_preset": "klingon", "cue_max_line_width": 3}))
    loaded = load_config(path, fields)
    assert loaded.values["cue_preset"] == "auto"
    assert loaded.values["cue_max_line_width"] is None
    assert "cue_preset, cue_max_line_width" in loaded.notices[0]


def test_a_file_from_a_newer_version_still_loads_what_it_can(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "overwrite": True, "new_thing": 1}))
    loaded = load_config(path, fields)
    assert loaded.values["overwrite"] is True
    assert "newer version" in loaded.notices[0]


# --- value checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (Field("n", 8), 3.0, 3),
        (Field("x", 0.5), 1, 1.0),
        (Field("f", ("a",), ("a", "b")), ["b", "a", "b"], ("a", "b")),
        (Field("f", ("a",)), ["b", "a", "b"], ("b", "a")),
        (Field("s", "auto", ("auto", "cpu")), "cpu", "cpu"),
        (Field("b", False), True, True),
        (Field("w", None, optional_number=int), None, None),
        (Field("w", None, optional_number=int), 16.0, 16),
        (Field("d", None, optional_number=float), 2, 2.0),
    ],
)
def test_coerce_accepts_values_of_the_right_kind(field, value, expected):
    assert field.coerce(value) == expected
    assert type(field.coerce(value)) is type(expected)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (Field("n", 8), 3.5),
        (Field("n", 8), True),
        (Field("n", 8), "8"),
        (Field("b", False), "yes"),
        (Field("b", False), 1),
        (Field("s", "auto", ("auto", "cpu")), "tpu"),
        (Field("s", ""), None),
        (Field("f", ("a",), ("a", "b")), "a"),
        (Field("f", ("a",), ("a", "b")), ["c"]),
        (Field("w", None, optional_number=int), 16.5),
        (Field("w", None, optional_number=int), "16"),
        (Field("w", None, optional_number=int), False),
    ],
)
def test_coerce_rejects_values_of_the_wrong_kind(field, value):
    with pytest.raises(ValueError):
        field.coerce(value)


def more_than_one(value: int) -> None:
    if value <= 1:
        raise ValueError("must be more than 1")


def test_coerce_checks_the_range_of_a_well_typed_value():
    field = Field("n", None, optional_number=int, check=more_than_one)
    assert field.coerce(2) == 2
    assert field.coerce(None) is None, "blank is never range-checked"
    with pytest.raises(ValueError, match=r"^n: must be more than 1$"):
        field.coerce(1)


# --- autosave -------------------------------------------------------------------------------------------


def test_first_edit_is_written_at_once_and_round_trips(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "data" / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("formats", ["lrc", "vtt"])
    data = saved(path)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["formats"] == ["lrc", "vtt"]
    assert load_config(path, fields).values == store.values()


def test_typing_is_written_at_most_once_per_second_and_the_last_value_wins(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    text = "hotwords: Qwen, Navidrome, Jellyfin"
    write_times = []
    last_seen = None
    for i in range(1, len(text) + 1):  # one keystroke every 0.1 s
        fake.advance_to(fake.now + 0.1)
        store.update("context", text[:i])
        if path.exists() and saved(path)["saved_at"] != last_seen:
            last_seen = saved(path)["saved_at"]
            write_times.append(last_seen)
    fake.advance_to(fake.now + 5.0)
    if saved(path)["saved_at"] != last_seen:
        write_times.append(saved(path)["saved_at"])
    gaps = [b - a for a, b in itertools.pairwise(write_times)]
    assert all(gap >= 1.0 - 1e-9 for gap in gaps), gaps
    assert len(write_times) <= int(len(text) * 0.1) + 2
    assert saved(path)["context"] == text
    assert fake.scheduled == []


def test_an_edit_inside_the_interval_is_written_when_it_ends(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("dtype", "fp16")
    fake.advance_to(fake.now + 0.3)
    store.update("dtype", "bf16")
    assert saved(path)["dtype"] == "fp16"
    assert [round(t - fake.now, 6) for t, _ in fake.scheduled] == [0.7]
    fake.advance_to(fake.now + 0.7)
    assert saved(path)["dtype"] == "bf16"


def test_an_unchanged_value_is_not_written_again(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("overwrite", True)
    first = saved(path)["saved_at"]
    fake.advance_to(fake.now + 2)
    store.update("overwrite", True)
    assert saved(path)["saved_at"] == first
    assert fake.scheduled == []


def test_flush_writes_pending_edits_immediately(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("language", "English")
    store.update("language", "Chinese")
    store.flush()
    assert saved(path)["language"] == "Chinese"


def test_load_then_edit_keeps_the_other_saved_settings(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text(json.dumps({"input_dir": "/music", "batch_size": 2}))
    store = make_store(path, fields, FakeTime())
    assert store.load() == ()
    store.update("batch_size", 4)
    assert saved(path)["input_dir"] == "/music"
    assert saved(path)["batch_size"] == 4


def test_load_notices_last_until_the_first_save_replaces_the_file(tmp_path, fields):
    path = tmp_path / "webui_config.json"
    path.write_text("{broken")
    store = make_store(path, fields, FakeTime())
    assert store.load() == store.notices
    assert "damaged" in store.notices[0]
    store.update("overwrite", True)
    assert store.notices == ()


def test_unknown_keys_and_bad_values_from_the_ui_are_refused(tmp_path, fields):
    store = make_store(tmp_path / "webui_config.json", fields, FakeTime())
    with pytest.raises(ValueError):
        store.update("no_such_setting", 1)
    with pytest.raises(ValueError):
        store.update("dtype", "fp8")
    assert not (tmp_path / "webui_config.json").exists()


def test_a_layout_limit_round_trips_and_can_be_cleared_back_to_the_preset(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("cue_max_line_width", 16)
    assert saved(path)["cue_max_line_width"] == 16
    with pytest.raises(ValueError, match="at least 8 columns"):
        store.update("cue_max_line_width", 3)
    fake.advance_to(fake.now + 2)
    assert saved(path)["cue_max_line_width"] == 16, "an out-of-range value is never saved"
    store.update("cue_max_line_width", None)
    assert "cue_max_line_width" not in saved(path)  # back to the preset's value, which is the default
    assert load_config(path, fields).values == store.values()


def test_settings_left_at_their_defaults_follow_the_environment_and_edited_ones_stay(tmp_path, fields):
    fake = FakeTime()
    path = tmp_path / "webui_config.json"
    store = make_store(path, fields, fake)
    store.update("batch_size", 4)
    store.update("aligner_checkpoint", "/m/my-aligner")
    fake.advance_to(fake.now + 2)
    assert {"asr_checkpoint", "output_dir"}.isdisjoint(saved(path))

    # docker-compose now points at another model and output folder
    moved = Settings.from_env({"OUTPUT_DIR": "/srv/new", "ASR_CHECKPOINT": "/m/asr-2", "ALIGNER_CHECKPOINT": "/m/al-2"})
    values = load_config(path, webui_fields(moved, FORMATS)).values
    assert (values["asr_checkpoint"], values["output_dir"]) == ("/m/asr-2", "/srv/new")
    assert (values["aligner_checkpoint"], values["batch_size"]) == ("/m/my-aligner", 4)

    store.update("batch_size", 8)  # set back to the default: follows the default again
    fake.advance_to(fake.now + 2)
    assert "batch_size" not in saved(path) and saved(path)["aligner_checkpoint"] == "/m/my-aligner"


def test_a_folder_that_cannot_be_written_is_reported_not_raised(tmp_path, fields):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    store = make_store(blocker / "webui_config.json", fields, FakeTime())
    store.update("overwrite", True)
    assert store.write_error is not None
    assert "could not be saved" in store.write_error
    assert store.notices == (store.write_error,)
    assert store.values()["overwrite"] is True


def test_no_temp_files_are_left_behind(tmp_path, fields):
    fake = FakeTime()
    store = make_store(tmp_path / "webui_config.json", fields, fake)
    for i in range(5):
        fake.advance_to(fake.now + 1.5)
        store.update("batch_size", i + 1)
    assert [p.name for p in tmp_path.iterdir()] == ["webui_config.json"]
