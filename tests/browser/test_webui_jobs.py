"""Batches started in the browser run detached: a page opened later shows the same job, its progress and log,
through to the results table; a second page can cancel it, which stops the worker's whole process group."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.pages import (
    job_started,
    job_status,
    log_text,
    open_page,
    progress,
    table_rows,
    wait_for_rows,
    wait_for_status,
)
from tests.media_fixtures import CORRUPT_MP3, SILENCE_WAV, SPEECH_FLAC, SPEECH_MP3, SPEECH_VIDEO_MP4, UNICODE_NAME_MP3

pytestmark = pytest.mark.browser

# Tall enough for the whole page: the results table only renders the rows inside the viewport.
VIEWPORT = {"width": 1280, "height": 2000}
# name in the input folder -> (source file, expected status)
BATCH = {
    "Album A/01 speech.mp3": (SPEECH_MP3, "done"),
    f"Album A/{UNICODE_NAME_MP3.name}": (UNICODE_NAME_MP3, "done"),
    "Album B/speech.flac": (SPEECH_FLAC, "done"),
    "Album B/silence.wav": (SILENCE_WAV, "empty"),
    "Album B/broken.mp3": (CORRUPT_MP3, "failed"),
    "clip.mp4": (SPEECH_VIDEO_MP4, "done"),
}


def make_input_folder(root: Path, files: dict[str, Path]) -> Path:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / name)
    return root


def start_batch(page, input_dir: Path) -> None:
    page.fill("#input-dir textarea", str(input_dir))
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('Started')", timeout=90_000)


def recorded_state(server) -> dict:
    return json.loads((server.data_dir / "job_state.json").read_text(encoding="utf-8"))


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_page_opened_later_follows_the_same_job_to_its_results(chromium, app_server, tmp_path):
    input_dir = make_input_folder(tmp_path / "music", {name: src for name, (src, _) in BATCH.items()})
    first_browser = chromium.new_context(viewport=VIEWPORT)
    page = open_page(first_browser, app_server.url)
    start_batch(page, input_dir)
    wait_for_status(page, "queued", "running", "done")
    started = job_started(page)
    assert started
    first_browser.close()  # the job must not depend on the page that started it

    second_browser = chromium.new_context(viewport=VIEWPORT)
    page = open_page(second_browser, app_server.url)
    assert job_started(page) == started
    assert job_status(page) in ("queued", "running", "done")
    page.wait_for_function("() => document.querySelector('#job-log textarea').value.includes('started')")
    job_id = recorded_state(app_server)["job_id"]
    assert f"job {job_id} started" in log_text(page)

    assert wait_for_status(page, "done", "failed", "cancelled") == "done"
    assert progress(page, "batch-progress") == pytest.approx(1.0)
    wait_for_rows(page, "results-table", len(BATCH))
    rows = {row[1]: row for row in table_rows(page, "results-table")}
    assert {name: row[2] for name, row in rows.items()} == {name: status for name, (_, status) in BATCH.items()}
    assert "srt" in rows["Album B/speech.flac"][4] and "lrc" in rows["Album B/speech.flac"][4]
    assert rows["Album B/broken.mp3"][5], "a failed file must say why"
    assert rows["Album B/silence.wav"][5] == "no speech found"
    assert "1 file failed" in page.inner_text("#job-notice")
    log = log_text(page)
    assert all(name in log for name in BATCH)

    link = page.get_attribute("#results-table a:text('speech.srt')", "href")
    with urllib.request.urlopen(app_server.url + link) as response:
        served = response.read().decode("utf-8")
    assert served == (app_server.output_dir / "Album B" / "speech.srt").read_text(encoding="utf-8")

    page.click("#preview-file input")
    page.get_by_role("option", name="Album B/speech.flac → speech.srt", exact=True).click()
    page.locator("#preview-cues .body-cell", has_text="hello").wait_for()
    cue_text = " ".join(row[2] for row in table_rows(page, "preview-cues"))
    assert cue_text.replace(" ", "") == "helloworld,thisisatest."
    second_browser.close()


def test_cancel_from_a_second_page_stops_the_worker_group(chromium, app_server, tmp_path):
    tracks = {f"Long album/track{i:02d}.mp3": SPEECH_MP3 for i in range(1, 31)}
    input_dir = make_input_folder(tmp_path / "music", tracks)
    starter = chromium.new_context(viewport=VIEWPORT)
    first = open_page(starter, app_server.url)
    start_batch(first, input_dir)
    wait_for_status(first, "queued", "running")
    state = recorded_state(app_server)
    pgid = state["pgid"]
    assert not group_is_gone(pgid)

    other_browser = chromium.new_context(viewport=VIEWPORT)
    second = open_page(other_browser, app_server.url)
    assert job_started(second) == job_started(first)
    second.click("#cancel-button")
    second.wait_for_selector("#action-message :text('Cancelled')", timeout=60_000)

    assert wait_for_status(second, "cancelled", timeout_ms=30_000) == "cancelled"
    assert wait_for_status(first, "cancelled", timeout_ms=30_000) == "cancelled"
    deadline = time.monotonic() + 15
    while not group_is_gone(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_is_gone(pgid), "a process of the cancelled job's group is still alive"
    status_line = second.inner_text("#job-status")
    assert f"of {len(tracks)} files" in status_line
    assert "pending" in status_line, "the cancel came too late to stop anything"
    assert second.is_enabled("#resume-button")
    starter.close()
    other_browser.close()


def test_uploaded_files_are_transcribed_into_the_output_folder(chromium, app_server):
    context = chromium.new_context(viewport=VIEWPORT)
    page = open_page(context, app_server.url)
    page.click("#input-mode label:has-text('Upload files')")
    page.wait_for_selector("#upload-files input[type=file]", state="attached")
    page.set_input_files("#upload-files input[type=file]", [str(SPEECH_MP3), str(UNICODE_NAME_MP3)])
    page.locator("#upload-files", has_text=UNICODE_NAME_MP3.stem).wait_for()  # shown as stem + extension
    previous_job = job_started(page)
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('2 uploaded files')", timeout=90_000)

    assert wait_for_status(page, "done", "failed", "cancelled", not_started=previous_job) == "done"
    wait_for_rows(page, "results-table", 2)
    names = sorted(row[1] for row in table_rows(page, "results-table"))
    assert names == sorted([SPEECH_MP3.name, UNICODE_NAME_MP3.name])
    for source in (SPEECH_MP3, UNICODE_NAME_MP3):
        assert (app_server.output_dir / source.with_suffix(".srt").name).is_file()
    context.close()
