"""Scanning input folders and reading defaults from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from worker.scan import plan_batch, walk_media
from worker.settings import Settings


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_walk_is_recursive_sorted_filtered_and_survives_link_loops(tmp_path):
    touch(tmp_path / "b" / "2.FLAC")
    touch(tmp_path / "a" / "1.mp3")
    touch(tmp_path / "a" / "notes.txt")
    touch(tmp_path / "c.mkv")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    found = [p.relative_to(tmp_path).as_posix() for p in walk_media(tmp_path)]
    assert found == ["a/1.mp3", "b/2.FLAC", "c.mkv"]


def test_outputs_mirror_sub_folders_or_sit_next_to_the_source(tmp_path):
    source = touch(tmp_path / "in" / "Album" / "01 song.v2.mp3")
    mirrored = plan_batch([tmp_path / "in"], tmp_path / "out")
    assert mirrored[0].output_base.with_suffix(".srt") == tmp_path / "out" / "Album" / "01 song.v2.srt"
    assert mirrored[0].display_name == "Album/01 song.v2.mp3"
    beside = plan_batch([source], None)
    assert beside[0].output_base.with_suffix(".lrc") == source.with_suffix(".lrc")


def test_settings_defaults_and_env_overrides(tmp_path):
    defaults = Settings.from_env({})
    assert defaults.output_dir == Path("output")
    assert defaults.webui_config_path == Path("data/webui_config.json")
    assert defaults.asr_checkpoint == "Qwen/Qwen3-ASR-1.7B"
    assert (defaults.port, defaults.vllm_max_model_len, defaults.progress_rtf, defaults.done_flash_s) == (
        7860,
        16384,
        0.18,
        2.0,
    )
    (tmp_path / "Qwen3-ASR-1.7B").mkdir()
    (tmp_path / "Qwen3-ASR-1.7B" / "config.json").write_text("{}")
    env = {
        "MODELS_DIR": str(tmp_path), "ALIGNER_CHECKPOINT": "/m/aligner", "WEBUI_CONFIG_PATH": "/x/c.json",
        "PORT": "80", "DATA_DIR": "/data", "VLLM_MAX_MODEL_LEN": "8192",
    }  # fmt: skip
    settings = Settings.from_env(env)
    assert settings.asr_checkpoint == str(tmp_path / "Qwen3-ASR-1.7B")
    assert settings.aligner_checkpoint == "/m/aligner"
    assert settings.webui_config_path == Path("/x/c.json")
    assert settings.job_state_path == Path("/data/job_state.json")
    assert (settings.port, settings.vllm_max_model_len) == (80, 8192)
    assert Settings.from_env({"WEBUI_CONFIG": "/a.json", "WEBUI_CONFIG_PATH": "/b.json"}).webui_config_path == Path(
        "/a.json"
    )
