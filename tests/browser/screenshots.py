"""Take the README screenshots of the WebUI (idle, running, finished) against a real server and real files.

    python -m tests.browser.screenshots docs/ --root /srv/subtitle-demo

Uses the tiny test models (built on the fly), so the text they "recognise" is always the same sentence;
the point is the page, not the transcript. ``--root`` (default: a temp folder) holds the demo's music,
output and data folders, and its paths appear in the pictures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from tests.browser.pages import choose, open_page, wait_for_status
from tests.browser.server import launch_chromium, running_app
from tests.media_fixtures import (
    CORRUPT_MP3,
    SILENCE_WAV,
    SPEECH_FLAC,
    SPEECH_M4A,
    SPEECH_MP3,
    SPEECH_OPUS,
    SPEECH_VIDEO_MP4,
    SPEECH_ZH_MP3,
    UNICODE_NAME_MP3,
)

VIEWPORT = {"width": 1280, "height": 1000}
MID_FILE_STAGE = ", ".join(f'#job-stage [data-stage="{s}"]' for s in ("decoding", "vad", "recognising", "aligning"))
DEMO_FILES = {
    "Audiobook/chapter 01.mp3": SPEECH_MP3,
    "Audiobook/chapter 02.flac": SPEECH_FLAC,
    "Audiobook/chapter 03.m4a": SPEECH_M4A,
    "Lectures/lecture.opus": SPEECH_OPUS,
    "Lectures/lecture (video).mp4": SPEECH_VIDEO_MP4,
    "Lectures/silence.wav": SILENCE_WAV,
    "Lectures/broken download.mp3": CORRUPT_MP3,
    # ASCII names only: headless chromium here may lack CJK and emoji fonts.
    "Songs/intro (live).mp3": UNICODE_NAME_MP3,
    "Songs/mandarin.mp3": SPEECH_ZH_MP3,
}


def prepare_root(root: Path) -> Path:
    """Fresh demo folders: the media to transcribe, and settings that already point at them."""
    for name in ("music", "output", "data"):
        shutil.rmtree(root / name, ignore_errors=True)
    music = root / "music"
    for name, source in DEMO_FILES.items():
        (music / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, music / name)
    (root / "data").mkdir(parents=True)
    settings = {"schema_version": 1, "input_dir": str(music), "formats": ["srt", "lrc"]}
    (root / "data" / "webui_config.json").write_text(json.dumps(settings), encoding="utf-8")
    return music


def wait_for_running_with_results(data_dir: Path, finished: int, timeout_s: float = 180.0) -> None:
    from worker.protocol import JobStatus, read_job

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = read_job(data_dir, log_lines=0)
        done = sum(view.counts.get(k, 0) for k in ("done", "empty", "failed"))
        if view.status is JobStatus.RUNNING and done >= finished and view.current_file:
            return
        time.sleep(0.05)
    raise RuntimeError("the job never showed a running state with finished files")


def take_screenshots(out_dir: Path, root: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.tiny_models import build_tiny_models

    models = build_tiny_models(root / "models")
    prepare_root(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = [out_dir / f"webui-{name}.png" for name in ("idle", "running", "finished")]
    # A short 100% flash, so the running picture shows a file mid-way rather than one just finished.
    extra_env = {"HF_HUB_OFFLINE": "", "WEBUI_DONE_FLASH_S": "0.1"}
    with running_app(root, models.asr_dir, models.aligner_dir, extra_env=extra_env) as server, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = open_page(browser.new_context(viewport=VIEWPORT), server.url)
        page.wait_for_timeout(1000)
        page.screenshot(path=shots[0], full_page=True)

        page.click("#start-button")
        wait_for_running_with_results(server.data_dir, finished=3)
        page.wait_for_selector(MID_FILE_STAGE, timeout=60_000)
        page.screenshot(path=shots[1], full_page=True)

        wait_for_status(page, "done")
        choose(page, "preview-file", "Audiobook/chapter 01.mp3 → chapter 01.srt")
        page.locator("#preview-cues .body-cell", has_text="hello").wait_for()
        page.screenshot(path=shots[2], full_page=True)
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where webui-idle.png, webui-running.png, webui-finished.png go")
    parser.add_argument("--root", type=Path, help="folder for the demo's music, output and data (default: temp)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="subtitle-demo-"))
    for shot in take_screenshots(args.out_dir, root.resolve()):
        print(f"wrote {shot}")


if __name__ == "__main__":
    main()
