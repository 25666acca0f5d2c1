"""The web page in a real browser: Debian's headless Chromium driven by Playwright (no browser download).

Flow: open the page, pick dog.jpg, ask "How many bicycles?", see the answer and a step thumbnail, and a partial answer's note; then an
edit that waits for approval, approve it, see the edited image. Screenshots are kept as test artifacts in
the test's temporary folder (printed with -s; ``LOUPE_SCREENSHOTS=DIR`` copies them there too).
"""

import os
from pathlib import Path
import shutil

import pytest

from service_support import PHOTOS, LiveServer, make_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.models, pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                                     reason="needs Debian's chromium (apt-get install chromium)")]


@pytest.fixture
def live(tmp_path):
    from agent.service.app import create_app
    from agent.service.engine import Engine

    engine = Engine(make_config(tmp_path))
    server = LiveServer(create_app(engine=engine))
    yield server
    server.stop()
    engine.close()


@pytest.fixture
def page(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(live.url + "/")
        yield page
        browser.close()


def _shot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("LOUPE_SCREENSHOTS"):
        Path(os.environ["LOUPE_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["LOUPE_SCREENSHOTS"]) / path.name)
    print(f"screenshot: {path}")
    return path


def test_ask_about_a_photo_in_the_browser(page, tmp_path):
    from playwright.sync_api import expect

    expect(page.locator("#llm option")).to_have_count(1)
    page.set_input_files("#image", str(PHOTOS / "dog.jpg"))
    page.fill("#query", "How many bicycles?")
    page.click("[data-testid=ask]")
    expect(page.get_by_test_id("answer")).to_have_text("1", timeout=60_000)
    expect(page.get_by_test_id("program")).to_contain_text("LOC(image=IMAGE,object='bicycle')")
    steps = page.locator("#steps li")
    expect(steps).to_have_count(3)
    thumb = page.locator("#steps li[data-output=BOX0] img")
    expect(thumb).to_be_visible()
    page.wait_for_function("document.querySelector('#steps li[data-output=BOX0] img').naturalWidth > 0")
    expect(page.get_by_test_id("history").locator("li")).to_contain_text(["How many bicycles? → 1"])
    assert _shot(page, tmp_path, "ask-bicycles").stat().st_size > 10_000

    # an answer on weak evidence says so (status partial, issue 23): the faint horse of horses.jpg
    page.set_input_files("#image", str(PHOTOS / "horses.jpg"))
    page.fill("#query", "How many horses?")
    page.click("[data-testid=ask]")
    expect(page.get_by_test_id("partial")).to_contain_text("weak evidence", timeout=60_000)


def test_an_edit_waits_for_approval_in_the_browser(page, tmp_path):
    from playwright.sync_api import expect

    page.set_input_files("#image", str(PHOTOS / "person.jpg"))
    page.fill("#query", "Blur every face")
    page.click("[data-testid=ask]")
    approval = page.get_by_test_id("approval")
    expect(approval).to_be_visible(timeout=60_000)
    expect(approval).to_contain_text("BLUR")
    expect(page.locator("#steps li")).to_have_count(0)  # nothing ran before the approval
    _shot(page, tmp_path, "edit-awaiting-approval")
    page.click("[data-testid=approve]")
    edited = page.locator("[data-testid=answer] img")
    expect(edited).to_be_visible(timeout=60_000)
    page.wait_for_function("document.querySelector('[data-testid=answer] img').naturalWidth > 0")
    download_link = page.locator("a", has_text="Download the edited image")
    assert download_link.get_attribute("href").endswith("/image.png?download=true")
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".png")
    _shot(page, tmp_path, "edit-approved")


def test_a_rejected_edit_in_the_browser(page, tmp_path):
    from playwright.sync_api import expect

    page.set_input_files("#image", str(PHOTOS / "person.jpg"))
    page.fill("#query", "Blur every face")
    page.click("[data-testid=ask]")
    expect(page.get_by_test_id("approval")).to_be_visible(timeout=60_000)
    page.click("[data-testid=reject]")
    expect(page.get_by_test_id("answer")).to_contain_text("rejected", timeout=60_000)
