"""What the UI offers on this machine (local models, vLLM), which files it serves, and that it stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from webui.choices import find_local_models, vllm_unavailable_reason
from webui.served import ServedFolders

REPO_ROOT = Path(__file__).resolve().parents[2]


def checkpoint(folder: Path, thinker_type: str | None) -> None:
    folder.mkdir(parents=True)
    config = {} if thinker_type is None else {"thinker_config": {"model_type": thinker_type}}
    (folder / "config.json").write_text(json.dumps(config))


def test_local_models_are_split_into_asr_and_aligner(tmp_path):
    checkpoint(tmp_path / "Qwen3-ASR-1.7B", "qwen3_asr_thinker")
    checkpoint(tmp_path / "my-aligner-copy", None)
    checkpoint(tmp_path / "renamed", "qwen3_forced_aligner")
    (tmp_path / "half-downloaded").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    found = find_local_models(tmp_path)
    assert found.asr == (str(tmp_path / "Qwen3-ASR-1.7B"), str(tmp_path / "broken"))
    assert found.aligner == (str(tmp_path / "my-aligner-copy"), str(tmp_path / "renamed"))


def test_a_missing_models_folder_offers_nothing(tmp_path):
    found = find_local_models(tmp_path / "nope")
    assert found.asr == () and found.aligner == ()


def test_vllm_reason():
    assert "Windows" in vllm_unavailable_reason("win32", lambda name: object())
    assert "not installed" in vllm_unavailable_reason("linux", lambda name: None)
    assert vllm_unavailable_reason("linux", lambda name: object()) is None


def test_only_files_under_output_folders_get_links(tmp_path):
    served = ServedFolders([tmp_path / "out"])
    served.allow(tmp_path / "out")
    assert served.roots == [str((tmp_path / "out").resolve())]
    link = served.link_for(str(tmp_path / "out" / "Album A" / "song.srt"))
    assert link == "gradio_api/file=" + str((tmp_path / "out" / "Album A" / "song.srt").resolve()).replace(" ", "%20")
    assert served.link_for(str(tmp_path / "music" / "song.mp3")) is None
    assert served.link_for(str(tmp_path / "out" / ".." / "music" / "song.mp3")) is None
    served.allow(tmp_path / "music")
    assert served.link_for(str(tmp_path / "music" / "song.srt")) is not None


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_the_ui_never_imports_torch_or_the_model_package():
    result = run_python(
        "import sys, app, webui.layout, webui.actions; "
        "print(sorted(m for m in ('torch', 'qwen_asr', 'transformers', 'vllm') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_app_help_answers_without_importing_gradio():
    result = run_python("import sys, app; print('gradio' in sys.modules)")
    assert result.stdout.strip() == "False", result.stderr
    help_run = subprocess.run([sys.executable, "app.py", "--help"], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=60)
    assert help_run.returncode == 0
    assert "--host" in help_run.stdout and "--port" in help_run.stdout and "PORT" in help_run.stdout
