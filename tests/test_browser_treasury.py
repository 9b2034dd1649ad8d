"""End to end in Debian's Chromium: a client with the tesoreria module opens «Tesorería», exports and switches tabs."""

from __future__ import annotations

from datetime import date

import pytest
from playwright import sync_api

from auth import access, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import chromium, click_download, running_portal
from tests.test_accounting_pages import spanish_csv
from tests.test_treasury import TODAY, write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «caja» (moved so 10/03/2025 is today) and the client «tere»."""
    data = tmp_path_factory.mktemp("browser-treasury") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, shift=date.today() - TODAY)
    [result] = service.load_all(settings, companies=["caja"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "tere", PASSWORD, role="client", name="Tere")
    access.grant(engine, "tere", "caja", "tesoreria", actor="test")
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
