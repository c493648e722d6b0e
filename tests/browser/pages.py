"""Small Playwright steps on the WebUI page, all by elem_id.

Never wait for "networkidle": the job panel's timer polls every second, so the network is never idle.
"""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page

LONG_WAIT_MS = 180_000


def open_page(context: BrowserContext, url: str) -> Page:
    """A new tab on the app, after the first poll has rendered the job panel."""
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#job-status [data-status]", timeout=60_000)
    return page


def open_tab(page: Page, tab: str) -> None:
    page.click(f"#tab-{tab}-button")


def choose(page: Page, elem_id: str, option: str) -> None:
    page.click(f"#{elem_id} input")
    page.get_by_role("option", name=option, exact=True).click()


def open_accordion(page: Page, elem_id: str) -> None:
    """Expand a collapsed accordion (a no-op when it is already open)."""
    content = page.locator(f"#{elem_id} [data-testid=accordion-content]")
    if not content.is_visible():
        page.click(f"#{elem_id} > button.label-wrap")
        content.wait_for(state="visible")


def job_status(page: Page) -> str:
    return page.get_attribute("#job-status [data-status]", "data-status") or ""


def job_started(page: Page) -> str:
    return page.get_attribute("#job-status [data-status]", "data-started") or ""


def wait_for_status(page: Page, *statuses: str, timeout_ms: int = LONG_WAIT_MS, not_started: str = "") -> str:
    """Wait until the job shown has one of ``statuses``; ``not_started`` skips a job with that start stamp
    (the previous job, still on screen right after Start)."""
    other_job = f':not([data-started="{not_started}"])' if not_started else ""
    selector = ", ".join(f'#job-status [data-status="{s}"]{other_job}' for s in statuses)
    page.wait_for_selector(selector, timeout=timeout_ms)
    return job_status(page)


def progress(page: Page, elem_id: str) -> float:
    return float(page.get_attribute(f"#{elem_id} [data-progress]", "data-progress") or "nan")


def log_text(page: Page) -> str:
    return page.input_value("#job-log textarea")


def table_rows(page: Page, elem_id: str) -> list[list[str]]:
    """The body cells of a Gradio dataframe, row by row; it renders only the rows inside the viewport."""
    rows = page.locator(f"#{elem_id} .virtual-row")
    return [
        [re.sub(r"\s+", " ", cell).strip() for cell in rows.nth(i).locator(".body-cell").all_inner_texts()]
        for i in range(rows.count())
    ]


def wait_for_rows(page: Page, elem_id: str, count: int, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('#{elem_id} .virtual-row').length === {count}", timeout=timeout_ms
    )
