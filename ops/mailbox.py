"""The demo's mail catcher: a local SMTP server (aiosmtpd) that keeps every message as an ``.eml`` file in a folder."""

from __future__ import annotations

import os
import secrets
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller

from portal import clock


class FolderHandler:
    """aiosmtpd handler: each message becomes ``<UTC time>-<random>.eml`` in the folder, written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{clock.now_utc():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
        partial = self.folder / f".{name}.part"
        with open(partial, "wb") as fh:
            fh.write(envelope.original_content or envelope.content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, self.folder / name)
        return "250 Mensaje guardado en el buzón de demostración"


def start(folder: Path, *, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the catcher in a background thread (loopback only); ``.stop()`` ends it."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(FolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def serve(folder: Path, *, host: str = "127.0.0.1", port: int = 8025) -> None:
    """Run the catcher until SIGINT/SIGTERM."""
    controller = start(folder, host=host, port=port)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    print(f"Buzón de demostración en {host}:{port}; los mensajes se guardan en {folder}.", flush=True)
    try:
        done.wait()
    finally:
        controller.stop()
