"""Shared parts of the browser tests: the real portal server on a free port and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's package (make test installs it); never a downloaded browser
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the portal server did not become healthy")


class PortalURL(str):
    """The base URL of a running portal server (a plain ``str``), with its process as ``.process``."""

    process: subprocess.Popen


@contextmanager
def running_portal(
    data: Path, *, env: dict[str, str] | None = None, script: str = "server.py", log_name: str = "streamlit.log"
) -> Iterator[PortalURL]:
    """`python server.py` (the portal's launcher: app.py behind its routes and middleware) on a free port over
    ``data`` (PORTAL_DATA_DIR; nothing else from the environment but ``env``). ``script`` is another launcher of the
    same kind (a test's own app behind the same middleware)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "STREAMLIT_"))}
    environment["PORTAL_DATA_DIR"] = str(data)
    environment.update(env or {})
    command = [sys.executable, script, "--address", "127.0.0.1", "--port", str(port)]
    data.mkdir(parents=True, exist_ok=True)
    with (data / log_name).open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        url = PortalURL(f"http://127.0.0.1:{port}")
        url.process = process
        try:
            wait_healthy(url, process)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright; fails (never skips) when it is missing: `make test` installs it."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make test` (it installs it with apt)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def choose(page, label: str, option: str, *, timeout_ms: int = 60_000) -> None:
    """Pick ``option`` in Streamlit's selectbox ``label``: the click that opens the list is retried, since a rerun
    in flight (a busy CI machine) can redraw the box and close the list just opened."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label)
    wanted = page.get_by_role("option", name=option, exact=False)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        box.click()
        try:
            wanted.first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")
    wanted.first.click()


def settle(page, *, quiet_ms: int = 500, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has no run in flight (its «Running» status widget gone), twice around a short pause."""
    status = page.locator("[data-testid='stStatusWidget']")
    for _ in range(2):
        status.wait_for(state="hidden", timeout=timeout_ms)
        page.wait_for_timeout(quiet_ms)


def click_download(page, button, *, attempt_ms: int = 30_000, timeout_ms: int = 150_000):
    """Click a download button once the app is idle and return the download; the click is retried when a rerun in
    flight redrew the button and swallowed it (a busy CI machine). One click, one file: no retry after a download."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        settle(page)
        try:
            with page.expect_download(timeout=attempt_ms) as started:
                button.click()
            return started.value
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
