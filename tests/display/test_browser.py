"""The HTML displays rendered in a real browser: no horizontal overflow, key parts visible.

Debian's Chromium (``/usr/bin/chromium``, with ``/usr/bin/chromedriver``), driven through
Selenium with the system driver (no downloaded browser build), loads each display in a
notebook-cell-sized container, light and dark, and checks the layout: the container does
not scroll sideways (``scrollWidth <= clientWidth``), every table stays inside it, every
section and the title have a size and are visible, and text takes the notebook's colour.
A screenshot of each page is kept in ``build/screenshots/`` for a human look.

Without a browser the tests skip, except in CI (``CI=true`` or
``CARECOORD_REQUIRE_SHARED_DATA=1``), where a missing browser fails them: ``.ci/run``
installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carecoord.display import HtmlDisplay
from carecoord.ports import GapStates
from carecoord.profile import ProfileSet
from carecoord.services import Coordinator
from carecoord.stores import MemoryStore

from .conftest import Synthea, required

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
"""Where the pages and their screenshots are written (gitignored)."""

THEMES = {
    "light": "background:#ffffff;color:#1a1a1a",
    "dark": "background:#111111;color:#dddddd",  # JupyterLab's dark theme, roughly
}

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{name}</title></head>
<body style="margin:0;padding:16px;{theme}"><div id="cell" style="width:{width}px;
padding:8px;border:1px solid rgba(127,127,127,.5)">{body}</div></body></html>"""

CHECK = """
const cell = document.getElementById('cell');
const root = cell.querySelector('.cc-d');
const box = cell.getBoundingClientRect();
const out = {cell: [cell.scrollWidth, cell.clientWidth], root: [root.scrollWidth, root.clientWidth],
  page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
  hidden: [], outside: [], keys: [], height: document.documentElement.scrollHeight};
for (const el of root.querySelectorAll('h3, [data-cc], table')) {
  const b = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const name = el.dataset.cc || el.tagName;
  if (b.width <= 0 || b.height <= 0 || style.visibility === 'hidden' || style.display === 'none')
    out.hidden.push(name);
  if (b.right > box.right + 0.5 || b.left < box.left - 0.5) out.outside.push(name);
}
out.keys = [...root.querySelectorAll('[data-cc]')].map(e => e.dataset.cc);
out.text = getComputedStyle(root.querySelector('td') || root).color;
out.body = getComputedStyle(document.body).color;
return out;
"""

KEYS = {
    "import-result": ["summary", "resources", "issue-codes", "issues"],
    "profile-set": ["summary", "persons", "review"],
    "profile": ["person", "sources", "facts", "gaps", "timeline"],
    "timeline": ["timeline"],
    "gap-report": ["summary", "gaps"],
    "gap": ["gap", "evidence"],
    "possible-match": ["pair", "evidence"],
    "summary": ["totals", "by-rule"],
    "gap-states": ["summary", "gaps"],
}


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"{reason} (required in CI: .ci/run installs it)", pytrace=False)
    pytest.skip(f"{reason}; install Debian's chromium and chromium-driver to run")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by the system chromedriver, for this module."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        _unavailable("no chromium or chromedriver on PATH")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (test dependency group)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=900,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def render(
    browser: Any, name: str, shown: HtmlDisplay, *, theme: str = "light", width: int = 640
) -> dict[str, Any]:
    """Load ``shown`` in a cell ``width`` pixels wide, screenshot it, and measure it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = SCREENSHOTS / f"{name}.html"
    page.write_text(
        PAGE.format(name=name, theme=THEMES[theme], width=width, body=shown.html), encoding="utf-8"
    )
    browser.set_window_size(width + 80, 1000)
    browser.get(page.as_uri())
    result: dict[str, Any] = browser.execute_script(CHECK)
    browser.set_window_size(width + 80, min(int(result["height"]) + 40, 6000))
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    return result


def displays(synthea: Synthea, linked: ProfileSet) -> dict[str, HtmlDisplay]:
    """One display of each kind, from the largest real objects."""
    profile = synthea.largest()
    report = synthea.report_of(profile)
    demo_report = max(synthea.demo_reports, key=len)
    return {
        "import-result": synthea.result.display(),
        "profile-set": synthea.profiles.display(),
        "profile": profile.display(gaps=report),
        "timeline": profile.timeline().display(limit=60),
        "gap-report": report.display(),
        "gap": next(g for g in demo_report if len(g.evidence) > 1).display(),
        "possible-match": linked.review[0].display(),
        "summary": synthea.summary.display(),
        "gap-states": _worklist(synthea).display(show_personal_data=True),
    }


def _worklist(synthea: Synthea) -> GapStates:
    """The Synthea bundles in a coordinator, the first gaps worked with long free text."""
    coordinator = Coordinator(MemoryStore())
    as_of = synthea.reports[0].as_of
    coordinator.ingest(synthea.result, as_of=as_of)
    work = coordinator.worklist(as_of)
    text = "waiting for the discharge summary from the hospital, " * 6
    coordinator.assign(
        work[0].key, "care-coordinator-north-1", actor="lead", at=as_of, team="north-county-team"
    )
    coordinator.add_note(work[0].key, text, actor="care-coordinator-north-1", at=as_of)
    coordinator.snooze(work[1].key, as_of.date(), actor="lead", at=as_of, reason=text)
    return coordinator.worklist(as_of, include_snoozed=True)


def assert_fits(result: dict[str, Any], kind: str) -> None:
    """No sideways scrolling, everything inside the cell and visible, every key part there."""
    assert result["cell"][0] <= result["cell"][1], result
    assert result["root"][0] <= result["root"][1], result
    assert result["page"][0] <= result["page"][1], result
    assert result["outside"] == []
    assert result["hidden"] == []
    assert result["keys"] == KEYS[kind]


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_each_display_fits_a_notebook_cell(
    browser: Any, synthea: Synthea, linked: ProfileSet, kind: str
) -> None:
    """Each display, 640 pixels wide in a light theme, fits with every part visible."""
    result = render(browser, kind, displays(synthea, linked)[kind])

    assert_fits(result, kind)


def test_dark_theme_text_takes_the_notebook_colour(browser: Any, synthea: Synthea) -> None:
    """In a dark notebook the tables' text is the notebook's light text colour."""
    profile = synthea.largest()
    shown = profile.display(gaps=synthea.report_of(profile))
    result = render(browser, "profile-dark", shown, theme="dark")

    assert result["text"] == result["body"] == "rgb(221, 221, 221)"
    assert result["cell"][0] <= result["cell"][1]


def test_a_narrow_cell_still_does_not_overflow(browser: Any, synthea: Synthea) -> None:
    """Even 360 pixels wide, long ids wrap instead of pushing the page sideways."""
    result = render(browser, "profile-set-narrow", synthea.profiles.display(), width=360)

    assert_fits(result, "profile-set")
