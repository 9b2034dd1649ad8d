"""Debian's Caddy on deploy/Caddyfile, started as production starts it (tests/test_proxy.py, bench/concurrency.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"  # Debian's package (`make dev` installs it)


def caddy_environment(base: Path, **variables: str) -> dict[str, str]:
    """Caddy's whole environment: its HOME and XDG folders inside ``base`` (its CA and state stay there) and the
    Caddyfile's variables; nothing else is inherited but PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base / "caddy-home"),
        "XDG_DATA_HOME": str(base / "caddy-data"),
        "XDG_CONFIG_HOME": str(base / "caddy-config"),
        **variables,
    }


@contextlib.contextmanager
def running_caddy(base: Path, env: dict[str, str], url: str, config: Path = CADDYFILE) -> Iterator[ssl.SSLContext]:
    """``caddy run`` on deploy/Caddyfile (or ``config``, a benchmark's variant of it) with ``env``, until the portal
    answers through it at ``url``; yields an SSL context that trusts Caddy's internal root (and nothing else).
    Stopped with SIGTERM."""
    root = Path(env["XDG_DATA_HOME"]) / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    log_path = base / "caddy.log"
    command = [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield wait_for_proxy(url, root, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_proxy(
    url: str, root: Path, process: subprocess.Popen, log_path: Path, timeout: float = 60
) -> ssl.SSLContext:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"caddy exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        if root.exists():
            try:
                context = ssl.create_default_context(cafile=str(root))
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5, context=context) as response:
                    if response.read().decode() == "ok":
                        return context
            except (OSError, ssl.SSLError):
                pass
        time.sleep(0.2)
    raise TimeoutError(f"the portal did not answer through caddy:\n{log_path.read_text(errors='replace')}")
