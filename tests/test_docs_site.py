"""The built documentation site (``make docs``): every page renders in headless Chromium, no link is broken.

Crawls every ``.html`` file under ``docs/_build/html``: each relative ``href``/``src``
must name a file of the site and each ``#anchor`` an ``id`` (or ``name``) on the target
page; then opens every page in headless Chromium (``tests/browser.py``) and fails on any
console error or warning, page error or dialog, and on a page with no text. Skips when
the site is not built, unless ``LIMEKIT_REQUIRE_DOCS=1`` (CI sets it after ``make docs``),
in which case a missing build fails.
"""

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import CHROMIUM_FLAGS, ensure_chromium

pytestmark = pytest.mark.slow  # a headless Chromium over a hundred pages: tens of seconds

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "_build" / "html"
# the pages people read; the theme's search page is rendered by JavaScript from searchindex.js
EXPECTED = [
    "index.html",
    "guide/getting_started.html",
    "guide/tabular.html",
    "guide/text.html",
    "guide/images.html",
    "guide/surrogates.html",
    "guide/trust.html",
    "guide/many_rows.html",
    "guide/outputs.html",
    "guide/from_lime.html",
    "benchmarks.html",
    "api/index.html",
    "auto_examples/index.html",
    "auto_examples/plot_tabular.html",
    "auto_examples/plot_text.html",
    "auto_examples/plot_image.html",
    "auto_examples/plot_gam_surrogates.html",
    "auto_examples/plot_verdict.html",
    "auto_examples/plot_many_rows.html",
]
LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}


class Page(HTMLParser):
    """The ids and the links of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        wanted = LINK_ATTRIBUTES.get(tag)
        if wanted and attrs.get(wanted):
            self.links.append(attrs[wanted])


def parse(path, cache={}):  # noqa: B006 (a cache for the crawl)
    if path not in cache:
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        message = f"the documentation site is not built ({SITE}): run `make docs`"
        if os.environ.get("LIMEKIT_REQUIRE_DOCS") == "1":
            pytest.fail(message + " (LIMEKIT_REQUIRE_DOCS=1)")
        pytest.skip(message)
    # _static holds the theme's own files (templates among them), not pages
    return sorted(path for path in SITE.rglob("*.html") if "_static" not in path.relative_to(SITE).parts)


def test_the_site_has_its_pages(site):
    missing = [name for name in EXPECTED if not (SITE / name).is_file()]
    assert not missing, f"pages missing from the build: {missing}"
    gallery = (SITE / "auto_examples" / "plot_tabular.html").read_text(encoding="utf-8")
    assert "sphx-glr-single-img" in gallery, "the gallery's figures were not produced by the build"


def test_no_internal_link_is_broken(site):
    broken = []
    for path in site:
        for link in parse(path).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
                continue  # external: not checked (no network at test time)
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(SITE)}: {link}"
            if not target.is_file():
                broken.append(f"{where} (no file {target})")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{where} (no #{parts.fragment} in {target.relative_to(SITE)})")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:50])


def test_every_page_renders_without_errors(site):
    chromium, reason = ensure_chromium()
    if chromium is None:
        pytest.skip(reason)
    playwright_api = pytest.importorskip("playwright.sync_api")
    problems = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            for path in site:
                name = str(path.relative_to(SITE))
                errors = []
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.on(
                    "console",
                    lambda message, errors=errors: (
                        errors.append(f"console {message.type}: {message.text}")
                        if message.type in ("error", "warning")
                        else None
                    ),
                )
                page.on("pageerror", lambda error, errors=errors: errors.append(f"page error: {error}"))
                page.on(
                    "dialog",
                    lambda dialog, errors=errors: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()),
                )
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                text = page.evaluate("document.body ? document.body.innerText.trim().length : 0")
                if not text:
                    errors.append("the page shows no text")
                page.close()
                problems += [f"{name}: {error}" for error in errors]
        finally:
            browser.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:50])
