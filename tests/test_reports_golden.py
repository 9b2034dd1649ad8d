"""Golden files: the demo companies' P&L and balance sheets, generated once and compared byte for byte after.

Set ``PORTAL_UPDATE_GOLDEN=1`` to rewrite them after a deliberate change (and review the diff).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from etl import service
from etl.demo import generate
from etl.store import Store
from portal.settings import load_settings
from reports import export, periods
from reports.statements import balance_sheet, calendar_of, profit_and_loss

GOLDEN = Path(__file__).resolve().parent / "golden"
COMPANIES = ("levante", "mediterraneo")  # one PYMES, one abreviado
UNTIL = date(2026, 11, 28)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    settings = load_settings({"PORTAL_DATA_DIR": str(root / "data"), "PORTAL_SOURCE_DIR": str(root / "sources")})
    generate(settings.sources, until=UNTIL)
    results = service.load_all(settings, companies=list(COMPANIES))
    assert [r.outcome for r in results] == ["published"] * len(COMPANIES)
    return Store(settings.stores)


def reports_of(snapshot):
    calendar = calendar_of(snapshot)
    return {
        "pyg_2025": profit_and_loss(snapshot, periods.fiscal_year(calendar, 2025)),
        "pyg_2026_ytd": profit_and_loss(snapshot, periods.year_to_date(calendar, date(2026, 10, 31))),
        "balance_2025-12-31": balance_sheet(snapshot, date(2025, 12, 31)),
        "balance_2026-11-28": balance_sheet(snapshot, UNTIL),
    }


@pytest.mark.parametrize("company", COMPANIES)
def test_demo_statements_match_their_golden_files(store, company):
    snapshot = store.current(company)
    made = reports_of(snapshot)
    for statement in made.values():
        assert statement.unmapped == ()
        if statement.kind == "balance":
            assert statement.check == 0 and statement.balanced
    assert made["balance_2025-12-31"].amount("21700") == made["pyg_2025"].amount("49500")
    for name, statement in made.items():
        path = GOLDEN / f"{company}_{name}.csv"
        text = export.to_csv(export.statement_table(statement))
        if os.environ.get("PORTAL_UPDATE_GOLDEN") or not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden file"
