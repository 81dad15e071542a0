"""Headless Chromium for the HTML tests: installed by the test set-up when missing.

The tests open each page from a file:// URL with the flags this machine kind
needs (no sandbox as root, no background networking), collect console errors,
page errors and dialogs, and take a screenshot.
"""

import os
import shutil
import subprocess

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium():
    """Path of a Chromium binary, installing Debian's package when missing; (None, reason) if impossible."""
    path = find_chromium()
    if path:
        return path, None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "chromium is missing and cannot be installed here (needs root and apt-get)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            return None, f"installing chromium failed: {' '.join(command)}: {result.stderr.strip()[-300:]}"
    path = find_chromium()
    return (path, None) if path else (None, "chromium was installed but is not on PATH")


class PageReport:
    def __init__(self, errors, screenshot, evaluate):
        self.errors = errors
        self.screenshot = screenshot
        self.evaluate = evaluate


def open_page(chromium, html_path, screenshot_path, script=None):
    """Open a page; return console/page errors, dialogs, the screenshot path and ``script``'s value."""
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.on(
                "console",
                lambda message: (
                    errors.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
            page.goto(f"file://{html_path}")
            page.wait_for_load_state("load")
            page.screenshot(path=str(screenshot_path), full_page=True)
            value = page.evaluate(script) if script else None
        finally:
            browser.close()
    return PageReport(errors, screenshot_path, value)


def non_blank_fraction(png_path):
    """Fraction of pixels that are not (nearly) white."""
    from matplotlib.image import imread

    image = imread(str(png_path))[..., :3]
    return float((image.min(axis=-1) < 0.9).mean())
