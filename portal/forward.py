"""Commands that moved up a layer keep their old spelling: the old program runs the new one in its place."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

PROJECT = Path(__file__).resolve().parents[1]


def run_instead(module: str, args: Sequence[str]) -> NoReturn:
    """Replace this process with ``python -m module args``: same interpreter, environment, folder and exit code.

    An exec, not an import: the lower package stays free of the layers above it (tests/test_layers.py).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    paths = [str(PROJECT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    os.execve(sys.executable, [sys.executable, "-m", module, *args], env)
