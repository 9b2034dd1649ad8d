"""End to end in Debian's Chromium: a client with the tesoreria module opens «Tesorería», exports and switches tabs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright import sync_api

from auth import access, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import chromium, click_download, running_portal
from tests.test_accounting_pages import spanish_csv
from tests.test_treasury import JOURNAL, TODAY, journal_text, write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000
LAST_DAY = date(2025, 2, 28)  # caja's last journal date, as written


def payroll(shift) -> list[tuple]:
    """Net pay 3.000 and Social Security 900 booked on the last days of the two months before the shifted journal's
    last month: whatever day the test runs, both fall in the three complete months the estimate averages."""
    last = LAST_DAY + shift
    ends = [last.replace(day=1) - timedelta(days=1)]
    ends.append(ends[0].replace(day=1) - timedelta(days=1))
    return [
        (f"{end - shift:%d/%m/%Y}", entry + offset, account, debit, credit, "normal")
        for end, entry in zip(ends, (901, 903), strict=True)
        for offset, account, debit, credit in (
            (0, "6400000", "3500,00", "0"),
            (0, "4751000", "0", "300,00"),
            (0, "4760000", "0", "200,00"),
            (0, "4650000", "0", "3000,00"),
            (1, "6420000", "700,00", "0"),
            (1, "4760000", "0", "700,00"),
        )
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «caja» (moved so 10/03/2025 is today) and the client «tere»."""
    data = tmp_path_factory.mktemp("browser-treasury") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, shift=date.today() - TODAY)
    # «nomina»: caja's books plus the payroll of January and February (net 3.000, Social Security 900 a month).
    shift = date.today() - TODAY
    write_company(settings.sources, "nomina", shift=shift, journal=journal_text(JOURNAL + payroll(shift), shift=shift))
    results = service.load_all(settings, companies=["caja", "nomina"])
    assert [r.outcome for r in results] == ["published"] * 2, [r.message for r in results]
    engine = get_engine(settings.db_url)
    users.create_user(engine, "tere", PASSWORD, role="client", name="Tere")
    access.grant(engine, "tere", "caja", "tesoreria", actor="test")
    users.create_user(engine, "paco", PASSWORD, role="client", name="Paco")
    for module in ("tesoreria", "contabilidad"):  # the payroll estimates show to whom the accounts show
        access.grant(engine, "paco", "nomina", module, actor="test")
    with running_portal(data) as url:
        yield url


def test_a_client_with_the_module_opens_tesoreria_exports_and_sees_the_forecast(server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, server, "tere", PASSWORD, path="/tesoreria")  # a client: no second factor asked
        page.get_by_role("heading", name="Tesorería").wait_for()
        tabs = page.get_by_role("tab")  # expect() retries while the page is still drawing its tabs
        sync_api.expect(tabs).to_have_text(
            ["Cobros y pagos pendientes", "Próximos vencimientos", "Bancos", "Previsión 13 semanas"],
            timeout=TIMEOUT_MS,
        )
        page.get_by_text("Pendiente por antigüedad (€)").wait_for()  # the Plotly chart's title
        page.get_by_text("2.850,00 €").first.wait_for()  # the «Cobros pendientes» metric
        button = page.get_by_role("button", name="Descargar CSV").first
        download = click_download(page, button)  # built (and audited) on the click
        assert download.suggested_filename.startswith("cobros-pendientes-caja-")
        rows = spanish_csv(download.path().read_bytes())  # as a Spanish Excel opens it: BOM, ';', decimal comma
        first = rows[0]
        assert (first["Tercero"], first["NIF"], first["Efectos"], first["Total"], first["Vencido"]) == (
            "Alfa SL",
            "B46082301",
            "3",
            "1650,00",
            "1150,00",
        )
        page.get_by_role("tab", name="Previsión 13 semanas").click()
        page.get_by_text("Previsión de tesorería a 13 semanas (€)").wait_for()
        page.get_by_text("saldo bancario de partida 2.395,00 €").wait_for()
        assert page.get_by_text("Traceback").count() == 0
        context.close()


def test_the_forecast_adds_the_estimated_payroll_and_marks_its_lowest_week(server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, server, "paco", PASSWORD, path="/tesoreria")
        page.get_by_role("tab", name="Previsión 13 semanas").click()
        page.get_by_text("Previsión de tesorería a 13 semanas (€)").wait_for()
        page.get_by_text("Pagos estimados").wait_for()
        # Two of the last three complete months carry payroll: net (3.000 + 3.000) / 3 = 2.000,00 and Social
        # Security (900 + 900) / 3 = 600,00 a month, paid at each month end.
        page.get_by_text("Punto más bajo:").wait_for()
        cards = page.locator(".pc-card").filter(has=page.locator(".pc-title", has_text="(líquido)"))
        assert cards.count() == 3  # 13 weeks (91 days) hold three month ends
        assert "2.000,00 €" in cards.first.inner_text()
        social = page.locator(".pc-card").filter(has=page.locator(".pc-title", has_text="Seguridad Social"))
        assert "600,00 €" in social.first.inner_text()
        assert page.get_by_text("Traceback").count() == 0
        context.close()


def test_a_client_sets_an_alert_and_inicio_shows_it(server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, server, "tere", PASSWORD, path="/alertas")
        page.get_by_role("heading", name="Alertas", exact=True).wait_for()
        page.get_by_label("Importe (€)").fill("2.400,00")
        page.get_by_role("button", name="Añadir alerta").click()
        page.get_by_text("Alerta añadida.").wait_for()
        # caja's banks: 3.095,00 − 700,00 (overdraft) = 2.395,00, below 2.400,00.
        page.get_by_text("Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €").wait_for()
        page.goto(server + "/")
        page.get_by_text("Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €").wait_for()
        assert page.get_by_text("Traceback").count() == 0
        context.close()
