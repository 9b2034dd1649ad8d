"""End to end in Debian's Chromium: a client sends a PDF to the firm from «Documentos» and staff download it from
«Documentos y buzón»; the bytes are the same, the file is stored under a random name, both steps are audited."""

from __future__ import annotations

from datetime import date

import pytest

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from services import documents, requests
from tests.browser_signin import RecoveryCodes
from tests.browser_signin import sign_in as browser_sign_in
from tests.portal_browser import chromium, click_download, running_portal
from tests.test_documents import write_documents
from tests.test_invoices import write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000
SENT_PDF = b"%PDF-1.4\n% justificante enviado por el cliente\n%%EOF\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «desp», the client «fina» (documentos) and staff «ana» (second
    factor enrolled here; a recovery code answers it)."""
    data = tmp_path_factory.mktemp("browser-documents") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_documents(write_company(settings.sources))
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "fina", PASSWORD, role="client", name="Fina")
    access.grant(engine, "fina", "desp", "documentos", actor="test")
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana")
    codes = {"ana": RecoveryCodes(engine, "ana")}
    with running_portal(data) as url:
        yield url, settings, codes


def sign_in(browser, server, path: str, username: str):
    url, _, codes = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-ES", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    browser_sign_in(page, url, username, PASSWORD, path=path, code=codes.get(username))
    return context, page


def test_a_client_sends_a_pdf_and_staff_download_it(server, tmp_path):
    _, settings, _ = server
    with chromium() as browser:
        context, page = sign_in(browser, server, "/documentos", "fina")
        page.get_by_role("heading", name="Documentos").first.wait_for()
        page.get_by_text("3 documentos nuevos sin abrir.").wait_for()
        page.get_by_role("tab", name="Enviar al despacho").click()
        # The uploader speaks Spanish (web/static/portal.css): «Elegir archivo», and the page's own limits line in
        # place of Streamlit's «10MB per file».
        upload = page.locator("[data-testid='stFileUploaderDropzone'] button")
        upload.wait_for()
        assert upload.evaluate("b => getComputedStyle(b, '::after').content") == '"Elegir archivo"'
        assert upload.evaluate("b => getComputedStyle(b).fontSize") == "0px"  # Streamlit's «Upload» is not seen
        assert page.locator("[data-testid='stFileUploaderDropzoneInstructions']").filter(visible=True).count() == 0
        page.get_by_text("Se admiten").first.wait_for()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": "justificante.pdf", "mimeType": "application/pdf", "buffer": SENT_PDF}]
        )
        page.get_by_text("justificante.pdf").first.wait_for()  # the uploader lists the file
        page.get_by_role("button", name="Enviar al despacho").click()
        page.get_by_text("Documento «justificante.pdf» enviado al despacho.").wait_for()
        assert page.get_by_text("Traceback").count() == 0
        context.close()

        context, page = sign_in(browser, server, "/buzon", "ana")
        page.get_by_role("heading", name="Documentos y buzón").wait_for()
        page.get_by_text("Buzón: 1 documento recibido.").wait_for()
        button = page.get_by_role("button", name="Descargar")
        button.wait_for()
        download = click_download(page, button)  # built (and audited) on the click
        assert download.suggested_filename == "justificante.pdf"
        assert download.path().read_bytes() == SENT_PDF
        assert page.get_by_text("Traceback").count() == 0
        context.close()
    stored = [p for p in settings.uploads.iterdir()]
    assert len(stored) == 1 and len(stored[0].name) == 32 and stored[0].read_bytes() == SENT_PDF
    engine = get_engine(settings.db_url)
    [sent] = audit.entries(engine, event="document_upload", actor="fina")
    [fetched] = audit.entries(engine, event="document_download", actor="ana")
    assert sent["company"] == fetched["company"] == "desp" and sent["target"] == fetched["target"]


def test_a_client_delivers_a_requested_document_and_staff_see_it_delivered(server):
    _, settings, _ = server
    engine = get_engine(settings.db_url)
    requests.create(engine, "desp", "Cierre del 4T", [("Facturas de gastos del 4T", date(2027, 1, 20))], actor="ana")
    with chromium() as browser:
        context, page = sign_in(browser, server, "/", "fina")
        page.get_by_text("Su despacho le pide 1 documento: la primera fecha límite es el 20/01/2027.").wait_for()
        page.get_by_role("link", name="Entregar la documentación").click()
        page.get_by_role("heading", name="Solicitudes de documentación").wait_for()
        page.get_by_text("Facturas de gastos del 4T").wait_for()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": "gastos.pdf", "mimeType": "application/pdf", "buffer": SENT_PDF}]
        )
        page.get_by_text("gastos.pdf").wait_for()
        page.get_by_role("button", name="Entregar").click()
        page.get_by_text("«Facturas de gastos del 4T» entregado al despacho.").wait_for()
        page.get_by_text("Entregado", exact=True).wait_for()
        assert page.get_by_text("Traceback").count() == 0
        context.close()
    [item] = requests.open_requests(engine, "desp")[0]["items"]
    assert item.state == "entregado" and item.delivered_by == "fina"
    [sent] = [d for d in documents_sent(engine) if d["id"] == item.document_id]
    assert sent["title"] == "Cierre del 4T: Facturas de gastos del 4T"


def documents_sent(engine) -> list[dict]:
    return documents.uploads(engine, "desp", "client")
