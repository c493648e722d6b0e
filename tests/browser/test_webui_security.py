"""A real app.py with WEBUI_USERNAME/WEBUI_PASSWORD set asks for the login before showing anything."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.browser.server import AppServer, running_app

USER, PASSWORD = "nas-admin", "s3cret pass"


@pytest.fixture(scope="module")
def guarded_server(tiny_models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    extra = {"WEBUI_USERNAME": USER, "WEBUI_PASSWORD": PASSWORD}
    with running_app(
        tmp_path_factory.mktemp("guarded"), tiny_models.asr_dir, tiny_models.aligner_dir, extra_env=extra
    ) as server:
        yield server


def log_in(page, user: str, password: str) -> None:
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input:not([type=password])").first.fill(user)
    page.fill("input[type=password]", password)
    page.get_by_role("button", name="Login", exact=True).click()


def test_the_page_needs_the_login_and_a_wrong_password_is_refused(chromium, guarded_server):
    with pytest.raises(urllib.error.HTTPError) as refused:  # the app's layout is not handed out before the login
        urllib.request.urlopen(guarded_server.url + "config", timeout=30)
    assert refused.value.code == 401
    context = chromium.new_context()
    page = context.new_page()
    page.goto(guarded_server.url, wait_until="load")
    log_in(page, USER, "wrong")
    page.wait_for_selector("text=/incorrect/i", timeout=30_000)
    assert page.locator("#job-status").count() == 0

    log_in(page, USER, PASSWORD)
    page.wait_for_selector("#job-status [data-status]", timeout=60_000)
    assert page.locator("#start-button").is_visible()
    context.close()
