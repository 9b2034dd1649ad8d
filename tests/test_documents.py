"""Documents: the documentos/ reader (every row checked, errors at file and line), isolation between two companies,
the upload checks (size, content type by magic bytes, names), random-name 0640 storage, «nuevo» marks and the audit."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from auth import passwords, users
from etl import service
from etl.modules import documents as reader
from etl.sources import CompanyInfo
from etl.store import Store
from portal import audit
from portal.db import documents as documents_table
from portal.db import get_engine
from portal.settings import load_settings
from reports import documents as published
from services import documents as docs
from tests.test_invoices import write_company

INDICE = (
    "titulo;categoria;fecha;archivo\n"
    "Certificado AEAT 2025;fiscal;08/03/2025;fiscal/2025/certificado-aeat-2025.pdf\n"
    "Calendario laboral 2025;laboral;12/01/2025;laboral/2025/calendario-laboral-2025.pdf\n"
    "Cuentas anuales 2024;contable;28/03/2025;contable/2025/cuentas-anuales-2024.pdf\n"
)
FILES = (
    "fiscal/2025/certificado-aeat-2025.pdf",
    "laboral/2025/calendario-laboral-2025.pdf",
    "contable/2025/cuentas-anuales-2024.pdf",
)
OTHER_INDICE = "titulo;categoria;fecha;archivo\nEscritura de Otra;societario;14/05/2024;societario/2024/escritura.pdf\n"


def pdf_of(name: str) -> bytes:
    return f"%PDF-1.4\n% documento {name}\n%%EOF\n".encode()


def write_documents(folder: Path, indice: str = INDICE, files: tuple[str, ...] = FILES) -> None:
    base = folder / "documentos"
    base.mkdir(parents=True, exist_ok=True)
    (base / "indice.csv").write_text(indice, encoding="utf-8")
    for relative in files:
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_bytes(pdf_of(relative))


def read_folder(tmp_path: Path, indice: str = INDICE, files: tuple[str, ...] = FILES):
    folder = tmp_path / "src" / "desp"
    write_documents(folder, indice, files)
    return reader.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))


def errors(problems: list) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in problems if p.severity == "error"]


# --- the reader -----------------------------------------------------------------------------------------------------


def test_the_index_reads_with_sizes_and_hashes(tmp_path):
    con = duckdb.connect()
    folder = tmp_path / "desp"
    write_documents(folder)
    output = reader.read(con, folder, CompanyInfo(code="desp", name="Desp"))
    assert output.problems == []
    assert output.manifest == {"documents": 3, "document_files": 3}
    assert set(output.tables) == {"documents.parquet", "document_files.parquet"}
    rows = con.execute("SELECT title, category, year, file_name, size FROM documents ORDER BY title").fetchall()
    assert rows[0] == ("Calendario laboral 2025", "laboral", 2025, "calendario-laboral-2025.pdf", 68)
    assert len(pdf_of(FILES[1])) == 68  # 9 + 12 + 40 + 7 bytes


def test_no_documentos_folder_adds_nothing(tmp_path):
    (tmp_path / "desp").mkdir()
    assert reader.read(duckdb.connect(), tmp_path / "desp", CompanyInfo(code="desp", name="Desp")).tables == {}


ROW = "Certificado;fiscal;08/03/2025;{archivo}\n"
REJECTIONS = [
    ("Certificado;tributos;08/03/2025;fiscal/2025/certificado-aeat-2025.pdf", "categoria «tributos» no es uno de"),
    ("Certificado;fiscal;31/02/2025;fiscal/2025/certificado-aeat-2025.pdf", "fecha «31/02/2025» no es una fecha"),
    ("Certificado;fiscal;08/03/2025;fiscal/2025/../2025/certificado-aeat-2025.pdf", "no puede contener «..»"),
    ("Certificado;fiscal;08/03/2025;/etc/passwd", "debe ser una ruta relativa"),
    ("Certificado;fiscal;08/03/2025;fiscal\\2025\\certificado-aeat-2025.pdf", "debe ser una ruta relativa"),
    ("Certificado;fiscal;08/03/2025;fiscal/2024/certificado-aeat-2025.pdf", "debe ser fiscal/2025/<nombre>.pdf"),
    ("Certificado;fiscal;08/03/2025;fiscal/2025/no-existe.pdf", "no existe en documentos/"),
    ("Certificado;fiscal;08/03/2025;fiscal/2025/falso.pdf", "no es un PDF (no empieza por %PDF-)"),
    (";fiscal;08/03/2025;fiscal/2025/certificado-aeat-2025.pdf", "titulo está vacío"),
    ("Certificado;fiscal;08/03/2025;fiscal/2025/.oculto.pdf", "tiene nombres no válidos"),
    ("Certificado;fiscal;08/03/2025;fiscal/2025/a$(id).pdf", "tiene nombres no válidos"),
]


@pytest.mark.parametrize(("row", "message"), REJECTIONS)
def test_a_bad_row_is_an_error_naming_file_and_line(tmp_path, row, message):
    folder = tmp_path / "src" / "desp"
    write_documents(folder, INDICE + row + "\n")
    (folder / "documentos" / "fiscal" / "2025" / "falso.pdf").write_bytes(b"<html><script>alert(1)</script>")
    output = reader.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))
    [(file, line, text)] = errors(output.problems)
    assert (file, line) == ("documentos/indice.csv", 5)
    assert message in text, text
    assert output.tables == {}


def test_accented_names_are_read(tmp_path):
    indice = "titulo;categoria;fecha;archivo\nAño;otros;01/02/2025;otros/2025/Póliza año 2025.pdf\n"
    output = read_folder(tmp_path, indice, ("otros/2025/Póliza año 2025.pdf",))
    assert output.problems == [] and output.manifest["documents"] == 1


def test_a_file_listed_twice_and_a_missing_index_are_errors(tmp_path):
    output = read_folder(tmp_path, INDICE + "Otra vez;fiscal;08/03/2025;fiscal/2025/certificado-aeat-2025.pdf\n")
    [(file, line, text)] = errors(output.problems)
    assert (file, line) == ("documentos/indice.csv", 5) and "repetido (ya en la línea 2)" in text
    folder = tmp_path / "sin-indice"
    write_documents(folder)
    (folder / "documentos" / "indice.csv").unlink()
    output = reader.read(duckdb.connect(), folder, CompanyInfo(code="x", name="X"))
    assert errors(output.problems) == [("documentos/indice.csv", None, "Falta el archivo indice.csv")]


# --- two published companies ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("documents") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_documents(write_company(settings.sources, "desp", "Despacho Cliente SL"))
    write_documents(
        write_company(settings.sources, "otra", "Otra Empresa SL"), OTHER_INDICE, ("societario/2024/escritura.pdf",)
    )
    results = service.load_all(settings, companies=["desp", "otra"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        users.create_user(engine, "fina", "una frase de acceso bastante larga", role="client", name="Fina")
        users.create_user(engine, "otro", "una frase de acceso bastante larga", role="client", name="Otro")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(template, data)
    settings = load_settings({"PORTAL_DATA_DIR": str(data), "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads")})
    engine = get_engine(settings.db_url)
    store = Store(settings.stores)
    return settings, engine, {c: store.current(c) for c in ("desp", "otra")}


def user(engine, username: str) -> dict:
    return users.get_user(engine, username)


def stored_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(documents_table)).all()


def test_each_company_sees_only_its_own_documents(world):
    settings, engine, snaps = world
    fina = user(engine, "fina")
    mine = docs.list_documents(engine, fina, "desp", snaps["desp"])
    assert sorted(mine["title"]) == ["Calendario laboral 2025", "Certificado AEAT 2025", "Cuentas anuales 2024"]
    other = docs.list_documents(engine, fina, "otra", snaps["otra"])
    assert list(other["title"]) == ["Escritura de Otra"]
    # the other company's snapshot is never read for this company
    assert docs.list_documents(engine, fina, "desp", snaps["otra"]).empty
    other_key = other["key"][0]
    assert docs.read_document(engine, settings, "desp", other_key, snaps["desp"]) is None
    assert docs.read_document(engine, settings, "desp", other_key, snaps["otra"]) is None
    found = docs.read_document(engine, settings, "otra", other_key, snaps["otra"])
    assert found.content == pdf_of("societario/2024/escritura.pdf") and found.download_name == "escritura-de-otra.pdf"
    # a portal upload for one company is neither listed nor readable from the other
    new_id = docs.store(
        engine, settings, company="otra", direction="firm", name="acta.pdf", content=pdf_of("acta"),
        actor="ana", actor_role="staff", category="societario", year=2025, title="Acta de Otra",
    )  # fmt: skip
    assert "Acta de Otra" not in set(docs.list_documents(engine, fina, "desp", snaps["desp"])["title"])
    assert docs.read_document(engine, settings, "desp", f"portal:{new_id}", snaps["desp"]) is None
    assert docs.read_document(engine, settings, "otra", f"portal:{new_id}").content == pdf_of("acta")
    # the client inbox is not the shared list, and keys of the wrong shape read nothing
    assert docs.read_document(engine, settings, "otra", f"portal:{new_id}", direction="client") is None
    for key in ("portal:../../etc/passwd", "etl:../x", "etl:" + "0" * 64, "nada"):
        assert docs.read_document(engine, settings, "desp", key, snaps["desp"]) is None


def test_published_bytes_come_from_the_snapshot(world):
    _, _, snaps = world
    index = published.documents(snaps["desp"])
    assert set(index["size"]) == {len(pdf_of(f)) for f in FILES}
    sha = index[index["title"] == "Certificado AEAT 2025"]["sha256"].iloc[0]
    assert published.content(snaps["desp"], sha) == pdf_of(FILES[0])


def test_new_count_and_mark_read(world):
    settings, engine, snaps = world
    fina, otro = user(engine, "fina"), user(engine, "otro")
    assert docs.new_count(engine, settings, fina, "desp", snaps["desp"]) == 3
    frame = docs.list_documents(engine, fina, "desp", snaps["desp"])
    found = docs.read_document(engine, settings, "desp", frame["key"][0], snaps["desp"])
    docs.record_download(engine, fina, "client", "desp", found)
    docs.record_download(engine, fina, "client", "desp", found)  # twice: still one read
    assert docs.new_count(engine, settings, fina, "desp", snaps["desp"]) == 2
    assert docs.new_count(engine, settings, otro, "desp", snaps["desp"]) == 3  # per user
    assert docs.new_count(engine, settings, fina, "otra", snaps["otra"]) == 1  # per company
    assert docs.new_count(engine, settings, fina, "desp", None) == 0
    [event, _] = audit.entries(engine, event="document_download", actor="fina")
    assert (event["company"], event["target"]) == ("desp", frame["key"][0])


def test_search_by_category_year_and_name(world):
    _, engine, snaps = world
    frame = docs.list_documents(engine, user(engine, "fina"), "desp", snaps["desp"])
    assert list(docs.search(frame, text="CALENDARIO 2025")["title"]) == ["Calendario laboral 2025"]
    assert list(docs.search(frame, category="contable", year=2025)["title"]) == ["Cuentas anuales 2024"]
    assert docs.search(frame, category="societario").empty


# --- uploads --------------------------------------------------------------------------------------------------------


def send(world, name: str, content: bytes, **kw) -> int:
    settings, engine, _ = world
    return docs.store(
        engine, settings, company="desp", direction="client", name=name, content=content, actor="fina",
        actor_role="client", **kw,
    )  # fmt: skip


UPLOAD_REJECTIONS = [
    ("grande.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "ocupa 10,0 MB y el máximo es 10 MB"),
    ("factura.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "no es un PDF aunque su nombre lo diga"),
    ("foto.png", b"%PDF-1.4\n%%EOF\n", "no es un PNG aunque su nombre lo diga"),
    ("notas.txt", b"<!DOCTYPE html><script>alert(1)</script>", "no es un texto aunque su nombre lo diga"),
    ("../../etc/cron.d/x.pdf", b"%PDF-1.4\n%%EOF\n", "no puede contener carpetas ni rutas"),
    ("..\\..\\x.pdf", b"%PDF-1.4\n%%EOF\n", "no puede contener carpetas ni rutas"),
    ("pagina.html", b"<p>hola</p>", "No se admiten páginas web ni archivos HTML"),
    ("dibujo.svg", b"<svg onload=alert(1)>", "No se admiten páginas web ni archivos HTML"),
    ("programa.exe", b"MZ\x90\x00", "no está permitido"),
    ("vacio.pdf", b"", "está vacío"),
]


@pytest.mark.parametrize(("name", "content", "message"), UPLOAD_REJECTIONS)
def test_a_rejected_upload_says_why_in_spanish_and_stores_nothing(world, name, content, message):
    settings, engine, _ = world
    with pytest.raises(docs.UploadRejected, match=message) as caught:
        send(world, name, content)
    assert "no se ha guardado" in str(caught.value).lower() or "no está permitido" in str(caught.value)
    assert stored_rows(engine) == []
    assert not settings.uploads.exists() or list(settings.uploads.iterdir()) == []
    assert audit.entries(engine, event="document_upload") == []


def office(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_office_files_are_checked_inside_the_zip(world, monkeypatch):
    assert docs.validate_upload("libro.xlsx", office("[Content_Types].xml", "xl/workbook.xml"), world[0]).kind == "xlsx"
    assert (
        docs.validate_upload("carta.docx", office("[Content_Types].xml", "word/document.xml"), world[0]).kind == "docx"
    )
    with pytest.raises(docs.UploadRejected, match="no es un XLSX"):
        docs.validate_upload("libro.xlsx", office("cualquier.txt"), world[0])
    monkeypatch.setattr(docs, "MAX_ZIP_MEMBERS", 2)  # too many members: never trusted
    with pytest.raises(docs.UploadRejected, match="no es un XLSX"):
        docs.validate_upload("libro.xlsx", office("[Content_Types].xml", "xl/workbook.xml", "a", "b"), world[0])


def test_an_accepted_upload_is_stored_0640_under_a_random_name_and_audited(world):
    settings, engine, snaps = world
    content = pdf_of("modelo 303")
    new_id = send(world, "Modelo 303 <b>T1.pdf", content, category="fiscal", title="IVA primer trimestre")
    [row] = stored_rows(engine)
    assert (row.direction, row.company_code, row.file_name, row.media_type) == (
        "client", "desp", "Modelo 303 <b>T1.pdf", "application/pdf",
    )  # fmt: skip
    assert len(row.stored_name) == 32 and int(row.stored_name, 16) >= 0
    path = settings.uploads / row.stored_name
    assert path.read_bytes() == content and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not path.resolve().is_relative_to(docs.APP_ROOT)
    [event] = audit.entries(engine, event="document_upload")
    assert (event["actor"], event["company"], event["target"]) == ("fina", "desp", f"portal:{new_id}")
    # the client's own inbox document is not in the list the firm shares with the client
    assert f"portal:{new_id}" not in set(
        docs.list_documents(engine, user(engine, "fina"), "desp", snaps["desp"])["key"]
    )
    found = docs.read_document(engine, settings, "desp", f"portal:{new_id}", direction="client")
    assert found.content == content and found.download_name == "iva-primer-trimestre.pdf"


def test_the_daily_limit_per_user_and_company(world):
    settings, engine, _ = world
    limited = load_settings({"PORTAL_DATA_DIR": str(settings.data_dir), "PORTAL_UPLOAD_DIR": str(settings.uploads),
                             "PORTAL_UPLOAD_MAX_FILES": "2"})  # fmt: skip
    for n in range(2):
        docs.store(engine, limited, company="desp", direction="client", name=f"{n}.txt", content=b"hola",
                   actor="fina", actor_role="client")  # fmt: skip
    with pytest.raises(docs.UploadRejected, match="Ya ha enviado hoy 2 documentos"):
        docs.store(engine, limited, company="desp", direction="client", name="3.txt", content=b"hola",
                   actor="fina", actor_role="client")  # fmt: skip
    docs.store(engine, limited, company="otra", direction="client", name="3.txt", content=b"hola",
               actor="fina", actor_role="client")  # fmt: skip
    assert len(stored_rows(engine)) == 3 and len(list(settings.uploads.iterdir())) == 3


def test_staff_withdraw_a_document_softly_and_it_is_audited(world):
    settings, engine, snaps = world
    new_id = docs.store(
        engine, settings, company="desp", direction="firm", name="acta.pdf", content=pdf_of("acta"),
        actor="ana", actor_role="staff", category="societario", year=2025, title="Acta",
    )  # fmt: skip
    fina = user(engine, "fina")
    assert docs.new_count(engine, settings, fina, "desp", snaps["desp"]) == 4
    assert docs.delete(engine, "otra", new_id, actor="ana") is False  # not that company's
    assert docs.delete(engine, "desp", new_id, actor="ana") is True
    assert docs.new_count(engine, settings, fina, "desp", snaps["desp"]) == 3
    assert docs.read_document(engine, settings, "desp", f"portal:{new_id}") is None
    [row] = stored_rows(engine)
    assert row.deleted_at is not None
    [event] = audit.entries(engine, event="document_delete")
    assert (event["actor"], event["target"]) == ("ana", f"portal:{new_id}")
