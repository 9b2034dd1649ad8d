"""House rules checked as tests: layering (no Streamlit below the pages) and a docstring on every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("etl", "auth", "portal", "views", "reports", "bench", "ops", "web", "services")
SOURCES = [
    *sorted(p for folder in PACKAGES for p in (ROOT / folder).rglob("*.py")),
    ROOT / "app.py",
    ROOT / "bootstrap.py",
]
NO_STREAMLIT = (
    "etl",
    "portal",
    "reports",
    "ops",
    "services",
)  # bench/ drives Streamlit servers and speaks their protocol


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", [p for p in SOURCES if p.relative_to(ROOT).parts[0] in NO_STREAMLIT], ids=str)
def test_the_data_side_never_imports_streamlit(path):
    assert not imported_modules(path) & {"streamlit", "streamlit_authenticator"}


@pytest.mark.parametrize("path", [p for p in SOURCES if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_opens_with_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and doc.strip(), f"{path} has no module docstring"


def test_no_raw_html_is_rendered():
    offenders = [str(p) for p in SOURCES if p.exists() and "unsafe_allow_html=True" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_every_empty_choice_box_has_a_spanish_placeholder():
    """Streamlit's own placeholders are English («Choose options», «Choose an option»): every multiselect, and every
    selectbox that can be empty (``index=None``), names its own."""
    offenders = []
    for path in [*sorted((ROOT / "views").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            empty = isinstance(keywords.get("index"), ast.Constant) and keywords["index"].value is None
            if (node.func.attr == "multiselect" or (node.func.attr == "selectbox" and empty)) and (
                "placeholder" not in keywords
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
