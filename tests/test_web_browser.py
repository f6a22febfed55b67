"""The web view end to end: ``newsarc.web.serve`` on a free localhost port, driven by a real
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, through Selenium). Types a
query into the form, reads the results and highlights, opens a post, follows pagination, and
takes screenshots of the search and post pages: into a temporary folder, or, to refresh the
README's pictures, into docs/ with ``NEWSARC_SCREENSHOTS=docs`` (a folder, relative to the
repository).

Install the browser with ``scripts/install-browser.sh`` (as root). Under CI (``CI=true``) a
missing browser fails these tests; elsewhere it skips them with that instruction.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_web import EXAMPLES, HOSTILE_TITLE, PAGED, write_paged_posts

from newsarc.ingest import Importer
from newsarc.store import Store

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: the flags a root user in a container needs, and no calls home
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1200,900", "--lang=zh-CN",
]  # fmt: skip


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    problem = _missing()
    if problem:
        message = f"{problem}: run scripts/install-browser.sh as root"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (not docs/ by default: every run would change tracked files)."""
    wanted = os.environ.get("NEWSARC_SCREENSHOTS")
    folder = REPO / wanted if wanted else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _screenshot(driver, path: Path) -> None:
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``newsarc.web.serve`` in its own process on the archive 'news': examples, paged posts
    and a hostile post file. Yields the base URL."""
    folder = tmp_path_factory.mktemp("served")
    posts = folder / "posts"
    shutil.copytree(EXAMPLES, posts)
    write_paged_posts(posts / "paged")
    (posts / "2022-05-01-hostile.md").write_text(
        f"---\ntitle: '{HOSTILE_TITLE.replace(chr(27), '')}'\ndate: 2022-05-01\n---\n\n"
        "&lt;script&gt;alert(3)&lt;/script&gt; 恶意正文 [bold]b[/bold]\n",
        encoding="utf-8",
    )
    db = folder / "news.db"
    with Store.open(db) as store:
        Importer(store).run([posts])
    port = _free_port()
    code = f"from newsarc.web import serve; serve({str(db)!r}, port={port})"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"newsarc.web.serve did not start (exit {process.poll()})")
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def _search(driver, base: str, query: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/-/newsarc/news")
    box = driver.find_element(By.ID, "newsarc-q")
    box.clear()
    box.send_keys(query, Keys.ENTER)
    _wait(driver, lambda d: d.find_elements(By.CLASS_NAME, "newsarc-total"))


def _wait(driver, condition, seconds: float = 15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def test_browser_search_shows_results_and_highlights(browser, server):
    from selenium.webdriver.common.by import By

    _search(browser, server, "國資委")
    hits = browser.find_elements(By.CLASS_NAME, "newsarc-hit")
    assert len(hits) == 1
    marks = [m.text for m in browser.find_elements(By.TAG_NAME, "mark")]
    assert marks and set(marks) == {"国资委"}
    assert "1 post matches" in browser.find_element(By.CLASS_NAME, "newsarc-total").text
    assert browser.find_element(By.ID, "newsarc-q").get_attribute("value") == "國資委"


def test_browser_search_page_screenshot(browser, server, shots):
    from selenium.webdriver.common.by import By

    _search(browser, server, "苹果 OR 国资委")
    assert len(browser.find_elements(By.CLASS_NAME, "newsarc-hit")) >= 3
    _screenshot(browser, shots / "web-search.png")


def test_browser_opens_a_post(browser, server, shots):
    from selenium.webdriver.common.by import By

    _search(browser, server, "创新联合体")
    link = browser.find_element(By.CLASS_NAME, "newsarc-title")
    title = link.text
    link.click()
    _wait(browser, lambda d: d.find_elements(By.CLASS_NAME, "newsarc-metadata"))
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    labels = [th.text for th in browser.find_elements(By.CSS_SELECTOR, ".newsarc-metadata th")]
    assert labels[:6] == ["id", "date", "category", "tags", "source", "url"]
    paragraphs = browser.find_elements(By.CSS_SELECTOR, ".newsarc-body p")
    assert (
        len(paragraphs) >= 3
        and "创新联合体" in browser.find_element(By.CLASS_NAME, "newsarc-body").text
    )
    assert not browser.find_elements(By.CSS_SELECTOR, ".newsarc-body img")
    _screenshot(browser, shots / "web-post.png")


def test_browser_follows_pagination(browser, server):
    from selenium.webdriver.common.by import By

    _search(browser, server, "分页测试")
    seen: list[str] = []
    for first, last in ((1, 20), (21, 40), (41, PAGED)):
        total = browser.find_element(By.CLASS_NAME, "newsarc-total").text
        assert f"showing {first}–{last}" in total
        seen += [
            a.get_attribute("href") for a in browser.find_elements(By.CLASS_NAME, "newsarc-title")
        ]
        following = browser.find_elements(By.CLASS_NAME, "newsarc-next")
        if last == PAGED:
            assert not following
        else:
            following[0].click()
            _wait(
                browser,
                lambda d, first=first: (
                    f"showing {first + 20}–" in d.find_element(By.CLASS_NAME, "newsarc-total").text
                ),
            )
    assert len(seen) == len(set(seen)) == PAGED


def test_browser_hostile_post_runs_nothing(browser, server):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _search(browser, server, "恶意")
    link = browser.find_element(By.CLASS_NAME, "newsarc-title")
    assert "<script>alert(1)</script>[bold red]恶意[/]" in link.text
    link.click()
    _wait(browser, lambda d: d.find_elements(By.CLASS_NAME, "newsarc-metadata"))
    assert "<script>alert(3)</script>" in browser.find_element(By.CLASS_NAME, "newsarc-body").text
    assert "<img src=x" in browser.find_element(By.TAG_NAME, "h1").text
    assert not browser.find_elements(By.CSS_SELECTOR, "article img, article script")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
