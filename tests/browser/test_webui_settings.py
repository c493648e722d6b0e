"""Settings edited in the browser are autosaved (typing included, at most one write per second) and
restored after a reload; wrong input gets a plain message before any worker starts."""

from __future__ import annotations

import itertools
import json
import shutil
import time

import pytest

from asr_core.textwidth import display_width
from tests.browser.pages import choose, open_accordion, open_page, open_tab, table_rows, wait_for_status
from tests.browser.server import running_app
from tests.media_fixtures import SPEECH_MP3
from tests.tiny_models import EXPECTED_TEXT

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}
HOTWORDS = "Hotwords: Navidrome, Jellyfin, Qwen3-ASR"


def saved_settings(server) -> dict:
    try:
        return json.loads(server.config_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_for_saved(server, key: str, value, timeout_s: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        saved = saved_settings(server)
        if saved.get(key) == value:
            return saved
        time.sleep(0.1)
    raise AssertionError(f"{key}={value!r} never reached {server.config_path}: {saved_settings(server)}")


def test_settings_are_autosaved_while_typing_and_restored_after_reload(chromium, app_server):
    context = chromium.new_context(viewport=VIEWPORT)
    page = open_page(context, app_server.url)
    assert "No saved settings yet" in page.inner_text("#settings-notice")

    page.click("#overwrite input")
    open_tab(page, "model")
    choose(page, "dtype", "fp32")
    choose(page, "attn-implementation", "eager")
    page.click("#context textarea")
    write_stamps = set()
    for char in HOTWORDS:  # a keystroke every ~50 ms: about 2 s of typing
        page.keyboard.type(char)
        page.wait_for_timeout(50)
        if "saved_at" in (saved := saved_settings(app_server)):
            write_stamps.add(saved["saved_at"])
    saved = wait_for_saved(app_server, "context", HOTWORDS)
    write_stamps.add(saved["saved_at"])

    gaps = [b - a for a, b in itertools.pairwise(sorted(write_stamps))]
    assert all(gap >= 0.95 for gap in gaps), f"writes closer than one second apart: {sorted(write_stamps)}"
    assert saved["overwrite"] is True
    assert saved["dtype"] == "fp32"
    assert saved["attn_implementation"] == "eager"

    page.reload(wait_until="load")
    page.wait_for_selector("#job-status [data-status]")
    assert page.is_checked("#overwrite input")
    assert "No saved settings yet" not in page.inner_text("#settings-notice")
    open_tab(page, "model")
    assert page.input_value("#context textarea") == HOTWORDS
    assert page.input_value("#dtype input") == "fp32"
    assert page.input_value("#attn-implementation input") == "eager"
    context.close()


def test_wrong_input_is_explained_before_anything_starts(chromium, app_server, tmp_path):
    context = chromium.new_context(viewport=VIEWPORT)
    page = open_page(context, app_server.url)

    missing = tmp_path / "no such folder"
    page.fill("#input-dir textarea", str(missing))
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('does not exist')")
    assert str(missing) in page.inner_text("#action-message")

    empty = tmp_path / "empty"
    (empty / "covers").mkdir(parents=True)
    (empty / "covers" / "front.jpg").write_bytes(b"\xff\xd8")
    page.fill("#input-dir textarea", str(empty))
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('contains no audio or video files')")

    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.mp3").write_bytes(b"")
    page.fill("#input-dir textarea", str(tmp_path / "in"))
    page.fill("#output-dir textarea", str(blocked / "out"))
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('is not writable')")

    page.fill("#output-dir textarea", str(tmp_path / "out"))
    open_tab(page, "model")
    incomplete = tmp_path / "half-copied-model"
    incomplete.mkdir()
    page.fill("#asr-checkpoint input", str(incomplete))
    page.press("#asr-checkpoint input", "Enter")
    page.wait_for_selector("#model-hint :text('has no config.json')")
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('has no config.json')")
    assert page.get_attribute("#job-status [data-status]", "data-status") == "none"
    context.close()


@pytest.fixture
def fresh_server(tiny_models, tmp_path_factory):
    """An app with no saved settings: the other tests of this module leave theirs (a broken model folder)."""
    with running_app(tmp_path_factory.mktemp("layout"), tiny_models.asr_dir, tiny_models.aligner_dir) as server:
        yield server


def srt_text_lines(text: str) -> list[str]:
    """The subtitle lines of an SRT file: no cue numbers, times or blank lines."""
    blocks = [block.splitlines() for block in text.strip().split("\n\n")]
    return [line for block in blocks for line in block[2:]]


def test_subtitle_layout_is_remembered_and_limits_the_written_lines(chromium, fresh_server, tmp_path):
    context = chromium.new_context(viewport={"width": 1280, "height": 2000})
    page = open_page(context, fresh_server.url)
    open_accordion(page, "subtitle-layout")
    assert page.get_attribute("#cue-max-line-width input", "placeholder") == "preset: by language"
    page.fill("#cue-max-line-width input", "16")
    page.fill("#cue-max-lines input", "1")
    wait_for_saved(fresh_server, "cue_max_line_width", 16)
    wait_for_saved(fresh_server, "cue_max_lines", 1)

    page.reload(wait_until="load")
    page.wait_for_selector("#job-status [data-status]")
    open_accordion(page, "subtitle-layout")
    assert page.input_value("#cue-max-line-width input") == "16"
    assert page.input_value("#cue-max-lines input") == "1"
    assert page.input_value("#cue-max-chars-per-s input") == "", "a limit never set stays blank (the preset's)"

    (tmp_path / "in").mkdir()
    shutil.copyfile(SPEECH_MP3, tmp_path / "in" / "speech.mp3")
    page.fill("#input-dir textarea", str(tmp_path / "in"))
    page.click("#start-button")
    page.wait_for_selector("#action-message :text('Started')", timeout=90_000)
    assert wait_for_status(page, "done", "failed", "cancelled") == "done"

    lines = srt_text_lines((fresh_server.output_dir / "speech.srt").read_text(encoding="utf-8"))
    assert "".join(lines).replace(" ", "") == EXPECTED_TEXT.replace(" ", "")
    assert len(lines) >= 2, f"a {display_width(EXPECTED_TEXT)}-column sentence must be split at 16: {lines}"
    assert all(display_width(line) <= 16 for line in lines), lines

    page.click("#preview-file input")
    page.get_by_role("option", name="speech.mp3 → speech.srt", exact=True).click()
    page.locator("#preview-cues .body-cell", has_text="hello").wait_for()
    assert [row[2] for row in table_rows(page, "preview-cues")] == lines, "one line per cue, as written"
    context.close()
