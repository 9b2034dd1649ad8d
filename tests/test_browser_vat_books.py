"""End to end in Debian's Chromium: a client with the impuestos module opens «Libros de IVA» and reads the issued
book's total VAT and the reconciliation with the 303."""

from __future__ import annotations

import pytest

from auth import access, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import chromium, running_portal, settle
from tests.test_taxes import write_company
from tests.test_vat_books import write_books

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over «fisco» with its VAT books, and the client «fiona» with impuestos."""
    data = tmp_path_factory.mktemp("browser-vat-books") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_books(write_company(settings.sources))
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "fiona", PASSWORD, role="client", name="Fiona")
    access.grant(engine, "fiona", "fisco", "impuestos", actor="test")
    with running_portal(data) as url:
        yield url


def test_a_client_opens_libros_de_iva_and_reads_the_total_vat(server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, server, "fiona", PASSWORD, path="/libros-iva")
        page.get_by_role("heading", name="Libros de IVA").wait_for()
        metric = page.get_by_test_id("stMetric").filter(has_text="IVA repercutido")
        metric.wait_for()
        assert "365,00 €" in metric.inner_text()
        page.get_by_role("tab", name="Cuadre con el 303 y el diario").click()
        page.get_by_text("Los libros cuadran con los modelos 303 y con el diario.").wait_for()
        settle(page)
        assert page.get_by_text("Traceback").count() == 0
        context.close()
