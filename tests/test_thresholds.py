"""Umbrales legales: the dated limits as data, the company-law two-of-three-for-two-years rule, the single limits,
the VERI*FACTU dates, and the page on the hand journal (figures known by hand), with its export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal import clock
from reports import thresholds
from reports.thresholds import Limit, Rule, YearFigures
from tests.test_accounting_pages import downloaded, spanish_csv, template, world  # noqa: F401 (fixtures)
from tests.test_security import open_page, signed_in, texts

TODAY = date(2026, 12, 3)
M = Decimal(1_000_000)


def year(fy: int, assets: float | None, turnover: float | None, headcount: float | None, closed: bool = True):
    def dec(value):
        return None if value is None else Decimal(str(value))

    return YearFigures(fy, str(fy), closed, dec(assets), dec(turnover), dec(headcount))


def ends(*years: int) -> dict[int, date]:
    return {fy: date(fy, 12, 31) for fy in years}


def by_rule(found) -> dict[str, thresholds.Assessment]:
    return {a.rule.code: a for a in found}


# --- the data ---------------------------------------------------------------------------------------------------


def test_every_rule_is_dated_sourced_and_marked_verified_or_not():
    found = {r.code: r for r in thresholds.rules()}
    assert list(found) == [
        "auditoria",
        "balance_abreviado",
        "pyg_abreviada",
        "gran_empresa_sii",
        "plan_igualdad",
        "canal_denuncias",
        "reserva_discapacidad",
        "verifactu",
    ]
    for rule in found.values():
        assert rule.source and rule.met_text, rule.code
        assert all(item.valid_from <= TODAY for item in rule.limits), rule.code
    for code in ("auditoria", "balance_abreviado", "pyg_abreviada"):
        assert sorted(i.measure for i in found[code].limits) == ["assets", "headcount", "turnover"]
    # The figures of the law, as checked (docs: LSC arts. 257, 258, 263; RIVA art. 71.3; LO 3/2007 art. 45).
    limits = {(r.code, i.measure, i.applies_to): i.limit for r in found.values() for i in r.limits}
    assert limits[("auditoria", "assets", "sociedad")] == Decimal("2850000.00")
    assert limits[("auditoria", "turnover", "sociedad")] == Decimal("5700000.00")
    assert limits[("balance_abreviado", "assets", "sociedad")] == Decimal("4000000.00")
    assert limits[("pyg_abreviada", "turnover", "sociedad")] == Decimal("22800000.00")
    assert limits[("pyg_abreviada", "headcount", "sociedad")] == Decimal(250)
    assert limits[("gran_empresa_sii", "turnover", "todas")] == Decimal("6010121.04")
    assert limits[("plan_igualdad", "headcount", "todas")] == Decimal(50)
    assert limits[("verifactu", "date", "sociedad")] == date(2027, 1, 1)
    assert limits[("verifactu", "date", "persona")] == date(2027, 7, 1)


def test_a_later_row_of_the_same_limit_replaces_it_from_its_date():
    old = Limit("x", 1, "above", "todas", "turnover", "gt", Decimal(100), date(2010, 1, 1))
    new = Limit("x", 1, "above", "todas", "turnover", "gt", Decimal(200), date(2025, 1, 1))
    rule = Rule("x", 1, "X", "above", "sí", "no", "BOE", True, "", (old, new))
    assert thresholds.in_force(rule, "sociedad", date(2024, 12, 31)) == [old]
    assert thresholds.in_force(rule, "sociedad", date(2025, 12, 31)) == [new]


def test_who_holds_a_nif():
    assert thresholds.holder_of("B46123451") == "sociedad"
    assert thresholds.holder_of("A28000000") == "sociedad"
    assert thresholds.holder_of("12345678Z") == "persona"
    assert thresholds.holder_of("X1234567L") == "persona"
    assert thresholds.holder_of("E12345678") == "persona"  # comunidad de bienes: taxed through its members
    assert thresholds.holder_of("") == "sociedad"


# --- two of three, two consecutive years ------------------------------------------------------------------------


def test_audit_needs_two_consecutive_years_to_change_either_way():
    # 2022, 2023: assets 3 M > 2,85 M and turnover 6 M > 5,7 M (only the headcount of 40 within): obliged.
    # 2024: assets 2 M and turnover 5 M within → two of three, but one year only: still obliged.
    # 2025: within again → two consecutive years: exempt.
    figures = [year(2022, 3 * M, 6 * M, 40), year(2023, 3 * M, 6 * M, 40), year(2024, 2 * M, 5 * M, 40)]
    audit = by_rule(thresholds.assess(figures, "sociedad", ends(2022, 2023, 2024), TODAY))["auditoria"]
    assert audit.state == "unmet" and audit.text == "Está obligada a auditar sus cuentas"
    assert audit.basis.startswith("Ejercicios 2022 y 2023; en 2024 cambió")
    figures.append(year(2025, 2 * M, 5 * M, 40))
    audit = by_rule(thresholds.assess(figures, "sociedad", ends(2022, 2023, 2024, 2025), TODAY))["auditoria"]
    assert (audit.state, audit.text, audit.basis) == (
        "met",
        "No está obligada a auditar sus cuentas",
        "Ejercicios 2024 y 2025",
    )


def test_a_figure_equal_to_the_limit_is_within_it():
    at_limit = [year(2025, 2_850_000, 5_700_000, 60)]  # two of three exactly at the limit (≤)
    audit = by_rule(thresholds.assess(at_limit, "sociedad", ends(2025), TODAY))["auditoria"]
    assert audit.state == "met" and audit.basis == "Ejercicio 2025 (primer ejercicio con datos)"
    one_cent_over = [year(2025, 2_850_000.01, 5_700_000.01, 10)]
    assert by_rule(thresholds.assess(one_cent_over, "sociedad", ends(2025), TODAY))["auditoria"].state == "unmet"


def test_an_unknown_headcount_decides_only_when_the_other_two_agree():
    within_both = [year(2025, 1 * M, 1 * M, None)]
    assert by_rule(thresholds.assess(within_both, "sociedad", ends(2025), TODAY))["auditoria"].state == "met"
    over_both = [year(2025, 9 * M, 9 * M, None)]
    assert by_rule(thresholds.assess(over_both, "sociedad", ends(2025), TODAY))["auditoria"].state == "unmet"
    split = [year(2025, 1 * M, 9 * M, None)]
    found = by_rule(thresholds.assess(split, "sociedad", ends(2025), TODAY))
    assert (found["auditoria"].state, found["auditoria"].text) == ("unknown", "Faltan datos para saberlo")
    assert found["plan_igualdad"].state == "unknown"


def test_margins_give_each_years_distance_to_every_limit():
    figures = [year(2024, 2_000_000, 5_000_000, 45.5), year(2025, 3_100_000, 5_650_000, 52)]
    audit = by_rule(thresholds.assess(figures, "sociedad", ends(2024, 2025), TODAY))["auditoria"]
    margins = {m["measure"]: m for m in audit.margins}
    assets = [(y["label"], y["distance"], y["meets"]) for y in margins["assets"]["years"]]
    assert assets == [("2024", Decimal("850000.00"), True), ("2025", Decimal("-250000.00"), False)]
    assert [y["distance"] for y in margins["turnover"]["years"]] == [Decimal("700000.00"), Decimal("50000.00")]
    assert [y["distance"] for y in margins["headcount"]["years"]] == [Decimal("4.5"), Decimal("-2")]
    # 2025 alone has two of three beyond (assets and headcount), 2024 was within: still exempt, change noted.
    assert audit.state == "met" and "en 2025 cambió" in audit.basis


# --- single limits and dates -------------------------------------------------------------------------------------


def test_large_company_for_vat_is_strictly_above_six_million_ten_thousand():
    def large(turnover):
        figures = [year(2025, 1 * M, turnover, 10)]
        return by_rule(thresholds.assess(figures, "sociedad", ends(2025), TODAY))["gran_empresa_sii"].state

    assert large(6_010_121.04) == "unmet"
    assert large(6_010_121.05) == "met"


def test_headcount_duties_start_at_fifty():
    def duties(headcount):
        figures = [year(2025, 1 * M, 1 * M, headcount)]
        found = by_rule(thresholds.assess(figures, "sociedad", ends(2025), TODAY))
        return {code: found[code].state for code in ("plan_igualdad", "canal_denuncias", "reserva_discapacidad")}

    assert set(duties(49.99).values()) == {"unmet"}
    assert set(duties(50).values()) == {"met"}


def test_verifactu_dates_by_holder_and_the_sii_exception():
    figures = [year(2025, 1 * M, 1 * M, 10)]
    company = by_rule(thresholds.assess(figures, "sociedad", ends(2025), TODAY))["verifactu"]
    # 03/12/2026 → 01/01/2027: 28 days of December after the 3rd, plus 1.
    assert (
        company.text
        == "Su programa de facturación debe cumplir el Reglamento VERI*FACTU desde el 01/01/2027 (faltan 29 días)"
    )
    person = by_rule(thresholds.assess(figures, "persona", ends(2025), TODAY))["verifactu"]
    # 01/01/2027 → 01/07/2027: 31 + 28 + 31 + 30 + 31 + 30 = 181 days, plus the 29 above.
    assert person.text.endswith("desde el 01/07/2027 (faltan 210 días)")
    late = by_rule(thresholds.assess(figures, "sociedad", ends(2025), date(2027, 3, 1)))["verifactu"]
    assert late.state == "met" and late.text.endswith("desde el 01/01/2027")
    large = [year(2025, 1 * M, 7 * M, 10)]
    assert by_rule(thresholds.assess(large, "sociedad", ends(2025), TODAY))["verifactu"].state == "not_applicable"
    assert by_rule(thresholds.assess(figures, "sociedad", ends(2025), TODAY, sii=True))["verifactu"].text == (
        "No le afecta: lleva los libros de IVA en el SII"
    )


def test_an_individual_has_no_company_law_thresholds():
    found = by_rule(thresholds.assess([year(2025, 9 * M, 9 * M, 3)], "persona", ends(2025), TODAY))
    for code in ("auditoria", "balance_abreviado", "pyg_abreviada"):
        assert (found[code].state, found[code].text) == ("not_applicable", "No aplica a empresarios individuales")
    assert found["gran_empresa_sii"].state == "met"


def test_the_open_year_shows_its_margin_but_does_not_decide():
    figures = [year(2025, 1 * M, 1 * M, 10), year(2026, 9 * M, 9 * M, 10, closed=False)]
    audit = by_rule(thresholds.assess(figures, "sociedad", ends(2025, 2026), TODAY))["auditoria"]
    assert audit.state == "met" and audit.basis == "Ejercicio 2025 (primer ejercicio con datos)"
    assert [y["label"] for y in audit.margins[0]["years"]] == ["2025", "2026"]


# --- the page on the hand journal ----------------------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today_madrid", lambda: TODAY)


def test_page_shows_the_hand_figures_and_exports_them(world, today, downloaded):  # noqa: F811 (fixtures)
    at = open_page(signed_in("lola"), "contabilidad_umbrales")
    assert [t.value for t in at.title] == ["Umbrales legales"]
    shown = texts(at)
    # Mano SL (no NIF: a company): total assets 11.788,00 € at 31/12/2024 and 13.778,00 € at 31/12/2025, turnover
    # 2.000,00 € and 3.000,00 € (tests/reports_books.py); no payroll, so no headcount: still two of three within.
    assert "No está obligada a auditar sus cuentas" in shown
    assert "Ejercicios 2024 y 2025" in shown
    assert "desde el 01/01/2027 (faltan 29 días)" in shown
    assert "Sin acceso a la plantilla media del módulo laboral" in shown
    rows = at.dataframe[0].value.to_dict("records")
    audit_assets = [r for r in rows if r["Obligación"] == "Auditoría de cuentas obligatoria"][:2]
    assert [(r["Ejercicio"], r["Cifra de la empresa"], r["Distancia al límite"]) for r in audit_assets] == [
        ("2024", "11.788,00 €", "2.838.212,00 €"),
        ("2025", "13.778,00 €", "2.836.222,00 €"),
    ]
    [name] = [n for n in downloaded if n.endswith(".csv") and n.startswith("umbrales-mano-")]
    exported = spanish_csv(downloaded[name])
    assert exported[0]["Límite"] == "≤ 2.850.000,00 €" and exported[0]["Cifra de la empresa"] == "11.788,00 €"


def test_without_a_closed_year_nothing_is_decided_but_the_open_year_is_shown():
    figures = [year(2026, 3 * M, 7 * M, 12, closed=False)]
    found = by_rule(thresholds.assess(figures, "sociedad", ends(2026), TODAY))
    audit = found["auditoria"]
    assert audit.state == "unknown" and audit.text.startswith("Aún no hay ningún ejercicio cerrado")
    assert [y["distance"] for y in audit.margins[0]["years"]] == [Decimal("-150000.00")]  # 2.850.000 − 3.000.000
    assert found["verifactu"].state == "unmet"  # a date rule needs no figures
