"""Fixtures for the browser tests: one real app.py server per test module, one chromium per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.browser.server import CHROMIUM, AppServer, launch_chromium, running_app


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_server(tiny_models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("webui"), tiny_models.asr_dir, tiny_models.aligner_dir) as server:
        yield server
