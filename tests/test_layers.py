"""The layer order as a test: every import of a first-party module points down (docs/architecture.md, «Capas»)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Top to bottom. A module may import its own package and any package of a lower layer; never a package of its own
# layer (siblings stay apart) nor of a higher one. The programs at the top (app.py, server.py, bootstrap.py) may
# import anything. tests/ and bench/ stand outside the house and may import anything too.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"views", "web"}),  # Streamlit pages and the HTTP edge
    frozenset({"ops"}),  # the installation's jobs: schedule, digest run, backup and restore
    frozenset({"services"}),  # feature services: documents, the e-mail digest
    frozenset({"auth", "reports"}),  # who may see what; pure queries over a published snapshot
    frozenset({"etl"}),  # sources -> snapshots
    frozenset({"portal"}),  # the ground: settings, db, audit, mail, fmt, errors, clock, codes
)
PROGRAMS = ("app.py", "server.py", "bootstrap.py")
OUTSIDE = ("tests", "bench")
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def first_party_packages(root: Path) -> set[str]:
    """Every folder of the project with Python in it (views/ has no __init__.py), apart from tests and benchmarks."""
    return {p.parent.name for p in root.glob("*/*.py")} - set(OUTSIDE)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file, at any depth (late imports inside functions count)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            found.append((node.lineno, node.module or ""))
    return found


def violations(root: Path) -> list[str]:
    """Each import that points up or sideways, or reaches a command line (``__main__``), as 'file:line: reason'."""
    found = []
    for package in sorted(RANK):
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root)
            for line, module in imports_of(path):
                target = module.split(".")[0]
                if target not in RANK or target == package:
                    continue
                if RANK[target] <= RANK[package]:
                    side = "a su misma capa" if RANK[target] == RANK[package] else "a una capa superior"
                    found.append(f"{where}:{line}: {package} importa {module} ({side})")
    for path in [root / p for p in PROGRAMS] + [p for package in RANK for p in (root / package).rglob("*.py")]:
        if path.exists():
            for line, module in imports_of(path):
                if module.endswith("__main__") and path.name not in ("bootstrap.py",):
                    found.append(f"{path.relative_to(root)}:{line}: importa la línea de órdenes {module}")
    return found


def test_every_package_has_a_place_in_the_layers():
    assert first_party_packages(ROOT) == set(RANK), "add the new package to LAYERS (and to docs/architecture.md)"


def test_every_import_points_down():
    assert violations(ROOT) == []


def test_the_ground_imports_nothing_of_the_house():
    ground = [m for p in (ROOT / "portal").rglob("*.py") for _, m in imports_of(p) if m.split(".")[0] in RANK]
    assert {m.split(".")[0] for m in ground} <= {"portal"}


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("portal", "from auth import users\n", "portal importa auth (a una capa superior)"),
        ("etl", "def f():\n    from services import notify\n", "etl importa services (a una capa superior)"),
        ("auth", "import reports.ledger\n", "auth importa reports.ledger (a su misma capa)"),
        ("reports", "from etl.__main__ import main\n", "importa la línea de órdenes etl.__main__"),
    ],
)
def test_the_check_catches_an_import_that_points_the_wrong_way(tmp_path, package, source, expected):
    for name in RANK:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text('"""x."""\n')
    (tmp_path / package / "bad.py").write_text(source)
    assert [v for v in violations(tmp_path) if expected in v], violations(tmp_path)


def test_a_downward_import_passes(tmp_path):
    for name in RANK:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text('"""x."""\n')
    (tmp_path / "views" / "ok.py").write_text("from services import documents\nfrom portal import fmt\n")
    (tmp_path / "etl" / "ok.py").write_text("import portal.db\nfrom etl import store\n")
    assert violations(tmp_path) == []


@pytest.mark.parametrize("old", [["portal"], ["etl", "schedule"]], ids=" ".join)
def test_the_old_spellings_of_the_jobs_run_the_ops_command_line(old):
    run = {"cwd": ROOT, "capture_output": True, "text": True, "timeout": 120}
    shown = subprocess.run([sys.executable, "-m", *old, "--help"], **run)
    assert shown.returncode == 0 and "usage: python -m ops" in shown.stdout
    wrong = subprocess.run([sys.executable, "-m", *old, "--no-such-option"], **run)
    assert wrong.returncode == 2 and "Error en los argumentos" in wrong.stderr
