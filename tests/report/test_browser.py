"""Open the HTML report in a real headless browser: Debian's chromium driven by playwright.

Skipped only on a machine without /usr/bin/chromium; when the env var CI is "true" a
missing browser (or playwright) is a failure, since .ci/run installs both.
"""

import os
from pathlib import Path

import pytest

from custintel.report import SECTIONS

# TODO: pytest.mark.browser once the marker is registered in pyproject.toml.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing: .ci/run must apt-get install chromium")
        pytest.skip(f"Debian's chromium ({CHROMIUM}) is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true but the playwright package is not installed")
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as p:
        # Debian's browser, never one downloaded by `playwright install`.
        # A small /dev/shm in CI containers would crash its renderer.
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


def _open(browser, path: Path):
    """Load the report, recording every request and refusing all but file: and data:."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    refused: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", route)
    url = path.resolve().as_uri()
    page.goto(url, wait_until="load")
    return context, page, url, requests, refused, errors


def _check(browser, path: Path, n_images: int, *, promotions: bool = False) -> None:
    context, page, url, requests, refused, errors = _open(browser, path)
    try:
        for key, title in SECTIONS:
            if key == "promotions" and not promotions:
                assert page.locator("section#promotions").count() == 0
                continue
            heading = page.locator(f"section#{key} > h2")
            assert heading.is_visible(), key
            assert heading.inner_text() == title
            action = page.locator(f"section#{key} > p.action")
            assert action.is_visible() and len(action.inner_text()) > 30, key
        images = page.eval_on_selector_all(
            "img",
            "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight,"
            " i.getBoundingClientRect().width, i.src.slice(0, 21)])",
        )
        assert len(images) == n_images
        for alt, complete, width, height, shown, scheme in images:
            assert complete and width > 0 and height > 0, alt
            assert shown > 0, alt
            assert scheme == "data:image/png;base64", alt
        page.wait_for_timeout(200)  # let anything lazily requested show up
        assert refused == []
        others = [u for u in requests if not u.startswith("data:")]
        assert others == [url]
        assert errors == []
    finally:
        context.close()


def test_full_report_renders_offline(browser, full_report):
    _check(browser, full_report, n_images=14)


def test_minimal_report_renders_offline(browser, minimal_report):
    _check(browser, minimal_report, n_images=9)


def test_a_network_reference_would_be_caught(browser, full_report, tmp_path):
    # The same checks must see a page that fetches something: the test can fail.
    leaky = tmp_path / "leaky.html"
    text = full_report.read_text(encoding="utf-8")
    leaky.write_text(
        text.replace("</main>", '<img alt="x" src="https://example.invalid/x.png"></main>'),
        encoding="utf-8",
    )
    context, _, _, requests, refused, _ = _open(browser, leaky)
    context.close()
    assert refused == ["https://example.invalid/x.png"]
    assert "https://example.invalid/x.png" in requests


def test_report_of_a_real_customer_intelligence_renders_offline(browser, pipeline_report):
    # The simulated data have promotions and discounts: one more section, one more plot.
    _check(browser, pipeline_report, n_images=15, promotions=True)


def test_online_retail_report_renders_offline(browser, online_retail_run, tmp_path):
    # The real export's report (issue 16): every section, every image, nothing fetched,
    # and a screenshot of the whole page a person can look at.
    out, _ = online_retail_run
    _check(browser, out / "report.html", n_images=13)  # no whale curve: no cost column
    context, page, *_ = _open(browser, out / "report.html")
    try:
        shot = page.screenshot(full_page=True, path=str(tmp_path / "online-retail.png"))
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 100_000
    finally:
        context.close()
