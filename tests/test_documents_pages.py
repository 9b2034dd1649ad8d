"""The «Documentos» (client) and «Documentos y buzón» (staff) pages through AppTest: only the company's documents,
«Nuevo» until opened, audited downloads, the upload rejections on screen with nothing stored, and the staff inbox."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth import passwords, signin, users
from etl import service
from portal import audit
from portal.db import documents as documents_table
from portal.db import get_engine
from portal.settings import load_settings
from services import documents
from tests.test_accounting_pages import downloaded, select, table  # noqa: F401 - fixture
from tests.test_documents import OTHER_INDICE, pdf_of, write_documents
from tests.test_invoices import write_company
from tests.test_security import PASSWORD, ROOT, World, client, make_world, open_page, signed_in
from views import _client

SENT_PDF = b"%PDF-1.4\n% justificante del cliente\n%%EOF\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("documents-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_documents(write_company(settings.sources, "desp", "Despacho Cliente SL"))
    other = write_company(settings.sources, "otra", "Otra Empresa SL")
    write_documents(other, OTHER_INDICE, ("societario/2024/escritura.pdf",))
    results = service.load_all(settings, companies=["desp", "otra"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "fina", {"desp": ["documentos"], "otra": ["documentos"]})
        client(engine, "sinmod", {"desp": ["facturas"]})
        users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def texts(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "error", "warning", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind)).replace("\\", "")


def stored(world: World) -> list:
    with world.engine.connect() as conn:
        return conn.execute(sa.select(documents_table)).all()


def upload(at: AppTest, name: str, content: bytes, mime: str = "application/pdf") -> AppTest:
    [uploader] = [u for u in at.get("file_uploader") if u.label == "Documento para el despacho"]
    uploader.set_value((name, content, mime))
    [button] = [b for b in at.button if b.label == "Enviar al despacho"]
    button.click().run()
    assert not at.exception, at.exception
    return at


def test_the_client_sees_only_the_company_documents_marked_new(world):
    at = open_page(signed_in("fina"), "documentos")
    assert [t.value for t in at.title] == ["Documentos"]
    rows = table(at)
    assert [(r[""], r["Fecha"], r["Categoría"], r["Título"]) for r in rows] == [  # newest first
        ("Nuevo", "28/03/2025", "Contable", "Cuentas anuales 2024"),
        ("Nuevo", "08/03/2025", "Fiscal", "Certificado AEAT 2025"),
        ("Nuevo", "12/01/2025", "Laboral", "Calendario laboral 2025"),
    ]
    assert "Escritura de Otra" not in str(rows)
    assert "3 documentos nuevos sin abrir." in texts(at)


def test_filters_by_category_year_and_name(world):
    at = open_page(signed_in("fina"), "documentos")
    select(at, "Categoría", "laboral")
    assert [r["Título"] for r in table(at)] == ["Calendario laboral 2025"]
    select(at, "Categoría", "")
    [search] = [t for t in at.text_input if t.label == "Buscar por nombre"]
    search.input("cuentas").run()
    assert [r["Título"] for r in table(at)] == ["Cuentas anuales 2024"]
    search.input("no existe").run()
    assert "No hay documentos con estos filtros." in texts(at)


def test_a_download_is_audited_and_the_document_is_no_longer_new(world, downloaded):  # noqa: F811
    at = open_page(signed_in("fina"), "documentos")  # the chosen (first) document's file is built: a click
    assert downloaded == {"cuentas-anuales-2024.pdf": pdf_of("contable/2025/cuentas-anuales-2024.pdf")}
    at.run()
    rows = {r["Título"]: r[""] for r in table(at)}
    assert rows == {"Cuentas anuales 2024": "", "Certificado AEAT 2025": "Nuevo", "Calendario laboral 2025": "Nuevo"}
    events = audit.entries(world.engine, event="document_download", actor="fina")  # one per built file (render)
    assert events and {(e["company"], e["detail"]) for e in events} == {("desp", "archivo=cuentas-anuales-2024.pdf")}
    assert events[0]["target"].startswith("etl:")


def test_the_other_company_shows_only_its_own_documents(world):
    at = open_page(signed_in("fina"), "documentos")
    at.sidebar.selectbox(key=_client.CHOICE_KEY).set_value("otra").run()
    assert not at.exception, at.exception
    assert [r["Título"] for r in table(at)] == ["Escritura de Otra"]
    assert "Certificado AEAT 2025" not in str(table(at))


def test_without_the_grant_the_script_refuses_and_reads_nothing(world, monkeypatch):
    at = signed_in("sinmod")
    opened = []
    real = documents.list_documents
    monkeypatch.setattr(documents, "list_documents", lambda *a, **k: opened.append(a) or real(*a, **k))
    script = AppTest.from_file(str(ROOT / "views" / "documentos.py"), default_timeout=30)
    script.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
    script.session_state[_client.COMPANY_KEY] = "desp"
    script.run()
    assert not script.exception
    assert "No tiene acceso a estos datos." in texts(script)
    assert not script.dataframe and opened == [] and not script.get("file_uploader")
    denied = [e for e in audit.entries(world.engine, event="access_denied") if e["actor"] == "sinmod"]
    assert [(e["company"], e["target"]) for e in denied][-1:] == [("desp", "documentos")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("grande.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1), "el máximo es 10 MB: no se ha guardado"),
        ("factura.pdf", b"<html><script>alert(1)</script></html>", "no es un PDF aunque su nombre lo diga"),
        ("../../../etc/passwd.pdf", SENT_PDF, "no puede contener carpetas ni rutas"),
        ("index.html", b"<h1>hola</h1>", "No se admiten páginas web ni archivos HTML"),
    ],
)
def test_a_rejected_upload_shows_its_spanish_message_and_stores_nothing(world, name, content, message):
    at = open_page(signed_in("fina"), "documentos")
    upload(at, name, content)
    assert message in texts(at)
    assert stored(world) == []
    assert not world.settings.uploads.exists() or list(world.settings.uploads.iterdir()) == []
    assert audit.entries(world.engine, event="document_upload") == []


def test_a_sent_document_reaches_the_staff_inbox_and_staff_download_it(world, downloaded):  # noqa: F811
    at = open_page(signed_in("fina"), "documentos")
    upload(at, "justificante.pdf", SENT_PDF)
    assert "Documento «justificante.pdf» enviado al despacho." in texts(at)
    [row] = stored(world)
    assert (row.company_code, row.direction, row.uploaded_by) == ("desp", "client", "fina")
    assert [r["Archivo"] for r in table(at, 1)] == ["justificante.pdf"]  # «Enviados al despacho»
    staff = open_page(signed_in("ana"), "buzon")
    assert [t.value for t in staff.title] == ["Documentos y buzón"]
    [chooser] = [s for s in staff.selectbox if s.label == "Empresa"]
    assert chooser.options[0].startswith("desp · Despacho Cliente SL · 1 recibido, el último ")  # inboxes first
    assert chooser.value == "desp" and chooser.options[1] == "otra · Otra Empresa SL"
    assert [r["Archivo"] for r in table(staff)] == ["justificante.pdf"]
    assert table(staff)[0]["Tamaño"] == f"{len(SENT_PDF)} bytes"  # not «0,0 MB»
    assert downloaded["justificante.pdf"] == SENT_PDF
    events = audit.entries(world.engine, event="document_download", actor="ana")  # one per built file (render)
    assert events and {(e["company"], e["target"], e["actor_role"]) for e in events} == {
        ("desp", f"portal:{row.id}", "staff")
    }
    select(staff, "Empresa", "otra")
    assert "El cliente no ha enviado documentos." in texts(staff)


def test_staff_share_a_document_the_client_sees_as_new_then_withdraw_it(world):
    staff = open_page(signed_in("ana"), "buzon")
    select(staff, "Empresa", "desp")
    [uploader] = [u for u in staff.get("file_uploader") if u.label == "Documento para el cliente"]
    uploader.set_value(("acta.pdf", pdf_of("acta"), "application/pdf"))
    [title] = [t for t in staff.text_input if t.label == "Título"]
    title.input("Acta de la junta 2025")
    [year] = [n for n in staff.number_input if n.label == "Año"]
    year.set_value(2025)
    [category] = [s for s in staff.selectbox if s.label == "Categoría"]
    category.set_value("societario")
    [submit] = [b for b in staff.button if b.label == "Compartir con el cliente"]
    submit.click().run()
    assert not staff.exception, staff.exception
    assert "Documento «Acta de la junta 2025» compartido con el cliente." in texts(staff)
    at = open_page(signed_in("fina"), "documentos")
    rows = {r["Título"]: (r[""], r["Categoría"]) for r in table(at)}
    assert rows["Acta de la junta 2025"] == ("Nuevo", "Societario")
    [check] = [c for c in staff.checkbox if c.label == "Confirmo que quiero retirar este documento"]
    check.check().run()
    [withdraw] = [b for b in staff.button if b.label == "Retirar"]
    withdraw.click().run()
    assert "Documento «Acta de la junta 2025» retirado." in texts(staff)
    at.run()
    assert "Acta de la junta 2025" not in {r["Título"] for r in table(at)}
    assert [e["event"] for e in audit.entries(world.engine, company="desp") if e["event"].startswith("document_")] == [
        "document_delete",
        "document_upload",
    ]


def test_the_pdf_preview_shows_the_chosen_document_and_is_audited(world):
    at = open_page(signed_in("fina"), "documentos")
    [toggle] = [t for t in at.toggle if t.label == "Vista previa"]
    before = len(audit.entries(world.engine, event="document_download", actor="fina"))
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    assert "La vista previa no está disponible" not in texts(at)
    after = audit.entries(world.engine, event="document_download", actor="fina")
    assert len(after) > before and after[0]["detail"] == "archivo=cuentas-anuales-2024.pdf"


def active_tab(at: AppTest) -> str:
    """The label of the tab the page keeps open (a stateful tab bar tells the browser which one)."""
    [bar] = [node for node in at._tree if getattr(node, "type", None) == "tab_container"]
    return [tab.label for tab in bar.children.values()][bar.proto.tab_container.default_tab_index]


def test_filters_say_todas_for_the_category_and_todos_for_the_year(world):
    at = open_page(signed_in("fina"), "documentos")
    [category] = [s for s in at.selectbox if s.label == "Categoría"]
    [year] = [s for s in at.selectbox if s.label == "Año"]
    assert (category.options[0], year.options[0]) == ("Todas", "Todos")
    assert all(re.fullmatch(r"\d+ bytes|\d+,\d (KB|MB)", r["Tamaño"]) for r in table(at))


def test_after_sending_a_document_the_page_stays_on_the_sending_tab(world):
    at = open_page(signed_in("fina"), "documentos")
    assert active_tab(at) == "Documentos del despacho"
    at.session_state["documentos-tab-desp"] = "Enviar al despacho"  # the user opens the second tab
    at.run()
    upload(at, "justificante.pdf", SENT_PDF)
    assert "Documento «justificante.pdf» enviado al despacho." in texts(at)
    assert active_tab(at) == "Enviar al despacho"  # not back on the first tab after the rerun
    assert at.session_state["documentos-tab-desp"] == "Enviar al despacho"


def test_an_opened_document_loses_its_nuevo_mark_in_the_selector_and_stays_chosen(world, downloaded):  # noqa: F811
    at = open_page(signed_in("fina"), "documentos")
    user = users.get_user(world.engine, "fina")
    keys = documents.list_documents(world.engine, user, "desp", world.store().current("desp"))["key"].tolist()
    [box] = [s for s in at.selectbox if s.label == "Documento"]
    assert box.options[1] == "[Nuevo] Certificado AEAT 2025 · 08/03/2025"
    box.set_value(keys[1]).run()  # chosen and downloaded (the file is built: it is opened)
    at.run()  # the next run
    [box] = [s for s in at.selectbox if s.label == "Documento"]
    assert box.value == keys[1]
    assert box.options[:2] == ["Cuentas anuales 2024 · 28/03/2025", "Certificado AEAT 2025 · 08/03/2025"]
    # the browser is told to show the chosen document's new label, not the «[Nuevo]» one it was shown before
    assert box.proto.set_value and box.proto.raw_value == "Certificado AEAT 2025 · 08/03/2025"
