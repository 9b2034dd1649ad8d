"""The licence: AGPL-3.0-or-later declared, and every runtime dependency's licence listed and compatible with it."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "licences.md"
# SPDX identifiers a work under AGPL-3.0-or-later may use as libraries (FSF's list of GPLv3-compatible licences).
COMPATIBLE = {
    "0BSD",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "CC0-1.0",
    "ISC",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-CMU",
    "MPL-2.0",
    "PSF-2.0",
    "Zlib",
}
ROW = re.compile(r"^\| (?P<name>[a-z0-9][a-z0-9.-]*) \| (?P<licence>[^|]+?) \|")


def runtime_distributions() -> dict[str, md.Distribution]:
    """Every distribution requirements.txt installs (its pins and what they require, markers evaluated)."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pending = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    found: dict[str, md.Distribution] = {}
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found[name] = md.distribution(requirement.name)  # PackageNotFoundError: requirements.txt not installed
        for text in found[name].requires or []:
            needed = Requirement(text)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                pending.append(needed)
    return found


def listed() -> dict[str, str]:
    """The table of docs/licences.md: package -> SPDX licence expression."""
    rows = (ROW.match(line) for line in TABLE.read_text(encoding="utf-8").splitlines())
    return {row["name"]: row["licence"].strip() for row in rows if row}


def spdx_ids(expression: str) -> set[str]:
    return set(re.split(r"\s+(?:AND|OR|WITH)\s+|[()]", expression)) - {""}


def test_project_is_agpl_3_or_later():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:8] == ["GNU", "AFFERO", "GENERAL", "PUBLIC", "LICENSE", "Version", "3,", "19"]
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in text
    assert text.rstrip().endswith("<https://www.gnu.org/licenses/>.")


def test_every_runtime_dependency_has_its_licence_listed():
    table = listed()
    installed = runtime_distributions()
    missing = sorted(set(installed) - set(table))
    assert not missing, f"add these runtime dependencies to docs/licences.md with their licence: {missing}"
    stale = sorted(set(table) - set(installed))
    assert not stale, f"docs/licences.md lists packages the portal no longer installs: {stale}"


def test_listed_licences_match_the_packages_own_declaration():
    table = listed()
    for name, dist in runtime_distributions().items():
        declared = dist.metadata.get("License-Expression")
        if declared:
            assert table[name] == declared, f"{name}: the package declares {declared!r}, the table {table[name]!r}"


def test_every_licence_is_compatible_with_the_agpl():
    for name, expression in listed().items():
        unknown = spdx_ids(expression) - COMPATIBLE
        assert not unknown, f"{name}: {sorted(unknown)} is not in the AGPL-compatible list; check it before adding"


def test_the_table_parser_sees_a_missing_row(tmp_path, monkeypatch):
    copy = tmp_path / "licences.md"
    copy.write_text(
        "\n".join(line for line in TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("| pandas |")),
        encoding="utf-8",
    )
    monkeypatch.setattr(f"{__name__}.TABLE", copy)
    assert "pandas" in runtime_distributions() and "pandas" not in listed()
