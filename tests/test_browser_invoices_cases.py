"""End to end in Debian's Chromium: a client opens «Facturas del despacho» (chart, table, audited PDF download) and
«Expedientes» (list and timeline, never the internal case file or note)."""

from __future__ import annotations

import pytest

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import choose, chromium, click_download, running_portal
from tests.test_cases import HIDDEN_WORDS
from tests.test_invoices import pdf_bytes, write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «desp» and the client «fina» with facturas and expedientes."""
    data = tmp_path_factory.mktemp("browser-invoices-cases") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "fina", PASSWORD, role="client", name="Fina")
    access.grant(engine, "fina", "desp", "facturas", actor="test")
    access.grant(engine, "fina", "desp", "expedientes", {"cases": "both"}, actor="test")
    with running_portal(data) as url:
        yield url, settings


def test_a_client_opens_facturas_downloads_a_pdf_and_reads_a_case_file_timeline(server):
    url, settings = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, url, "fina", PASSWORD, path="/facturas")  # a client: no second factor asked
        page.get_by_role("heading", name="Facturas del despacho").wait_for()
        page.get_by_text("Honorarios por mes (base imponible, €)").wait_for()  # the Plotly chart's title
        page.get_by_text("519,93 €").first.wait_for()  # the 2025 total
        page.get_by_text("El despacho no ha publicado el PDF de esta factura.").wait_for()  # FD-2025-0004
        choose(page, "Factura", "FD-2025-0002")  # Streamlit's selectbox
        button = page.get_by_role("button", name="Descargar PDF")
        button.wait_for()
        download = click_download(page, button)  # built (and audited) on the click
        assert download.suggested_filename == "FD-2025-0002.pdf"
        assert download.path().read_bytes() == pdf_bytes("FD-2025-0002")
        page.get_by_role("link", name="Expedientes").click()
        page.get_by_role("heading", name="Expedientes").wait_for()
        page.get_by_text("Notificación recibida y contestada").wait_for()  # the first listed (newest) case file
        choose(page, "Expediente", "EXP-2025-001")
        page.get_by_text("Preparando la contestación").wait_for()
        body = page.inner_text("body")
        assert not [w for w in HIDDEN_WORDS if w in body]
        assert page.get_by_text("Traceback").count() == 0
        context.close()
    [event] = audit.entries(get_engine(settings.db_url), event="invoice_download", actor="fina")
    assert (event["company"], event["target"]) == ("desp", "FD-2025-0002")
