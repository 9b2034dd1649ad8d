"""Symlinks in the firm's exports: a symlinked company, module or sub-folder (or file) rejects the company's load."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from etl import service
from etl.modules import documents, invoices
from etl.sources import CompanyInfo, source_file, source_files, symlink_problems
from etl.store import Store
from portal.db import companies, get_engine
from portal.settings import Settings, load_settings
from reports import documents as published
from tests.test_documents import OTHER_INDICE, write_documents
from tests.test_invoices import write_company

OTHER_FILE = "societario/2024/escritura.pdf"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Two companies published: 'desp' with three documents, 'otra' with its own deed."""
    data = tmp_path_factory.mktemp("symlinks") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_documents(write_company(settings.sources, "desp", "Despacho Cliente SL"))
    write_documents(write_company(settings.sources, "otra", "Otra Empresa SL"), OTHER_INDICE, (OTHER_FILE,))
    results = service.load_all(settings, companies=["desp", "otra"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    get_engine(settings.db_url).dispose()
    return data


@pytest.fixture
def settings(template, tmp_path) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(template, data, symlinks=True)
    return load_settings({"PORTAL_DATA_DIR": str(data)})


def published_documents(settings: Settings, code: str) -> tuple[str | None, set[str], set[bytes]]:
    """The published snapshot of ``code``: its id, its document titles and the bytes of its document files."""
    snapshot = Store(settings.stores).current(code)
    if snapshot is None:
        return None, set(), set()
    index = published.documents(snapshot)
    contents = {published.content(snapshot, sha) for sha in index["sha256"]}
    return snapshot.snapshot_id, set(index["title"]), contents


def other_pdf(settings: Settings) -> bytes:
    return (settings.sources / "otra" / "documentos" / OTHER_FILE).read_bytes()


def replace_with_link(path: Path, target: Path) -> None:
    """``path`` (a folder or file) becomes a symlink to ``target``."""
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


def rejected(settings: Settings, code: str):
    [result] = service.load_all(settings, companies=[code])
    assert result.outcome == "rejected", result.message
    return result, service.run_problems(settings, result.run_id)


REASON = "es un enlace simbólico: la carga no sigue enlaces porque podría publicar archivos de otra empresa"


def test_a_symlinked_module_folder_rejects_the_load_and_the_previous_snapshot_stays(settings):
    before = published_documents(settings, "desp")
    sources = settings.sources
    replace_with_link(sources / "desp" / "documentos", sources / "otra" / "documentos")
    result, problems = rejected(settings, "desp")
    assert [(p["rule"], p["file"], p["line"], p["severity"]) for p in problems] == [
        ("source_symlink", "desp/documentos", None, "error")
    ]
    assert problems[0]["message"].startswith(f"La carpeta documentos {REASON}")
    assert "La carpeta documentos es un enlace simbólico" in result.message and "(desp/documentos)" in result.message
    after = published_documents(settings, "desp")
    assert after == before  # the same snapshot, still live
    assert "Escritura de Otra" not in after[1] and other_pdf(settings) not in after[2]


def test_a_symlinked_module_folder_publishes_nothing_for_a_new_company(settings):
    folder = write_company(settings.sources, "nueva", "Nueva SL")
    (folder / "documentos").symlink_to(settings.sources / "otra" / "documentos", target_is_directory=True)
    _, problems = rejected(settings, "nueva")
    assert [p["file"] for p in problems] == ["nueva/documentos"]
    assert Store(settings.stores).current("nueva") is None and Store(settings.stores).pending("nueva") is None


def test_a_symlinked_company_folder_is_rejected_and_reads_nothing_of_the_other_company(settings):
    (settings.sources / "espejo").symlink_to(settings.sources / "otra", target_is_directory=True)
    assert "espejo" in service.source_companies(settings)  # listed, so its load is refused loudly, not skipped
    result, problems = rejected(settings, "espejo")
    assert [(p["rule"], p["file"]) for p in problems] == [("source_symlink", "espejo")]
    assert problems[0]["message"].startswith(f"La carpeta de la empresa espejo {REASON}")
    assert "La carpeta de la empresa espejo es un enlace simbólico" in result.message
    assert published_documents(settings, "espejo") == (None, set(), set())
    with get_engine(settings.db_url).connect() as conn:  # not even empresa.json of the other company was read
        names = dict(conn.execute(sa.select(companies.c.code, companies.c.name)).all())
    assert names.get("espejo") != "Otra Empresa SL"


def test_a_symlinked_sub_folder_inside_a_module_folder_is_rejected(settings):
    before = published_documents(settings, "desp")
    base = settings.sources / "desp" / "documentos"
    (base / "societario").symlink_to(settings.sources / "otra" / "documentos" / "societario", target_is_directory=True)
    (base / "indice.csv").write_text(
        (base / "indice.csv").read_text(encoding="utf-8") + OTHER_INDICE.splitlines()[1] + "\n", encoding="utf-8"
    )
    _, problems = rejected(settings, "desp")
    assert [(p["rule"], p["file"]) for p in problems] == [("source_symlink", "desp/documentos/societario")]
    assert problems[0]["message"].startswith(f"La carpeta documentos/societario {REASON}")
    after = published_documents(settings, "desp")
    assert after == before and "Escritura de Otra" not in after[1] and other_pdf(settings) not in after[2]


@pytest.mark.parametrize(
    ("link", "target", "message"),
    [
        ("facturas", "facturas", "La carpeta facturas"),
        ("facturas/pdf", "facturas/pdf", "La carpeta facturas/pdf"),
        ("expedientes", "expedientes", "La carpeta expedientes"),
        ("diario.csv", "diario.csv", "El archivo diario.csv"),
        ("empresa.json", "empresa.json", "El archivo empresa.json"),
        ("documentos/indice.csv", "documentos/indice.csv", "El archivo documentos/indice.csv"),
    ],
)
def test_every_other_symlinked_folder_or_file_is_rejected_by_name(settings, link, target, message):
    before = published_documents(settings, "desp")
    replace_with_link(settings.sources / "desp" / link, settings.sources / "otra" / target)
    _, problems = rejected(settings, "desp")
    assert [(p["rule"], p["file"]) for p in problems] == [("source_symlink", f"desp/{link}")]
    assert problems[0]["message"].startswith(f"{message} {REASON}")
    assert published_documents(settings, "desp") == before


def test_hidden_entries_are_not_judged_and_plain_folders_have_no_problems(settings):
    folder = settings.sources / "desp"
    assert symlink_problems(folder) == []
    (folder / ".cache").symlink_to(settings.sources / "otra", target_is_directory=True)
    assert symlink_problems(folder) == []
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "unchanged"  # the hidden link is neither read nor hashed


def test_readers_never_go_through_a_symlink_even_when_called_directly(settings):
    """Without the load's check, the readers still find no file behind a symlink (one rule in etl.sources)."""
    folder = settings.sources / "desp"
    other = settings.sources / "otra"
    replace_with_link(folder / "documentos", other / "documentos")
    assert documents.inputs(folder) == [] and source_files(folder, "documentos") == []
    assert source_file(folder, "documentos", "indice.csv") is None
    assert documents.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp")).tables == {}
    replace_with_link(folder / "facturas" / "pdf", other / "facturas" / "pdf")
    assert not [p for p in invoices.inputs(folder) if p.suffix == ".pdf"]
    output = invoices.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))
    assert output.manifest["invoice_pdfs"] == 0
    linked = settings.sources / "espejo"
    linked.symlink_to(other, target_is_directory=True)
    assert source_files(linked) == [] and source_file(linked, "diario.csv") is None
    assert documents.inputs(linked) == [] and invoices.inputs(linked) == []
    # and a sub-folder link is never entered by the walk
    (other / "documentos" / "fiscal").symlink_to(folder, target_is_directory=True)
    assert all("fiscal" not in p.parts for p in source_files(other, "documentos"))
