"""The portal's own files are private: the SQLite database 0600, data written by the commands 0640 at most."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from portal.db import get_engine

ROOT = Path(__file__).resolve().parents[1]
JOURNAL = "fecha;asiento;cuenta;concepto;debe;haber\n15/01/2025;1;4300001;Factura 1;1.210,00;\n" + (
    "15/01/2025;1;7000000;Factura 1;;1.000,00\n15/01/2025;1;4770000;Factura 1;;210,00\n"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "nueva" / "portal.db"
    get_engine(f"sqlite:///{path}")
    assert mode(path) == 0o600
    wal = path.with_name("portal.db-wal")
    assert not wal.exists() or mode(wal) & 0o077 == 0


def test_files_written_by_a_load_are_not_readable_by_others(tmp_path):
    data = tmp_path / "data"
    (data / "sources" / "acme").mkdir(parents=True)
    (data / "sources" / "acme" / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(data)
    old = os.umask(0o022)  # the usual umask of a shell: the command itself must narrow it
    try:
        done = subprocess.run(
            [sys.executable, "-m", "etl", "load"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stdout + done.stderr
    written = [p for p in (data / "stores").rglob("*") if p.is_file()]
    assert written and all(mode(p) & 0o037 == 0 for p in written), {str(p): oct(mode(p)) for p in written}
    assert all(mode(p) & 0o027 == 0 for p in (data / "stores").rglob("*") if p.is_dir())
    assert mode(data / "portal.db") == 0o600
