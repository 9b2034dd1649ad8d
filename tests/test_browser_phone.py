"""On a 390 px phone in Debian's Chromium the tables show their amounts: each row is a card with its label first and
every figure under it, inside the screen (read off the page), while a 1366 px desktop keeps the grid."""

from __future__ import annotations

import re
from datetime import date

import pytest

from auth import access, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests import test_taxes, test_treasury
from tests.browser_signin import sign_in
from tests.portal_browser import chromium, running_portal, settle
from tests.reports_books import JOURNAL
from tests.test_accounting_pages import write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Three companies (books, treasury, taxes) and a client for each, as in their own page tests."""
    data = tmp_path_factory.mktemp("browser-phone") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    mano = {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]}
    write_company(settings, "mano", JOURNAL.rsplit("31/12/2025;10;", 2)[0], mano)  # first without December's entry
    [first] = service.load_all(settings, companies=["mano"])
    assert first.outcome == "published", first.message
    write_company(settings, "mano", JOURNAL, mano)  # then whole: Inicio's «Qué ha cambiado» has one new entry
    test_treasury.write_company(settings.sources, shift=date.today() - test_treasury.TODAY)
    test_taxes.write_company(settings.sources)
    results = service.load_all(settings, companies=["mano", "caja", "fisco"])
    assert [r.outcome for r in results] == ["published"] * 3, [r.message for r in results]
    engine = get_engine(settings.db_url)
    for username, company, module in (("lola", "mano", "contabilidad"), ("tere", "caja", "tesoreria")):
        users.create_user(engine, username, PASSWORD, role="client", name=username.title())
        access.grant(engine, username, company, module, actor="test")
    users.create_user(engine, "fiona", PASSWORD, role="client", name="Fiona")
    access.grant(engine, "fiona", "fisco", "impuestos", actor="test")
    with running_portal(data) as url:
        yield url


def open_as(browser, url: str, username: str, path: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, url, username, PASSWORD, path=path)
    settle(page)
    return context, page


def card(page, title: str):
    """The visible card whose title contains ``title``."""
    found = page.locator(".pc-card").filter(has=page.locator(".pc-title", has_text=title))
    found.first.wait_for(state="visible")
    return found.first


def first_card(page):
    """The first card on screen."""
    first = page.locator(".pc-card").filter(visible=True).first
    first.wait_for(state="visible")
    return first


def figures_on_screen(page, card, width: int) -> dict[str, str]:
    """Label → value of a card's rows, each value checked to lie wholly inside the screen's width."""
    labels = [t.strip() for t in card.locator("dt").all_inner_texts()]
    values = card.locator("dd")
    found = {}
    for index, label in enumerate(labels):
        value = values.nth(index)
        assert value.is_visible(), label
        box = value.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (label, box)
        found[label] = value.inner_text().strip()
    return found


def test_on_a_phone_the_pnl_reads_label_and_amounts_and_the_grid_is_hidden(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "lola", "/contabilidad-pyg", PHONE)
        page.get_by_role("heading", name="Pérdidas y ganancias", exact=True).wait_for()
        result = card(page, "RESULTADO DEL EJERCICIO")
        # Mano 2025: sales 3.000 − purchases 1.000 − staff 1.500 − depreciation 600 − interest 50 = −150; 2024: 400.
        figures = figures_on_screen(page, result, PHONE["width"])
        assert figures["Ejercicio 2025"] == "-150,00 €" and figures["Ejercicio 2024"] == "400,00 €"
        assert figures["Diferencia"] == "-550,00 €"
        sales = figures_on_screen(page, card(page, "Importe neto de la cifra de negocios"), PHONE["width"])
        assert (sales["Ejercicio 2025"], sales["Ejercicio 2024"]) == ("3.000,00 €", "2.000,00 €")
        statement_grid = page.locator('[data-testid="stDataFrame"]').first
        assert not statement_grid.is_visible()
        assert page.locator(".js-plotly-plot").count() == 0  # the first screen draws no chart (lazy tabs)
        page.get_by_role("tab", name="Gráficos").click()
        page.locator(".modebar-container").first.wait_for(state="attached")
        assert page.locator(".modebar-container").filter(visible=True).count() == 0  # no toolbar over chart titles
        assert page.get_by_text("Traceback").count() == 0
        context.close()


def test_on_a_desktop_the_pnl_keeps_the_grid_and_no_cards(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "lola", "/contabilidad-pyg", DESKTOP)
        page.get_by_role("heading", name="Pérdidas y ganancias", exact=True).wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
        assert page.locator(".pc-card").count() > 0
        assert not page.locator(".pc-card").first.is_visible()
        assert page.locator('[data-testid="stMainMenu"]').count() == 0  # no English ⋮ menu (toolbarMode minimal)
        page.get_by_role("tab", name="Gráficos").click()
        page.locator(".ytick text").first.wait_for(state="attached")
        ticks = page.locator(".ytick text").all_text_contents()  # the money axes: 1.000 €, never 1k
        assert ticks and not any(t.endswith("k") for t in ticks), ticks
        context.close()


def test_on_a_phone_tesoreria_shows_the_receivables_per_client_with_their_totals(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "tere", "/tesoreria", PHONE)
        page.get_by_role("heading", name="Tesorería", exact=True).wait_for()
        page.get_by_role("heading", name="Cobros pendientes por cliente").wait_for()
        total = figures_on_screen(page, card(page, "TOTAL"), PHONE["width"])
        assert total["Total pendiente"] == "2.850,00 €"  # the «Cobros pendientes» of tests/test_treasury.py
        context.close()


def test_on_a_phone_the_tax_calendar_lists_the_months_deadlines_instead_of_the_grid(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "fiona", "/impuestos-calendario", PHONE)
        page.get_by_role("heading", name="Calendario fiscal", exact=True).wait_for()
        box = first_card(page).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        assert page.locator('[data-testid="stDataFrame"]').filter(visible=True).count() == 0
        context.close()


def test_on_a_phone_the_diario_shows_debe_and_haber_of_each_line(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "lola", "/contabilidad", PHONE)
        page.get_by_role("heading", name="Diario", exact=True).wait_for()
        figures = figures_on_screen(page, first_card(page), PHONE["width"])
        # Each line is a debit or a credit: the card shows the one it has (right-aligned, inside the screen).
        assert "Cuenta" in figures and len({"Debe", "Haber"} & set(figures)) == 1, figures
        assert re.fullmatch(r"-?[\d.]+,\d\d", figures.get("Debe") or figures["Haber"]), figures
        assert page.locator('[data-testid="stDataFrame"]').filter(visible=True).count() == 0
        context.close()


def test_on_a_phone_umbrales_legales_reads_the_duty_and_the_distance_to_each_limit(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "lola", "/contabilidad-umbrales", PHONE)
        page.get_by_role("heading", name="Umbrales legales", exact=True).wait_for()
        page.get_by_text("No está obligada a auditar sus cuentas").wait_for()
        # Mano's total assets at 31/12/2024: bank 4.000 + machine 6.000 − 600 + customers 2.420 − 200 + VAT 168.
        assets = figures_on_screen(page, card(page, "Auditoría de cuentas obligatoria · Activo total"), PHONE["width"])
        assert (assets["Ejercicio"], assets["Cifra de la empresa"]) == ("2024", "11.788,00 €")
        assert assets["Distancia al límite"] == "2.838.212,00 €"  # 2.850.000 − 11.788
        context.close()


def test_on_a_phone_inicio_says_what_the_last_publication_changed(server):
    with chromium() as browser:
        context, page = open_as(browser, server, "lola", "/", PHONE)  # Inicio is the home page
        page.get_by_role("heading", name="Qué ha cambiado").wait_for()
        page.get_by_text("Desde la publicación anterior: datos a fecha 15/07/2025, ahora a 31/12/2025.").wait_for()
        page.get_by_text("1 asiento nuevo.").wait_for()
        page.get_by_text("Partidas de los estados que han cambiado").click()
        # December's depreciation (600,00) is the only new entry: line 8 of the P&L goes from 0 to −600.
        depreciation = card(page, "8. Amortización del inmovilizado · Pérdidas y ganancias")
        figures = figures_on_screen(page, depreciation, PHONE["width"])
        assert (figures["Antes"], figures["Ahora"], figures["Diferencia"]) == ("0,00 €", "-600,00 €", "-600,00 €")
        context.close()
