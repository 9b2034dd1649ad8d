"""End to end in Debian's Chromium: a client with the laboral module opens «Laboral», exports and switches tabs."""

from __future__ import annotations

import pytest
from playwright import sync_api

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import chromium, click_download, running_portal
from tests.test_accounting_pages import spanish_csv
from tests.test_labour import write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` over a tmp data dir with «obra» (labour files) and the client «lola» with laboral."""
    data = tmp_path_factory.mktemp("browser-labour") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "lola", PASSWORD, role="client", name="Lola")
    access.grant(engine, "lola", "obra", "laboral", {"tables": ["resumen_nominas", "plantilla_media"]}, actor="test")
    with running_portal(data) as url:
        yield url, settings


def test_a_client_with_the_module_opens_laboral_and_each_view_and_export_is_audited(server):
    url, settings = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, url, "lola", PASSWORD, path="/laboral")  # a client: no second factor asked
        page.get_by_role("heading", name="Laboral").wait_for()
        tabs = page.get_by_role("tab")  # expect() retries while the page is still drawing its tabs
        sync_api.expect(tabs).to_have_text(
            ["Resumen mensual de nóminas", "Plantilla media y su evolución"], timeout=TIMEOUT_MS
        )
        page.get_by_text("Coste de empresa por mes (€)").wait_for()  # the Plotly chart's title
        button = page.get_by_role("button", name="Descargar CSV")
        button.wait_for()
        download = click_download(page, button)  # built (and audited) on the click
        assert download.suggested_filename == "laboral-resumen_nominas-obra-2025.csv"
        rows = spanish_csv(download.path().read_bytes())  # as a Spanish Excel opens it: BOM, ';', decimal comma
        assert (rows[0]["Mes"], rows[0]["Bruto"], rows[0]["Líquido"]) == ("1", "6000,00", "4560,00")
        page.get_by_role("tab", name="Plantilla media y su evolución").click()
        page.get_by_text("Plantilla media por tipo de contrato").wait_for()
        assert page.get_by_text("Traceback").count() == 0
        context.close()
    targets = [e["target"] for e in audit.entries(get_engine(settings.db_url), event="labour_view", actor="lola")]
    assert set(targets) == {"resumen_nominas", "plantilla_media"}
    exports = audit.entries(get_engine(settings.db_url), event="labour_export", actor="lola")
    assert [e["detail"] for e in exports] == ["tabla=resumen_nominas; periodo=2025; filas=3; formato=csv"]
