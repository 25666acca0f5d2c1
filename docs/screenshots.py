"""Screenshots of the web page for docs/, taken with what a user gets: the real embedded default (the lite tier
and the local LLM, as ``loupe serve`` starts them), not the tests' scripted planner.

    python docs/screenshots.py            # writes docs/page-*.png and docs/serve-page.png (the README's: an approved edit)
    python docs/screenshots.py conversation   # only docs/page-conversation.png (or: states, for the others)

Each state the browser tests assert (tests/agent/service/test_browser.py) is shown: an answer with its
program and steps, the progress of a run, an edit waiting for approval, the edit against its photo, an earlier
run restored from the history, a refused upload, the page at phone width (375 px), and a conversation with
follow-ups ("blur them", "undo", "and dogs?"). Needs Debian's chromium and Playwright (``pip install
playwright``; no browser download) and the pulled lite models.
"""

from __future__ import annotations

import io
from pathlib import Path
import socket
import sys
import threading
import time

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SLOW = 180_000  # ms: the embedded LLM on a small CPU


def start_server():
    """``loupe serve``'s engine (settings from the environment, its default LLM, no program cache) on a free
    port in a thread; returns its URL."""
    import uvicorn

    from loupe.agent.service.app import create_app
    from loupe.agent.service.config import ServiceConfig
    from loupe.agent.service.engine import Engine
    from loupe.tools.settings import Settings

    engine = Engine(ServiceConfig.from_options(Settings.from_env(), use_cache=False))
    print(f"warming up {engine.config.default_llm} and the lite models ...", file=sys.stderr)
    engine.warm_up()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def save(page, name: str, full_page: bool = False) -> None:
    """A screenshot as a 256-colour PNG (a fifth of the size, no visible loss on a page of flat colours)."""
    from PIL import Image

    shot = Image.open(io.BytesIO(page.screenshot(full_page=full_page)))
    path = DOCS / f"{name}.png"
    shot.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"{path.relative_to(DOCS.parent)}: {path.stat().st_size // 1024} KB", file=sys.stderr)


PHOTOS = DOCS.parent / "tests" / "data" / "photos"


def main(names: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    shots = {"states": page_states, "conversation": conversation}
    url = start_server()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name in names or list(shots):
            shots[name](browser, url)
        browser.close()


def conversation(browser, url: str) -> None:
    """A conversation on the dinner photo: a question, a follow-up edit on what it found (approved), undo,
    and an elliptic follow-up."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 860})
    page.goto(url + "/")
    page.set_input_files("#image", str(PHOTOS / "family_dinner.jpg"))
    turns = page.get_by_test_id("turn")
    for number, query in enumerate(["How many faces are there?", "blur them", "undo", "and dogs?"], 1):
        page.fill("#query", query)
        page.click("[data-testid=ask]")
        if query == "blur them":
            expect(page.get_by_test_id("approval")).to_be_visible(timeout=SLOW)
            page.click("[data-testid=approve]")
        expect(turns.nth(number - 1)).to_have_attribute("data-turn", str(number), timeout=SLOW)
        page.wait_for_function("[...document.querySelectorAll('.turn img')].every(i => i.naturalWidth > 0)")
    save(page, "page-conversation", full_page=True)
    page.close()


def page_states(browser, url: str) -> None:
    """The page's states, one screenshot each."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 860})
    page.goto(url + "/")
    answer = page.get_by_test_id("answer")

    page.locator(".example-photo[data-photo='dog.jpg']").click()   # an example photo and its question
    page.wait_for_function("document.getElementById('preview-image').naturalWidth > 0")
    page.click("[data-testid=ask]")
    page.get_by_test_id("progress").filter(has_text="Step").wait_for(timeout=SLOW)
    save(page, "page-progress")
    expect(page.get_by_test_id("progress")).to_contain_text("Done", timeout=SLOW)
    page.wait_for_function("document.querySelector('#steps li[data-output=BOX0] img')?.naturalWidth > 0")
    save(page, "page-answer")

    page.locator(".example-photo[data-photo='family_dinner.jpg']").click()  # an edit: approval, then the slider
    page.wait_for_function("document.getElementById('preview-image').naturalWidth > 0")
    page.click("[data-testid=ask]")
    expect(page.get_by_test_id("approval")).to_be_visible(timeout=SLOW)
    save(page, "page-edit-approval")
    page.click("[data-testid=approve]")
    expect(page.get_by_test_id("edited")).to_be_visible(timeout=SLOW)
    page.wait_for_function("[...document.querySelectorAll('.compare img')].every(i => i.naturalWidth > 0)")
    page.get_by_test_id("compare-slider").fill("45")
    save(page, "serve-page")  # the README's: the web page after an approved edit

    page.get_by_test_id("history").locator("li", has_text="How many bicycles?").click()
    expect(answer).to_have_text("1")
    save(page, "page-history")

    page.set_input_files("#image", files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a photo"}])
    page.fill("#query", "How many dogs?")
    page.click("[data-testid=ask]")
    expect(page.get_by_test_id("drop-error-image")).to_be_visible(timeout=SLOW)
    save(page, "page-upload-refused")

    phone = browser.new_page(viewport={"width": 375, "height": 812})
    phone.goto(url + "/")
    phone.set_input_files("#image", str(PHOTOS / "horses.jpg"))
    phone.fill("#query", "How many horses?")
    phone.click("[data-testid=ask]")
    expect(phone.get_by_test_id("progress")).to_contain_text("Done", timeout=SLOW)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    save(phone, "page-phone", full_page=True)


if __name__ == "__main__":
    main(sys.argv[1:])
