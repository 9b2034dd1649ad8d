"""Journals of accounting packages: ContaPlus DIARIO.DBF (alone or in a backup zip) and the column profiles."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from random import Random

import duckdb
import pytest

from etl import service
from etl.demo.companies import DUERO, EBRO
from etl.demo.dbf import DIARIO_FIELDS, DbfField, dbf_bytes
from etl.demo.journal import Simulator
from etl.demo.modules import journal_rows, write_company
from etl.journal import JournalResult, read_journal
from etl.journal_profiles import format_label, parse_amount, profiles
from etl.sources import CompanyInfo, journal_files
from etl.store import Store
from portal.settings import Settings, load_settings

ACME = CompanyInfo("ACME", "ACME S.L.", fiscal_years=(2025,))
UPDATED = date(2025, 12, 31)

# Three entries written by hand: a purchase 1.000,00 + 210,00 VAT, its payment, and a sale of 500,00.
RECORDS = [
    {"ASIEN": 1, "FECHA": date(2025, 2, 3), "SUBCTA": "6000000", "CONCEPTO": "Compra Señor", "EURODEBE": "1000.00"},
    {"ASIEN": 1, "FECHA": date(2025, 2, 3), "SUBCTA": "4720000", "CONCEPTO": "Compra Señor", "EURODEBE": "210.00"},
    {"ASIEN": 1, "FECHA": date(2025, 2, 3), "SUBCTA": "4000001", "CONCEPTO": "Compra Señor", "EUROHABER": "1210.00"},
    {"ASIEN": 2, "FECHA": date(2025, 3, 1), "SUBCTA": "4000001", "CONCEPTO": "Pago", "EURODEBE": "1210.00"},
    {"ASIEN": 2, "FECHA": date(2025, 3, 1), "SUBCTA": "5720001", "CONCEPTO": "Pago", "EUROHABER": "1210.00"},
    {"ASIEN": 3, "FECHA": date(2025, 4, 9), "SUBCTA": "5720001", "CONCEPTO": "Venta", "EURODEBE": "500.00"},
    {"ASIEN": 3, "FECHA": date(2025, 4, 9), "SUBCTA": "7000000", "CONCEPTO": "Venta", "EUROHABER": "500.00"},
]


def folder(tmp_path: Path) -> Path:
    path = tmp_path / "ACME"
    path.mkdir(exist_ok=True)
    return path


def dbf(records: list[dict], **kw) -> bytes:
    return dbf_bytes(DIARIO_FIELDS, records, updated=UPDATED, **kw)


def read(con: duckdb.DuckDBPyConnection, tmp_path: Path, company: CompanyInfo = ACME) -> JournalResult:
    return read_journal(con, journal_files(folder(tmp_path)), company)


def sums(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[Decimal, Decimal]]:
    rows = con.execute("SELECT account, sum(debit), sum(credit) FROM journal GROUP BY account").fetchall()
    return {account: (debit, credit) for account, debit, credit in rows}


def errors(result: JournalResult) -> list[tuple[str, str, int | None]]:
    return [(p.rule, p.file, p.line) for p in result.problems if p.severity == "error"]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# --- ContaPlus ------------------------------------------------------------------------------------------------------


def test_a_diario_dbf_loads_with_the_amounts_written(con, tmp_path):
    (folder(tmp_path) / "Diario.dbf").write_bytes(dbf(RECORDS))
    result = read(con, tmp_path)
    assert errors(result) == []
    assert sums(con) == {
        "6000000": (Decimal("1000.00"), Decimal("0.00")),
        "4720000": (Decimal("210.00"), Decimal("0.00")),
        "4000001": (Decimal("1210.00"), Decimal("1210.00")),
        "5720001": (Decimal("500.00"), Decimal("1210.00")),
        "7000000": (Decimal("0.00"), Decimal("500.00")),
    }
    [fmt] = result.formats
    assert (fmt.file, fmt.profile, fmt.encoding, fmt.rows) == ("ACME/Diario.dbf", "contaplus", "cp1252", 7)
    assert con.execute("SELECT description FROM journal WHERE source_line = 1").fetchone() == ("Compra Señor",)


def test_a_backup_zip_skips_deleted_records_and_keeps_record_numbers(con, tmp_path):
    # Record 4 (the first line of the payment, repeated) is deleted: records 1-3, 5-8 are read.
    records = [*RECORDS[:3], {**RECORDS[3], "EURODEBE": "9999.00"}, *RECORDS[3:]]
    with zipfile.ZipFile(folder(tmp_path) / "copia.zip", "w") as archive:
        archive.writestr("GrupoSP/EMP/ACME2025/DIARIO.DBF", dbf(records, deleted=frozenset({3})))
        archive.writestr("GrupoSP/EMP/ACME2025/SUBCTA.DBF", b"not read")
    result = read(con, tmp_path)
    assert errors(result) == []
    assert result.formats[0].file == "ACME/copia.zip:GrupoSP/EMP/ACME2025/DIARIO.DBF"
    lines = con.execute("SELECT source_line FROM journal ORDER BY source_line").fetchall()
    assert [n for (n,) in lines] == [1, 2, 3, 5, 6, 7, 8]
    assert sums(con)["4000001"] == (Decimal("1210.00"), Decimal("1210.00"))


def test_an_unbalanced_entry_names_the_file_and_record(con, tmp_path):
    records = [*RECORDS[:4], {**RECORDS[4], "EUROHABER": "1200.00"}, *RECORDS[5:]]
    with zipfile.ZipFile(folder(tmp_path) / "backup.zip", "w") as archive:
        archive.writestr("DIARIO.DBF", dbf(records))
    result = read(con, tmp_path)
    assert errors(result) == [("unbalanced_entry", "ACME/backup.zip:DIARIO.DBF", 4)]
    assert "debe 1.210,00 ≠ haber 1.200,00" in result.problems[0].message


def test_a_bad_date_is_quoted_with_its_record(con, tmp_path):
    records = [*RECORDS[:5], {**RECORDS[5], "FECHA": "20251345"}, RECORDS[6]]
    (folder(tmp_path) / "DIARIO.DBF").write_bytes(dbf(records))
    result = read(con, tmp_path)
    bad = [p for p in result.problems if p.rule == "bad_date"]
    assert [(p.line, p.message) for p in bad] == [
        (6, "fecha «20251345» no válida (se admite dd/mm/aaaa, d/m/aaaa, dd-mm-aaaa o aaaa-mm-dd)")
    ]


def test_the_language_driver_byte_chooses_the_encoding(con, tmp_path):
    (folder(tmp_path) / "DIARIO.DBF").write_bytes(dbf(RECORDS, language_driver=0x02, encoding="cp850"))
    result = read(con, tmp_path)
    assert result.formats[0].encoding == "cp850"
    assert con.execute("SELECT description FROM journal WHERE source_line = 1").fetchone() == ("Compra Señor",)
    (folder(tmp_path) / "DIARIO.DBF").write_bytes(dbf(RECORDS, language_driver=0))
    assert read(con, tmp_path).formats[0].encoding == "cp1252"  # no driver byte: Windows-1252


def test_old_peseta_fields_are_read_with_a_warning_and_foreign_dbfs_are_refused(con, tmp_path):
    fields = tuple(f for f in DIARIO_FIELDS if not f.name.startswith("EURO"))
    old = [{**r, "PTADEBE": r.get("EURODEBE"), "PTAHABER": r.get("EUROHABER")} for r in RECORDS]
    (folder(tmp_path) / "DIARIO.DBF").write_bytes(dbf_bytes(fields, old, updated=UPDATED))
    result = read(con, tmp_path)
    assert [(p.rule, p.severity) for p in result.problems] == [("contaplus_pesetas", "warning")]
    assert sums(con)["6000000"] == (Decimal("1000.00"), Decimal("0.00"))
    (folder(tmp_path) / "DIARIO.DBF").write_bytes(dbf_bytes((DbfField("CODIGO", "C", 5),), [], updated=UPDATED))
    assert errors(read(con, tmp_path)) == [("missing_column", "ACME/DIARIO.DBF", None)]


def test_a_zip_member_path_is_never_used_to_write(con, tmp_path):
    with zipfile.ZipFile(folder(tmp_path) / "copia.zip", "w") as archive:
        archive.writestr("../../evil/DIARIO.DBF", dbf(RECORDS))
    result = read(con, tmp_path)
    assert errors(result) == []
    assert not (tmp_path.parent / "evil").exists() and not (tmp_path / "evil").exists()
    (folder(tmp_path) / "copia.zip").write_bytes(b"PK no zip")
    assert errors(read(con, tmp_path)) == [("unreadable_file", "ACME/copia.zip", None)]
    with zipfile.ZipFile(folder(tmp_path) / "copia.zip", "w") as archive:
        archive.writestr("leeme.txt", "nada")
    assert errors(read(con, tmp_path)) == [("no_journal", "ACME/copia.zip", None)]


# --- column profiles -------------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "diario.csv", encoding: str = "utf-8") -> Path:
    path = folder(tmp_path) / name
    path.write_bytes(text.encode(encoding))
    return path


def test_profiles_are_tried_in_their_documented_order():
    assert [p.name for p in profiles()] == ["holded", "a3eco", "odoo"]
    labels = [format_label(n) for n in ("portal", "contaplus", "a3eco", "odoo")]  # as staff see them on Cargas
    assert labels == ["Formato del portal", "ContaPlus (DIARIO.DBF)", "a3ECO / a3ASESOR", "Odoo (apuntes contables)"]


def test_holded_separate_debit_and_credit(con, tmp_path):
    write(
        tmp_path,
        "Número de asiento;Fecha;Nombre de la cuenta contable;Número de cuenta contable;Debe;Haber;Descripción\n"
        "1;03/02/2025;Caja;57000000;1234,50;;Cobro\n"
        "1;03/02/2025;Clientes;43000001;;1234,50;Cobro\n",
    )
    result = read(con, tmp_path)
    assert errors(result) == []
    assert (result.formats[0].profile, result.formats[0].decimal) == ("holded", "coma")
    assert sums(con) == {"57000000": (Decimal("1234.50"), 0), "43000001": (0, Decimal("1234.50"))}


def test_a3eco_amount_with_a_dh_key_and_thousands(con, tmp_path):
    write(
        tmp_path,
        "Fecha;Asiento;Cuenta;Concepto;Importe;D/H\n"
        "05/03/25;7;62900000;Material;1.500,25;D\n"
        "05/03/25;7;47200000;Material;315,05;d\n"
        "05/03/25;7;41000001;Material;1.815,30;H\n",
        encoding="cp1252",
    )
    result = read(con, tmp_path)
    assert errors(result) == []
    assert (result.formats[0].profile, result.formats[0].encoding) == ("a3eco", "utf-8")
    assert sums(con)["62900000"] == (Decimal("1500.25"), 0)
    assert sums(con)["41000001"] == (0, Decimal("1815.30"))
    assert con.execute("SELECT DISTINCT date, entry FROM journal").fetchall() == [(date(2025, 3, 5), 7)]


def test_a3eco_bad_key_is_named_with_its_line(con, tmp_path):
    write(tmp_path, "Fecha;Asiento;Cuenta;Concepto;Importe;D/H\n05/03/2025;7;62900000;x;10,00;X\n")
    problem = next(p for p in read(con, tmp_path).problems if p.rule == "bad_amount")
    assert (problem.line, problem.message) == (2, "clave debe/haber «X» no válida (se espera D o H)")


def test_odoo_signed_amount_text_entries_and_account_with_name(con, tmp_path):
    write(
        tmp_path,
        "Date,Journal Entry,Account,Label,Balance\n"
        '2025-06-30,MISC/2025/0002,6290000 Otros servicios,Asesoría,"1,250.00"\n'
        "2025-06-30,MISC/2025/0002,5720001 Banco,Asesoría,-1250.00\n"
        "2025-07-01,BNK1/2025/0001,5720001 Banco,Cobro,80.10\n"
        "2025-07-01,BNK1/2025/0001,4300001 Cliente,Cobro,-80.10\n",
    )
    result = read(con, tmp_path)
    assert errors(result) == []
    assert (result.formats[0].profile, result.formats[0].separator) == ("odoo", ",")
    assert sums(con)["5720001"] == (Decimal("80.10"), Decimal("1250.00"))
    entries = con.execute("SELECT DISTINCT entry, date FROM journal ORDER BY entry").fetchall()
    assert entries == [(1, date(2025, 6, 30)), (2, date(2025, 7, 1))]  # numbered in order of appearance


def test_a_file_matching_no_layout_lists_its_columns_and_the_formats_tried(con, tmp_path):
    write(tmp_path, "Día;Cta;Importe\n01/01/2025;572;10\n")
    result = read(con, tmp_path)
    assert [p.rule for p in result.problems] == ["missing_column", "unknown_journal_format"]
    message = result.problems[1].message
    assert "columnas encontradas: «Día», «Cta», «Importe»" in message
    assert "formatos probados: portal" in message
    assert "holded (faltan: fecha, asiento, cuenta, debe, haber)" in message
    assert "a3eco (faltan: fecha, asiento, cuenta, clave debe/haber)" in message


def test_empresa_json_names_the_only_profile_tried(con, tmp_path):
    (folder(tmp_path) / "empresa.json").write_text(json.dumps({"perfil_diario": "odoo"}), encoding="utf-8")
    write(tmp_path, "Fecha;Asiento;Cuenta;Concepto;Importe;D/H\n05/03/2025;7;62900000;x;10,00;D\n")
    result = read(con, tmp_path)
    assert [p.rule for p in result.problems] == ["unknown_journal_format"]
    assert "del formato «odoo» que indica empresa.json (perfil_diario)" in result.problems[0].message
    (folder(tmp_path) / "empresa.json").write_text(json.dumps({"perfil_diario": "sage"}), encoding="utf-8")
    problem = read(con, tmp_path).problems[0]
    assert (problem.rule, problem.file) == ("journal_profile", "ACME/empresa.json")
    assert "perfil_diario «sage» no es un formato conocido" in problem.message


def test_the_native_layout_still_comes_first(con, tmp_path):
    write(tmp_path, "fecha;asiento;cuenta;concepto;debe;haber\n01/02/2025;1;572;x;1,00;\n01/02/2025;1;430;x;;1,00\n")
    result = read(con, tmp_path)
    assert errors(result) == [] and result.formats[0].profile == "portal"


@pytest.mark.parametrize(
    ("raw", "decimal", "thousands", "value"),
    [
        ("1.234,56", ",", ".", Decimal("1234.56")),
        ("1234,5", ",", ".", Decimal("1234.5")),
        ("-1,234.56", ".", ",", Decimal("-1234.56")),
        ("", ",", ".", Decimal(0)),
        ("=1234.5", ",", ".", Decimal("1234.5")),
        ("1,234", ",", ".", None),
        ("12.34.5", ",", ".", None),
    ],
)
def test_amounts_in_a_profile_number_format(raw, decimal, thousands, value):
    assert parse_amount(raw, decimal, thousands) == value


# --- the demo companies, loaded end to end ---------------------------------------------------------------------------

UNTIL = date(2026, 3, 15)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})


@pytest.mark.slow
def test_the_contaplus_and_a3eco_demo_companies_load_and_tie(settings):
    booked = {}
    for company in (EBRO, DUERO):
        books = Simulator(company, UNTIL, 2026, []).run()
        write_company(books, settings.sources / company.code, 2026)
        rows = journal_rows(books, Random(f"2026:{company.code}:order"))
        bank = [(debit, credit) for _d, _n, account, _c, debit, credit, _k in rows if account == "5720001"]
        booked[company.code] = (sum(d for d, _ in bank) - sum(c for _, c in bank), sum(r[4] for r in rows))
    results = {r.company: r for r in service.load_all(settings)}
    for code, (bank_cents, debit_cents) in booked.items():
        assert results[code].outcome == "published", results[code].problems[:5]
        snapshot = Store(settings.stores).current(code)
        assert snapshot.manifest["total_debit"] == f"{Decimal(debit_cents) / 100:.2f}"
        profile = {"ebro": "contaplus", "duero": "a3eco"}[code]
        assert {f["profile"] for f in snapshot.manifest["formats"]} == {profile}
        sql = f"SELECT sum(debit) - sum(credit), sum(debit) = sum(credit) FROM '{snapshot.path}/journal.parquet'"
        con = duckdb.connect()
        assert con.execute(sql).fetchone() == (0, True)
        bank = con.execute(
            f"SELECT sum(debit - credit) FROM '{snapshot.path}/journal.parquet' WHERE account = '5720001'"
        ).fetchone()[0]
        assert bank == Decimal(bank_cents) / 100
