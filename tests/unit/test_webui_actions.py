"""The form checks and the JobSpec the Start button builds; the launcher is replaced by a recorder here
(the browser tests run the real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr_core.presets import resolve_limits
from webui import actions
from webui.actions import InputProblem
from webui.fields import defaults, webui_fields
from worker.cli import build_parser, options_from_args, spec_from_args
from worker.job import pipeline_options
from worker.launcher import JobAlreadyRunning, NothingToRun
from worker.settings import Settings


@pytest.fixture
def model_dirs(tmp_path) -> tuple[Path, Path]:
    asr, aligner = tmp_path / "models" / "asr", tmp_path / "models" / "aligner"
    for folder in (asr, aligner):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    return asr, aligner


@pytest.fixture
def settings(tmp_path, model_dirs) -> Settings:
    return Settings.from_env({
        "DATA_DIR": str(tmp_path / "data"), "OUTPUT_DIR": str(tmp_path / "out"),
        "ASR_CHECKPOINT": str(model_dirs[0]), "ALIGNER_CHECKPOINT": str(model_dirs[1]),
    })


@pytest.fixture
def values(settings) -> dict:
    return defaults(webui_fields(settings, ("srt", "lrc", "vtt")))


@pytest.fixture
def started(monkeypatch) -> list:
    """Specs handed to the launcher, which answers with a made-up pid."""
    specs = []

    def fake_start(spec, data_dir):
        specs.append((spec, Path(data_dir)))
        return 4321

    monkeypatch.setattr(actions, "start_job", fake_start)
    return specs


def media_folder(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"not really audio")
    return root


@pytest.mark.parametrize(("text", "expected"), [
    ("", ()), ("  , ", ()), ("mp3", (".mp3",)), ("MP3, .flac  wav;m4a", (".flac", ".m4a", ".mp3", ".wav")),
])
def test_parse_extensions(text, expected):
    assert actions.parse_extensions(text) == expected


def test_missing_and_blank_input_folders_are_explained(tmp_path):
    with pytest.raises(InputProblem, match="does not exist on the server"):
        actions.check_input_folder(str(tmp_path / "nope"), (), True)
    with pytest.raises(InputProblem, match="Enter the folder"):
        actions.check_input_folder("  ", (), True)


def test_a_folder_without_media_is_explained_with_a_hint_for_sub_folders(tmp_path):
    folder = media_folder(tmp_path / "music", ["cover.jpg", "Album/song.mp3"])
    assert actions.check_input_folder(str(folder), (), True) == folder
    with pytest.raises(InputProblem, match=r"contains no audio or video files.*Include sub-folders"):
        actions.check_input_folder(str(folder), (), False)
    with pytest.raises(InputProblem, match="contains no flac files") as caught:
        actions.check_input_folder(str(folder), (".flac",), True)
    assert "sub-folders" not in str(caught.value)


def test_an_unwritable_output_folder_is_explained(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputProblem, match="is not writable"):
        actions.check_writable_folder(blocker / "out")
    actions.check_writable_folder(tmp_path / "new" / "out")
    assert list((tmp_path / "new" / "out").iterdir()) == []


def test_model_folders_without_config_json_are_named(values, tmp_path):
    incomplete = tmp_path / "half"
    incomplete.mkdir()
    with pytest.raises(InputProblem, match=r"ASR model folder .*half has no config\.json"):
        actions.check_model({**values, "asr_checkpoint": str(incomplete)})
    with pytest.raises(InputProblem, match=r"Aligner model folder .* does not exist"):
        actions.check_model({**values, "aligner_checkpoint": str(tmp_path / "gone")})
    actions.check_model({**values, "asr_checkpoint": "Qwen/Qwen3-ASR-1.7B"})  # a hub ID is not checked here


def test_model_hints_warn_before_start(values, tmp_path):
    assert actions.model_hints(values["asr_checkpoint"], values["aligner_checkpoint"], "auto", "auto") == ""
    hints = actions.model_hints(str(tmp_path / "gone"), values["aligner_checkpoint"], "fp32", "flash_attention_2")
    assert "does not exist" in hints and "fp16 or bf16" in hints


def test_vllm_is_refused_with_the_reason_where_it_cannot_run(values, monkeypatch):
    monkeypatch.setattr(actions, "vllm_unavailable_reason", lambda: "vLLM is not installed")
    with pytest.raises(InputProblem, match="vLLM backend cannot be used: vLLM is not installed"):
        actions.check_model({**values, "backend": "vllm"})


def test_out_of_range_numbers_are_explained(values, settings):
    with pytest.raises(InputProblem, match="Model settings: batch_size must be at least 1"):
        actions.model_kwargs({**values, "batch_size": 0}, settings)
    with pytest.raises(InputProblem, match=r"VAD settings: .*VAD_REPO_DIR"):
        actions.vad_kwargs({**values, "vad_source": "local", "vad_repo_dir": ""})


def test_start_builds_the_spec_from_the_form(values, settings, started, tmp_path):
    folder = media_folder(tmp_path / "music", ["Album/a.mp3", "Album/b.flac"])
    form = {**values, "input_dir": str(folder), "extensions": "mp3 flac", "overwrite": True, "language": "Chinese",
            "vad_enabled": True, "formats": ("lrc", "srt"), "context": "Qwen", "touch_album_root": True}
    message = actions.start_folder_job(form, settings)
    assert "worker pid 4321" in message and str(settings.output_dir) in message
    [(spec, data_dir)] = started
    assert data_dir == settings.data_dir
    assert spec.inputs == (str(folder),)
    assert spec.output_dir == str(settings.output_dir)
    assert spec.formats == ("lrc", "srt")
    assert spec.extensions == (".flac", ".mp3")
    assert spec.overwrite and spec.touch_album_root and spec.include_subfolders
    assert spec.model["language"] == "Chinese" and spec.model["context"] == "Qwen"
    assert spec.model["max_model_len"] == settings.vllm_max_model_len
    assert spec.vad["enabled"] is True
    assert (settings.output_dir).is_dir()


def test_auto_language_and_next_to_source(values, settings, started, tmp_path):
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    actions.start_folder_job({**values, "input_dir": str(folder), "save_next_to_source": True}, settings)
    [(spec, _)] = started
    assert spec.output_dir is None
    assert spec.model["language"] is None


def cli_spec(settings: Settings, *arguments: str):
    """The job spec the command line builds from ``arguments``."""
    args = build_parser(settings).parse_args(["in", *arguments])
    return spec_from_args(args, options_from_args(args))


LAYOUT_FORM = {"cue_preset": "japanese", "cue_max_line_width": 16, "cue_max_lines": 1, "cue_max_chars_per_s": 15,
               "cue_min_duration_s": 1, "cue_max_duration_s": 4.5, "cue_max_linger_s": 0.0, "lrc_header_tags": True}
LAYOUT_ARGS = ("--preset", "japanese", "--max-line-width", "16", "--max-lines", "1", "--max-cps", "15",
               "--min-duration", "1", "--max-duration", "4.5", "--max-linger", "0", "--lrc-header-tags")


def test_the_subtitle_layout_reaches_the_job_as_the_command_line_would_send_it(values, settings, started, tmp_path):
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    actions.start_folder_job({**values, "input_dir": str(folder), **LAYOUT_FORM}, settings)
    [(spec, _)] = started
    expected = cli_spec(settings, *LAYOUT_ARGS)
    assert spec.cues == expected.cues
    assert spec.writer == expected.writer
    assert spec.cues["max_line_width"] == 16 and spec.cues["max_duration_s"] == 4.5
    options = pipeline_options(spec)
    assert options.writer.lrc_header_tags is True
    limits = resolve_limits("English", options.cues)
    assert (limits.preset, limits.max_line_width, limits.max_lines) == ("japanese", 16, 1)
    assert limits.split_gap_s == 1.0, "options the WebUI does not offer keep the preset's value"


def test_automatic_layout_leaves_every_limit_to_the_language_preset(values, settings, started, tmp_path):
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    actions.start_folder_job({**values, "input_dir": str(folder)}, settings)
    [(spec, _)] = started
    expected = cli_spec(settings)
    assert spec.cues == expected.cues and set(spec.cues.values()) == {None}
    assert spec.writer == expected.writer and spec.writer["lrc_header_tags"] is False
    cues = pipeline_options(spec).cues
    assert resolve_limits("English", cues).max_line_width == 42
    assert resolve_limits("Japanese", cues).max_line_width == 26
    assert resolve_limits("Chinese", cues).max_chars_per_s == 9.0


def test_uploads_carry_the_subtitle_layout_too(values, settings, started, tmp_path):
    incoming = media_folder(tmp_path / "cache", ["a.mp3"])
    actions.start_upload_job({**values, "cue_max_lines": 1}, [str(incoming / "a.mp3")], settings)
    [(spec, _)] = started
    assert spec.cues["max_lines"] == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"cue_max_line_width": 3}, "max_line_width must be at least 8 columns"),
    ({"cue_max_lines": 4}, "max_lines must be 1, 2 or 3"),
    ({"cue_max_chars_per_s": 0}, "max_chars_per_s must be positive"),
    ({"cue_max_linger_s": -0.5}, "max_linger_s must not be negative"),
    ({"cue_min_duration_s": 5, "cue_max_duration_s": 2}, "min_duration_s must not exceed max_duration_s"),
])
def test_an_invalid_subtitle_layout_is_refused_before_anything_starts(values, settings, started, tmp_path, change,
                                                                       message):
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    with pytest.raises(InputProblem, match=rf"^Subtitle layout: {message}.*\.$"):
        actions.start_folder_job({**values, "input_dir": str(folder), **change}, settings)
    assert started == []


def test_no_format_means_no_start(values, settings, started, tmp_path):
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    with pytest.raises(InputProblem, match="at least one subtitle format"):
        actions.start_folder_job({**values, "input_dir": str(folder), "formats": ()}, settings)
    assert started == []


def test_a_running_job_is_named_when_another_start_is_refused(values, settings, monkeypatch, tmp_path):
    def busy(spec, data_dir):
        raise JobAlreadyRunning("another job is already running (job abc, pid 7); wait for it or cancel it first")

    monkeypatch.setattr(actions, "start_job", busy)
    folder = media_folder(tmp_path / "music", ["a.mp3"])
    with pytest.raises(InputProblem, match=r"^Another job is already running \(job abc, pid 7\).*first\.$"):
        actions.start_folder_job({**values, "input_dir": str(folder)}, settings)


def test_uploads_are_copied_out_of_the_temp_cache_and_older_uploads_removed(values, settings, started, tmp_path):
    older = settings.data_dir / actions.UPLOADS_FOLDER / "20000101-000000"
    older.mkdir(parents=True)
    incoming = media_folder(tmp_path / "gradio-cache", ["x1/song.mp3", "x2/song.mp3", "x3/talk.m4a"])
    files = [str(incoming / n) for n in ("x1/song.mp3", "x2/song.mp3", "x3/talk.m4a")]
    message = actions.start_upload_job({**values, "save_next_to_source": True}, files, settings)
    assert "3 uploaded files" in message
    [(spec, _)] = started
    [batch] = spec.inputs
    assert sorted(p.name for p in Path(batch).iterdir()) == ["song (2).mp3", "song.mp3", "talk.m4a"]
    assert spec.output_dir == str(settings.output_dir), "uploads have no source folder to save next to"
    assert not older.exists()


def test_nothing_is_copied_when_the_upload_cannot_start(values, settings, monkeypatch, tmp_path):
    monkeypatch.setattr(actions, "start_job", lambda spec, data_dir: (_ for _ in ()).throw(JobAlreadyRunning("busy")))
    incoming = media_folder(tmp_path / "cache", ["a.mp3"])
    with pytest.raises(InputProblem, match="Busy"):
        actions.start_upload_job(values, [str(incoming / "a.mp3")], settings)
    assert list((settings.data_dir / actions.UPLOADS_FOLDER).iterdir()) == []
    with pytest.raises(InputProblem, match="Add the files"):
        actions.start_upload_job(values, [], settings)


def test_resume_and_retry_explain_when_there_is_nothing_to_run(settings, monkeypatch):
    def nothing(data_dir):
        raise NothingToRun("the last job has no failed file to retry")

    monkeypatch.setattr(actions, "retry_failed", nothing)
    monkeypatch.setattr(actions, "resume_job", nothing)
    with pytest.raises(InputProblem, match=r"^The last job has no failed file to retry\.$"):
        actions.retry(settings)
    with pytest.raises(InputProblem):
        actions.resume(settings)


def test_cancel_reports_what_happened(settings, monkeypatch):
    calls = []
    monkeypatch.setattr(actions, "cancel_job", lambda data_dir, clear: calls.append(clear) or True)
    assert "The job state and log were cleared" in actions.cancel(settings, clear=True)
    assert "cleared" not in actions.cancel(settings, clear=False)
    assert calls == [True, False]
    monkeypatch.setattr(actions, "cancel_job", lambda data_dir, clear: False)
    assert actions.cancel(settings, clear=False).startswith("Nothing was cancelled")
