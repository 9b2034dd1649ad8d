"""The AEAT calendar: each rule of the table by hand, deadlines moved off weekends and national holidays, the
direct-debit cut-off, and a company's next deadlines from the models it files (filed returns left out)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from etl import service
from etl.store import Store
from portal.settings import load_settings
from reports import tax_calendar as cal
from tests.test_taxes import write_company

# Days of the week by hand (checked against a printed calendar):
# 20/04/2025 Sunday (Easter Sunday; Easter Monday 21/04 is a regional holiday only) · 20/04/2057 Friday, Good
# Friday (Easter 22/04/2057), a national holiday, then Saturday and Sunday · 12/10/2026 Monday, Fiesta Nacional ·
# 30/01/2027 Saturday · 31/01/2027 Sunday · 25/07/2026 Saturday · 25/07/2025 Friday · 20/12/2026 Sunday ·
# 20/10/2026 Tuesday · 20/06/2026 Saturday · 20/04/2026 Monday · 20/01/2026 Tuesday · 30/01/2026 Friday ·
# 20/04/2024 Saturday · 20/10/2024 Sunday · 20/01/2025 Monday · 30/01/2025 Thursday.


def test_a_working_day_stays_and_weekends_and_national_holidays_move_to_the_next_working_day():
    assert cal.working_day(date(2026, 4, 20)) == date(2026, 4, 20)
    assert cal.working_day(date(2025, 4, 20)) == date(2025, 4, 21)  # Sunday → Monday (Easter Monday is regional)
    assert cal.working_day(date(2026, 10, 12)) == date(2026, 10, 13)  # Fiesta Nacional (Monday) → Tuesday
    assert cal.working_day(date(2057, 4, 20)) == date(2057, 4, 23)  # Good Friday, Saturday, Sunday → Monday
    assert cal.working_day(date(2027, 1, 6)) == date(2027, 1, 7)  # Epifanía (Wednesday) → Thursday
    assert not cal.is_working_day(date(2025, 12, 25)) and cal.is_working_day(date(2025, 12, 24))


@pytest.mark.parametrize(
    ("model", "year", "period", "due", "debit"),
    [
        ("303", 2026, "1T", date(2026, 4, 20), date(2026, 4, 15)),  # 1–20 April, direct debit by the 15th
        ("303", 2025, "1T", date(2025, 4, 21), date(2025, 4, 16)),  # 20/04/2025 is a Sunday
        ("303", 2057, "1T", date(2057, 4, 23), date(2057, 4, 18)),  # 20/04/2057 is Good Friday (national holiday)
        ("303", 2026, "2T", date(2026, 7, 20), date(2026, 7, 15)),
        ("303", 2026, "3T", date(2026, 10, 20), date(2026, 10, 15)),
        ("303", 2025, "4T", date(2026, 1, 30), date(2026, 1, 25)),  # 4T by 30 January
        ("303", 2026, "4T", date(2027, 2, 1), date(2027, 1, 27)),  # 30/01/2027 is a Saturday
        ("111", 2025, "4T", date(2026, 1, 20), date(2026, 1, 15)),  # 111 and 115: 4T by 20 January
        ("115", 2025, "4T", date(2026, 1, 20), date(2026, 1, 15)),
        ("130", 2025, "4T", date(2026, 1, 30), date(2026, 1, 25)),
        ("390", 2025, "0A", date(2026, 1, 30), None),  # annual summaries: no payment, no direct debit
        ("190", 2025, "0A", date(2026, 2, 2), None),  # 31/01/2026 is a Saturday
        ("180", 2026, "0A", date(2027, 2, 1), None),  # 31/01/2027 is a Sunday
        ("200", 2024, "0A", date(2025, 7, 25), date(2025, 7, 20)),  # 25 days after six months of year end
        ("200", 2025, "0A", date(2026, 7, 27), date(2026, 7, 22)),  # 25/07/2026 is a Saturday
        ("202", 2026, "1P", date(2026, 4, 20), date(2026, 4, 15)),
        ("202", 2026, "2P", date(2026, 10, 20), date(2026, 10, 15)),
        ("202", 2026, "3P", date(2026, 12, 21), date(2026, 12, 16)),  # 20/12/2026 is a Sunday
        ("303", 2024, "01", date(2024, 2, 29), date(2024, 2, 24)),  # monthly: January by the end of February
        ("303", 2026, "04", date(2026, 6, 1), date(2026, 5, 27)),  # 30/05/2026 is a Saturday
        ("303", 2025, "12", date(2026, 1, 30), date(2026, 1, 25)),
        ("111", 2026, "05", date(2026, 6, 22), date(2026, 6, 17)),  # 20/06/2026 is a Saturday
    ],
)
def test_each_rule_of_the_table(model, year, period, due, debit):
    deadline = cal.deadline_of(model, year, period)
    assert (deadline.date, deadline.direct_debit_date) == (due, debit)
    assert deadline.moved == (due != cal.rule_date(model, year, period))


def test_the_labels_are_spanish():
    assert cal.deadline_of("303", 2026, "4T").label == "Modelo 303 · IVA 4T 2026"
    assert cal.deadline_of("390", 2025, "0A").label == "Modelo 390 · Resumen anual de IVA 2025"
    assert cal.deadline_of("111", 2026, "05").label == "Modelo 111 · Retenciones 05/2026"
    assert cal.deadline_of("202", 2026, "1P").label == "Modelo 202 · Pago fraccionado de Sociedades 1P 2026"


def test_every_model_and_period_of_the_reader_has_a_rule():
    from etl.modules.taxes import MODEL_PERIODS

    assert {m: set(p) for m, p in MODEL_PERIODS.items()} == {m: set(p) for m, p in cal.RULES.items()}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The small company of tests/test_taxes.py (303, 111, 115, 390, 190, 180 of 2024) and one without taxes."""
    data = tmp_path_factory.mktemp("calendar") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    folder = write_company(settings.sources, "llana")
    shutil.rmtree(folder / "impuestos")
    results = service.load_all(settings, companies=["fisco", "llana"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    return Store(settings.stores)


def test_the_next_deadlines_come_from_the_models_filed_and_leave_out_the_returns_filed(stores):
    snapshot = stores.current("fisco")
    # 10/01/2025: the 4T 2024 of 111 and 115 (20/01) and 303 (30/01); the 390/190/180 of 2024 were filed on 29/01.
    found = cal.deadlines(snapshot, date(2025, 1, 10), 20)
    assert [(d.date, d.label, d.direct_debit_date) for d in found] == [
        (date(2025, 1, 20), "Modelo 111 · Retenciones 4T 2024", date(2025, 1, 15)),
        (date(2025, 1, 20), "Modelo 115 · Retenciones de alquileres 4T 2024", date(2025, 1, 15)),
        (date(2025, 1, 30), "Modelo 303 · IVA 4T 2024", date(2025, 1, 25)),
    ]
    assert cal.next_deadline(snapshot, date(2025, 1, 10)) == found[0]
    # 01/04/2024: the 303 and 111 of 1T were filed on 15/04; the 115 of 1T was not (20/04/2024 is a Saturday).
    [rent] = cal.deadlines(snapshot, date(2024, 4, 1), 30)
    assert (rent.model, rent.period, rent.date, rent.moved) == ("115", "1T", date(2024, 4, 22), True)
    april = cal.schedule(snapshot, *cal.month_bounds(2024, 4))
    assert [(d.model, d.filed) for d in april] == [
        ("111", date(2024, 4, 15)),
        ("115", None),
        ("303", date(2024, 4, 15)),
    ]


def test_a_company_that_files_nothing_has_no_deadline(stores):
    snapshot = stores.current("llana")
    assert cal.deadlines(snapshot, date(2025, 1, 10), 365) == []
    assert cal.next_deadline(snapshot, date(2025, 1, 10)) is None


def test_the_month_grid_starts_on_monday_and_marks_deadlines_and_holidays():
    found = [cal.deadline_of("303", 2025, "1T"), cal.deadline_of("111", 2025, "1T")]
    weeks = cal.month_grid(found, 2025, 4)
    assert len(weeks) == 5 and all(len(w) == 7 for w in weeks)
    assert weeks[0][0] is None and weeks[0][1].date == date(2025, 4, 1)  # 31/03/2025 is a Monday of March
    cells = {d.date.day: d for w in weeks for d in w if d is not None}
    assert [d.model for d in cells[21].deadlines] == ["303", "111"]
    assert cells[18].holiday and not cells[21].holiday  # Good Friday; Easter Monday is not national
    assert sum(len(d.deadlines) for d in cells.values()) == 2
