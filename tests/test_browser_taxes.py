"""End to end in Debian's Chromium: a client with the impuestos module opens «Impuestos», sees the VAT chart, switches
to the returns filed and downloads a receipt (audited)."""

from __future__ import annotations

import pytest
from playwright import sync_api

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import choose, chromium, click_download, running_portal
from tests.test_taxes import PDF, write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «fisco» (tax files) and the client «fiona» with impuestos."""
    data = tmp_path_factory.mktemp("browser-taxes") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "fiona", PASSWORD, role="client", name="Fiona")
    access.grant(engine, "fiona", "fisco", "impuestos", actor="test")
    users.create_user(engine, "cuca", PASSWORD, role="client", name="Cuca")  # «Cuadres»: contabilidad, shared
    access.grant(engine, "cuca", "fisco", "contabilidad", actor="test")
    access.set_reconciliations_visible(engine, "fisco", True, actor="test")
    with running_portal(data) as url:
        yield url, settings


def test_a_client_with_the_module_opens_impuestos_and_downloads_a_receipt(server):
    url, settings = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, url, "fiona", PASSWORD, path="/impuestos")  # a client: no second factor asked
        page.get_by_role("heading", name="Impuestos").wait_for()
        tabs = page.get_by_role("tab")  # expect() retries while the page is still drawing its tabs
        sync_api.expect(tabs).to_have_text(["IVA", "IRPF", "Presentaciones"], timeout=TIMEOUT_MS)
        page.get_by_text("IVA por periodo 2024 (€)").wait_for()  # the Plotly chart's title
        page.get_by_text("El modelo 390 coincide con la suma de los 2 modelos 303 del año.").wait_for()
        page.get_by_role("tab", name="Presentaciones").click()
        button = page.get_by_role("button", name="Descargar justificante (PDF)")
        button.wait_for()
        download = click_download(page, button)  # built (and audited) on the click
        assert download.suggested_filename == "justificante-1110000000001.pdf"
        assert download.path().read_bytes() == PDF
        assert page.get_by_text("Traceback").count() == 0
        context.close()
    events = audit.entries(get_engine(settings.db_url), event="tax_receipt_download", actor="fiona")
    assert [(e["company"], e["target"]) for e in events] == [("fisco", "1110000000001")]


def test_on_a_phone_cuadres_name_the_withholdings_difference_and_its_entries(server):
    url, _ = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, url, "cuca", PASSWORD, path="/contabilidad-cuadres")
        # The 111 of 1T declares 300 with no 4751 booked; 2T declares 450 + the 115's 190 against 190 booked.
        page.get_by_text("2 de 6 cuadres tienen diferencias.").wait_for()
        page.get_by_text("Detalle de").wait_for()
        choose(page, "Detalle de", "2T 2024 · Retenciones")
        entry = page.locator(".pc-card").filter(has=page.locator(".pc-title", has_text="20/05/2024 · 7"))
        entry.first.wait_for(state="visible")
        assert "190,00 €" in entry.first.inner_text() and "4751100" in entry.first.inner_text()
        assert page.get_by_text("Traceback").count() == 0
        context.close()
