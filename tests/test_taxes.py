"""The impuestos module: every rejection rule names file, line and value; the cross-checks (VAT vs journal, 390 / 190
/ 180 vs their periodic returns) warn; the VAT and IRPF views give hand-computed figures on a small company; and
over the generated demo the only VAT mismatch is norte's documented 3T 2024."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl import load, service
from etl.demo import generate
from etl.modules import taxes
from etl.sources import CompanyInfo
from etl.store import Store
from portal.settings import load_settings
from reports import taxes as reports

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# A small company, 2024. Journal: 1T sales 1.000 at 21 % (VAT 210) and 500 at 10 % (VAT 50), a purchase of 400
# (VAT 84), the settlement (477 260 / 472 84 / 4750 176); 2T a sale of 500 at 21 % (VAT 105), a purchase of 1.000
# (VAT 210), the settlement to offset (477 105 / 4700 105 / 472 210), a rent of 1.000 with 19 % withheld.
JOURNAL = """fecha;asiento;cuenta;concepto;debe;haber;tipo
15/01/2024;1;4300001;Factura A-1;1210,00;;normal
15/01/2024;1;7000000;Factura A-1;;1000,00;normal
15/01/2024;1;4770000;Factura A-1;;210,00;normal
20/02/2024;2;4300001;Factura A-2;550,00;;normal
20/02/2024;2;7050000;Factura A-2;;500,00;normal
20/02/2024;2;4770000;Factura A-2;;50,00;normal
10/03/2024;3;6000000;Compra C-1;400,00;;normal
10/03/2024;3;4720000;Compra C-1;84,00;;normal
10/03/2024;3;4000001;Compra C-1;;484,00;normal
31/03/2024;4;4770000;Liquidación IVA 1T 2024;260,00;;normal
31/03/2024;4;4720000;Liquidación IVA 1T 2024;;84,00;normal
31/03/2024;4;4750000;Liquidación IVA 1T 2024;;176,00;normal
10/04/2024;5;6000000;Compra C-2;1000,00;;normal
10/04/2024;5;4720000;Compra C-2;210,00;;normal
10/04/2024;5;4000001;Compra C-2;;1210,00;normal
15/05/2024;6;4300001;Factura A-3;605,00;;normal
15/05/2024;6;7000000;Factura A-3;;500,00;normal
15/05/2024;6;4770000;Factura A-3;;105,00;normal
20/05/2024;7;6210000;Alquiler mayo;1000,00;;normal
20/05/2024;7;4751100;Alquiler mayo;;190,00;normal
20/05/2024;7;4100001;Alquiler mayo;;810,00;normal
30/06/2024;8;4770000;Liquidación IVA 2T 2024;105,00;;normal
30/06/2024;8;4700000;Liquidación IVA 2T 2024;105,00;;normal
30/06/2024;8;4720000;Liquidación IVA 2T 2024;;210,00;normal
"""
FILINGS_HEADER = "modelo;ejercicio;periodo;fecha_presentacion;tipo_resultado;importe;justificante;csv\n"
FILING_ROWS = [  # line 2, 3, …
    "303;2024;1T;15/04/2024;ingreso;176,00;3030000000001;AAAAAAAAAAAAAAA1",
    "111;2024;1T;15/04/2024;ingreso;300,00;1110000000001;AAAAAAAAAAAAAAA2",
    "303;2024;2T;15/07/2024;compensar;-105,00;3030000000002;AAAAAAAAAAAAAAA3",
    "111;2024;2T;15/07/2024;ingreso;450,00;1110000000002;AAAAAAAAAAAAAAA4",
    "115;2024;2T;15/07/2024;ingreso;190,00;1150000000001;AAAAAAAAAAAAAAA5",
    "390;2024;0A;29/01/2025;informativa;0,00;3900000000001;AAAAAAAAAAAAAAA6",
    "190;2024;0A;29/01/2025;informativa;0,00;1900000000001;AAAAAAAAAAAAAAA7",
    "180;2024;0A;29/01/2025;informativa;0,00;1800000000001;AAAAAAAAAAAAAAA8",
]
BOXES_HEADER = "modelo;ejercicio;periodo;casilla;descripcion;importe\n"
BOX_ROWS = [  # line 2, 3, …
    "303;2024;1T;04;Régimen general 10 %: base imponible;500,00",
    "303;2024;1T;06;Régimen general 10 %: cuota;50,00",
    "303;2024;1T;07;Régimen general 21 %: base imponible;1000,00",
    "303;2024;1T;09;Régimen general 21 %: cuota;210,00",
    "303;2024;1T;27;Total cuota devengada;260,00",
    "303;2024;1T;28;Operaciones interiores corrientes: base;400,00",
    "303;2024;1T;29;Operaciones interiores corrientes: cuota deducible;84,00",
    "303;2024;1T;45;Total a deducir;84,00",
    "303;2024;1T;46;Resultado régimen general;176,00",
    "303;2024;1T;110;Cuotas a compensar pendientes de periodos anteriores;0,00",
    "303;2024;1T;78;Cuotas a compensar aplicadas en este periodo;0,00",
    "303;2024;1T;87;Cuotas a compensar pendientes para periodos posteriores;0,00",
    "303;2024;1T;71;Resultado de la liquidación;176,00",
    "303;2024;2T;07;Régimen general 21 %: base imponible;500,00",
    "303;2024;2T;09;Régimen general 21 %: cuota;105,00",
    "303;2024;2T;27;Total cuota devengada;105,00",
    "303;2024;2T;28;Operaciones interiores corrientes: base;1000,00",
    "303;2024;2T;29;Operaciones interiores corrientes: cuota deducible;210,00",
    "303;2024;2T;45;Total a deducir;210,00",
    "303;2024;2T;46;Resultado régimen general;-105,00",
    "303;2024;2T;71;Resultado de la liquidación;-105,00",
    "111;2024;1T;07;Actividades económicas dinerarias: nº de perceptores;1",
    "111;2024;1T;08;Actividades económicas dinerarias: importe de las percepciones;2000,00",
    "111;2024;1T;09;Actividades económicas dinerarias: importe de las retenciones;300,00",
    "111;2024;1T;28;Suma de retenciones;300,00",
    "111;2024;1T;30;Resultado a ingresar;300,00",
    "111;2024;2T;01;Rendimientos del trabajo dinerarios: nº de perceptores;2",
    "111;2024;2T;02;Rendimientos del trabajo dinerarios: importe de las percepciones;1000,00",
    "111;2024;2T;03;Rendimientos del trabajo dinerarios: importe de las retenciones;150,00",
    "111;2024;2T;07;Actividades económicas dinerarias: nº de perceptores;1",
    "111;2024;2T;08;Actividades económicas dinerarias: importe de las percepciones;2000,00",
    "111;2024;2T;09;Actividades económicas dinerarias: importe de las retenciones;300,00",
    "111;2024;2T;28;Suma de retenciones;450,00",
    "111;2024;2T;30;Resultado a ingresar;450,00",
    "115;2024;2T;01;Nº de perceptores;1",
    "115;2024;2T;02;Base de las retenciones;1000,00",
    "115;2024;2T;03;Retenciones e ingresos a cuenta;190,00",
    "115;2024;2T;05;Resultado a ingresar;190,00",
    # 390 = 1T + 2T: 10 % 500 / 50; 21 % 1.500 / 315; devengado 365; deducible 84 + 210 = 294; resultado 71.
    "390;2024;0A;03;Régimen general 10 %: base imponible;500,00",
    "390;2024;0A;04;Régimen general 10 %: cuota;50,00",
    "390;2024;0A;05;Régimen general 21 %: base imponible;1500,00",
    "390;2024;0A;06;Régimen general 21 %: cuota;315,00",
    "390;2024;0A;47;Total cuotas devengadas;365,00",
    "390;2024;0A;49;Operaciones interiores corrientes: cuota deducible;294,00",
    "390;2024;0A;64;Suma de deducciones;294,00",
    "390;2024;0A;65;Resultado régimen general;71,00",
    # 190 = Σ 111: bases 2.000 + 1.000 + 2.000 = 5.000; withholdings 300 + 450 = 750.
    "190;2024;0A;01;Número total de perceptores;3",
    "190;2024;0A;02;Importe total de las percepciones;5000,00",
    "190;2024;0A;03;Importe total de las retenciones e ingresos a cuenta;750,00",
    "180;2024;0A;01;Número total de perceptores;1",
    "180;2024;0A;02;Base de las retenciones;1000,00",
    "180;2024;0A;03;Retenciones e ingresos a cuenta;190,00",
]
MISSING_RECEIPT = "1800000000001"  # the 180's receipt is not exported: a warning, not an error


def filings_text(rows: list[str] = FILING_ROWS) -> str:
    return FILINGS_HEADER + "".join(r + "\n" for r in rows)


def boxes_text(rows: list[str] = BOX_ROWS) -> str:
    return BOXES_HEADER + "".join(r + "\n" for r in rows)


def replaced(rows: list[str], index: int, old: str, new: str) -> list[str]:
    """A copy of ``rows`` with one text of row ``index`` replaced (the row is line index + 2)."""
    assert old in rows[index]
    return [r.replace(old, new) if i == index else r for i, r in enumerate(rows)]


def write_company(sources: Path, code: str = "fisco", **files) -> Path:
    """A company folder with the journal, the two tax files and the receipts (override diario=, presentaciones=,
    casillas=, receipts= {number: bytes})."""
    folder = sources / code
    (folder / "impuestos" / "justificantes").mkdir(parents=True, exist_ok=True)
    (folder / "empresa.json").write_text(
        json.dumps({"nombre": "Fisco Ejemplo SL", "modelo_pgc": "pymes", "ejercicios": [2024]}), encoding="utf-8"
    )
    (folder / "diario.csv").write_text(files.get("diario", JOURNAL), encoding="utf-8")
    for name, default in (("presentaciones", filings_text()), ("casillas", boxes_text())):
        content = files.get(name, default)
        if content is not None:
            path = folder / "impuestos" / f"{name}.csv"
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    numbers = [r.split(";")[6] for r in FILING_ROWS if r.split(";")[6] != MISSING_RECEIPT]
    receipts = files.get("receipts", {n: PDF for n in numbers})
    for number, content in receipts.items():
        (folder / "impuestos" / "justificantes" / f"{number}.pdf").write_bytes(content)
    return folder


def journal_con(rows: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    """A connection with the load's ``journal`` table (rows: fiscal_year, date, entry, account, debit, credit,
    entry_type)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE journal (fiscal_year INT, date DATE, entry INT, account VARCHAR, description VARCHAR,"
        " debit DECIMAL(18,2), credit DECIMAL(18,2), entry_type VARCHAR, source_file VARCHAR, source_line INT)"
    )
    for fy, day, entry, account, debit, credit, kind in rows:
        con.execute(
            "INSERT INTO journal VALUES (?, ?, ?, ?, '', ?, ?, ?, 'diario.csv', 0)",
            [fy, day, entry, account, D(debit), D(credit), kind],
        )
    return con


def read_folder(tmp_path: Path, **files) -> list:
    """The reader's problems on a company folder (a DuckDB connection with an empty journal)."""
    folder = write_company(tmp_path / "src", **files)
    return taxes.read(journal_con(), folder, CompanyInfo(code="fisco", name="Fisco")).problems


def errors(problems: list) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in problems if p.severity == "error"]


FILINGS_FILE, BOXES_FILE = "impuestos/presentaciones.csv", "impuestos/casillas.csv"


# --- the load ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The small company loaded and published: (settings, snapshot, result)."""
    data = tmp_path_factory.mktemp("taxes") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", (result.message, result.problems)
    return settings, Store(settings.stores).current("fisco"), result


def test_a_valid_company_loads_with_one_warning_for_the_missing_receipt(published):
    _, snapshot, result = published
    assert [(p.rule, p.file, p.line, p.severity) for p in result.problems] == [
        ("tax_missing_receipt", FILINGS_FILE, 9, "warning")
    ]
    assert "justificantes/1800000000001.pdf" in result.problems[0].message
    assert {"tax_filings.parquet", "tax_boxes.parquet", "tax_receipts.parquet"} <= set(snapshot.files)
    assert snapshot.manifest["modules"]["impuestos"]["filings"] == 8
    assert snapshot.manifest["modules"]["impuestos"]["receipts"] == 7


def test_the_filings_list_by_year_and_model(published):
    _, snapshot, _ = published
    assert reports.years(snapshot) == [2024]
    assert reports.models(snapshot) == ["303", "390", "111", "190", "115", "180"]
    frame = reports.filings(snapshot, model="303")
    assert frame[["period", "result_type"]].values.tolist() == [["1T", "ingreso"], ["2T", "compensar"]]
    assert frame["amount"].tolist() == [D("176.00"), D("-105.00")]
    assert frame["filed"].tolist() == [date(2024, 4, 15), date(2024, 7, 15)]
    everything = reports.filings(snapshot, year=2024)
    assert len(everything) == 8 and everything["has_receipt"].sum() == 7
    assert reports.filings(snapshot, year=2023).empty


def test_the_vat_view_per_quarter(published):
    _, snapshot, _ = published
    frame = reports.vat_periods(snapshot, 2024)
    first, second = frame.to_dict("records")
    assert (first["base_10"], first["vat_10"], first["base_21"], first["vat_21"]) == (
        D("500.00"),
        D("50.00"),
        D("1000.00"),
        D("210.00"),
    )
    assert (first["output_vat"], first["input_base"], first["input_vat"], first["result"]) == (
        D("260.00"),
        D("400.00"),
        D("84.00"),
        D("176.00"),
    )
    assert (first["final_result"], first["result_type"]) == (D("176.00"), "ingreso")
    assert (second["output_vat"], second["input_vat"], second["final_result"]) == (
        D("105.00"),
        D("210.00"),
        D("-105.00"),
    )
    assert (second["base_4"], second["offset_before"], second["offset_applied"]) == (D(0), D(0), D(0))


def test_the_390_is_reconciled_with_the_sum_of_its_303s(published):
    _, snapshot, _ = published
    rec = reports.reconciliation(snapshot, "390", 2024)
    assert (rec.filed, rec.periods, rec.differs) == (True, 2, False)
    rows = {r["box"]: r for r in rec.rows.to_dict("records")}
    assert list(rows) == ["03", "04", "05", "06", "47", "49", "64", "65"]  # only the boxes the 390 carries
    assert (rows["05"]["annual"], rows["05"]["periods_sum"], rows["05"]["difference"]) == (
        D("1500.00"),
        D("1500.00"),
        D("0.00"),
    )
    assert rows["65"]["periods_sum"] == D("71.00") and rows["64"]["description"] == "Suma de deducciones"


def test_the_irpf_view_and_the_annual_190_and_180(published):
    _, snapshot, _ = published
    withholdings = reports.irpf_periods(snapshot, "111", 2024).to_dict("records")
    assert [(r["period"], r["recipients"], r["base"], r["withholding"], r["result"]) for r in withholdings] == [
        ("1T", D(1), D("2000.00"), D("300.00"), D("300.00")),
        ("2T", D(3), D("3000.00"), D("450.00"), D("450.00")),
    ]
    [rent] = reports.irpf_periods(snapshot, "115", 2024).to_dict("records")
    assert (rent["period"], rent["base"], rent["withholding"], rent["amount"]) == (
        "2T",
        D("1000.00"),
        D("190.00"),
        D("190.00"),
    )
    assert reports.irpf_periods(snapshot, "130", 2024).empty
    annual = reports.reconciliation(snapshot, "190", 2024)
    assert [(r["box"], r["annual"], r["periods_sum"]) for r in annual.rows.to_dict("records")] == [
        ("02", D("5000.00"), D("5000.00")),
        ("03", D("750.00"), D("750.00")),
    ]
    assert not annual.differs and not reports.reconciliation(snapshot, "180", 2024).differs


def test_the_vat_journal_check_per_quarter(published):
    _, snapshot, _ = published
    rows = reports.vat_vs_journal(snapshot).to_dict("records")
    assert [
        (r["period"], r["declared_output"], r["booked_output"], r["declared_input"], r["booked_input"]) for r in rows
    ] == [
        ("1T", D("260.00"), D("260.00"), D("84.00"), D("84.00")),
        ("2T", D("105.00"), D("105.00"), D("210.00"), D("210.00")),
    ]
    assert [r["matches"] for r in rows] == [True, True]


def test_a_receipt_is_served_by_its_number(published):
    _, snapshot, _ = published
    assert reports.receipt(snapshot, "3030000000001") == ("3030000000001.pdf", PDF)
    assert reports.receipt(snapshot, MISSING_RECEIPT) is None
    assert reports.receipt(snapshot, "' OR 1=1 --") is None


# --- cross-checks: warnings ---------------------------------------------------------------------------------------


def test_a_sale_left_out_of_the_303_warns_with_period_box_and_difference(tmp_path):
    extra = "28/02/2024;9;4300001;Factura A-9;121,00;;normal\n28/02/2024;9;7000000;Factura A-9;;100,00;normal\n"
    extra += "28/02/2024;9;4770000;Factura A-9;;21,00;normal\n"
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources, diario=JOURNAL + extra)
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published"
    [warning] = [p for p in result.problems if p.rule == "tax_vat_journal"]
    assert (warning.severity, warning.file, warning.line) == ("warning", BOXES_FILE, 6)  # box 27 of the 1T
    assert warning.message == (
        "Modelo 303 de 1T 2024: casilla 27 = 260,00 pero la cuenta 477 (haber) del diario suma 281,00 "
        "(diferencia 21,00)"
    )
    rows = reports.vat_vs_journal(Store(settings.stores).current("fisco")).to_dict("records")
    assert (rows[0]["output_difference"], rows[0]["input_difference"], rows[0]["matches"]) == (D("21.00"), D(0), False)
    assert rows[1]["matches"] is True


def test_booked_vat_leaves_out_settlements_and_year_end_entries_but_keeps_reverse_charge():
    day = date(2024, 2, 1)
    con = journal_con(
        [
            (2024, date(2024, 1, 1), 1, "4770000", "0", "493.77", "apertura"),  # a carried balance: not of the quarter
            (2024, date(2024, 1, 1), 1, "1290000", "493.77", "0", "apertura"),
            (2024, day, 2, "4770000", "0", "100.00", "normal"),  # a sale's VAT
            (2024, day, 3, "4720000", "42.00", "0", "normal"),  # intra-EU acquisition: 472 debit and 477 credit
            (2024, day, 3, "4770001", "0", "42.00", "normal"),
            (2024, date(2024, 3, 31), 4, "4770000", "142.00", "0", "normal"),  # the settlement
            (2024, date(2024, 3, 31), 4, "4720000", "0", "42.00", "normal"),
            (2024, date(2024, 3, 31), 4, "4750000", "0", "100.00", "normal"),
            (2024, date(2024, 4, 1), 5, "4770000", "0", "7.00", "normal"),  # next quarter
        ]
    )
    assert taxes.booked_vat(con, [(2024, "1T"), (2024, "02")]) == {
        (2024, "1T"): (D("142.00"), D("42.00")),
        (2024, "02"): (D("142.00"), D("42.00")),
    }
    assert taxes.booked_vat(con, [(2023, "4T")]) == {}  # outside the journal's dates: not checked


def test_an_annual_summary_that_differs_from_its_returns_warns_and_is_flagged(tmp_path):
    index = BOX_ROWS.index("390;2024;0A;47;Total cuotas devengadas;365,00")
    rows = replaced(BOX_ROWS, index, "365,00", "360,00")
    rows = replaced(rows, BOX_ROWS.index("180;2024;0A;03;Retenciones e ingresos a cuenta;190,00"), "190,00", "19,00")
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources, casillas=boxes_text(rows))
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published"
    lines = sorted(p.line for p in result.problems if p.rule == "tax_annual_sum")
    assert lines == [index + 2, BOX_ROWS.index("180;2024;0A;03;Retenciones e ingresos a cuenta;190,00") + 2]
    assert sorted(p.message for p in result.problems if p.rule == "tax_annual_sum") == [
        "Modelo 180 de 2024: casilla 03 = 19,00 pero la suma de los modelos 115 del año (03) es 190,00",
        "Modelo 390 de 2024: casilla 47 = 360,00 pero la suma de los modelos 303 del año (27) es 365,00",
    ]
    rec = reports.reconciliation(Store(settings.stores).current("fisco"), "390", 2024)
    assert rec.differs
    assert [(r["box"], r["difference"]) for r in rec.rows.to_dict("records") if r["difference"]] == [("47", D("-5.00"))]


# --- rejection rules: each names file, line, column and value ----------------------------------------------------


@pytest.mark.parametrize(
    ("index", "old", "new", "message"),
    [
        (0, "303;", "304;", "modelo «304» no es uno de: 303, 111, 115, 130, 202, 390, 190, 180, 200"),
        (0, ";1T;", ";1P;", "periodo «1P» no es válido para el modelo 303 (admite 1T–4T o 01–12)"),
        (5, ";0A;", ";4T;", "periodo «4T» no es válido para el modelo 390 (admite 0A)"),
        (0, ";2024;", ";24;", "ejercicio «24» no es un año (1990–2100)"),
        (0, "15/04/2024", "31/04/2024", "fecha_presentacion «31/04/2024» no es una fecha dd/mm/aaaa"),
        (0, "15/04/2024", "2024-04-15", "fecha_presentacion «2024-04-15» no es una fecha dd/mm/aaaa"),
        (
            0,
            ";ingreso;",
            ";pagado;",
            "tipo_resultado «pagado» no es uno de: ingreso, domiciliacion, compensar, "
            "devolucion, sin_actividad, informativa",
        ),
        (
            0,
            ";ingreso;",
            ";informativa;",
            "tipo_resultado «informativa» no corresponde al modelo 303 (debe ser un resultado (ingreso, compensar…))",
        ),
        (
            5,
            ";informativa;",
            ";ingreso;",
            "tipo_resultado «ingreso» no corresponde al modelo 390 (debe ser informativa)",
        ),
        (0, ";176,00;", ";176.00;", "importe «176.00» no es un importe (formato 1234,56)"),
        (0, ";176,00;", ";-176,00;", "importe «-176,00» debe ser mayor que cero para «ingreso»"),
        (2, ";-105,00;", ";105,00;", "importe «105,00» debe ser menor que cero para «compensar»"),
        (
            0,
            "3030000000001",
            "303000000001",
            "justificante «303000000001» debe tener 13 cifras y empezar por el modelo 303",
        ),
        (
            0,
            "3030000000001",
            "1110000000009",
            "justificante «1110000000009» debe tener 13 cifras y empezar por el modelo 303",
        ),
        (
            0,
            "AAAAAAAAAAAAAAA1",
            "AAAAAAAAAAAAAA1",
            "csv «AAAAAAAAAAAAAA1» debe tener 16 caracteres (letras mayúsculas y cifras)",
        ),
        (
            0,
            "AAAAAAAAAAAAAAA1",
            "aaaaaaaaaaaaaaa1",
            "csv «aaaaaaaaaaaaaaa1» debe tener 16 caracteres (letras mayúsculas y cifras)",
        ),
    ],
)
def test_a_bad_filing_field_is_rejected_naming_file_line_and_value(tmp_path, index, old, new, message):
    problems = read_folder(tmp_path, presentaciones=filings_text(replaced(FILING_ROWS, index, old, new)))
    assert (FILINGS_FILE, index + 2, message) in errors(problems), errors(problems)


def test_a_repeated_receipt_number_is_rejected(tmp_path):
    rows = replaced(FILING_ROWS, 3, "1110000000002", "1110000000001")
    assert errors(read_folder(tmp_path, presentaciones=filings_text(rows))) == [
        (FILINGS_FILE, 5, "justificante repetido (ya en la línea 3)")
    ]


def test_a_return_presented_twice_is_rejected(tmp_path):
    rows = replaced(FILING_ROWS, 3, ";2T;", ";1T;")
    found = errors(read_folder(tmp_path, presentaciones=filings_text(rows)))
    assert (FILINGS_FILE, 5, "Declaración (modelo, ejercicio, periodo) repetido (ya en la línea 3)") in found


@pytest.mark.parametrize(
    ("index", "old", "new", "message"),
    [
        (0, ";04;", ";4a;", "casilla «4a» no es un número de casilla (2 a 5 cifras, como en el modelo: 07, 110)"),
        (0, ";Régimen general 10 %: base imponible;", ";;", "descripcion está vacía"),
        (0, ";500,00", ";500", "importe «500» no es un importe (formato 1234,56)"),
        (
            21,
            "perceptores;1",
            "perceptores;1,00",
            "importe «1,00» de la casilla 07 debe ser un número entero de perceptores",
        ),
        (0, "303;", "309;", "modelo «309» no es uno de: 303, 111, 115, 130, 202, 390, 190, 180, 200"),
    ],
)
def test_a_bad_box_is_rejected_naming_file_line_and_value(tmp_path, index, old, new, message):
    problems = read_folder(tmp_path, casillas=boxes_text(replaced(BOX_ROWS, index, old, new)))
    assert (BOXES_FILE, index + 2, message) in errors(problems), errors(problems)


def test_a_box_of_a_return_not_presented_is_rejected(tmp_path):
    rows = [*BOX_ROWS, "115;2024;1T;03;Retenciones e ingresos a cuenta;190,00"]
    assert errors(read_folder(tmp_path, casillas=boxes_text(rows))) == [
        (
            BOXES_FILE,
            len(rows) + 1,
            "La casilla 03 es del modelo 115 de 1T 2024, que no está en presentaciones.csv (modelo;ejercicio;periodo)",
        )
    ]


def test_a_repeated_box_is_rejected(tmp_path):
    rows = [*BOX_ROWS, BOX_ROWS[4]]
    assert errors(read_folder(tmp_path, casillas=boxes_text(rows))) == [
        (BOXES_FILE, len(rows) + 1, "Casilla repetido (ya en la línea 6)")
    ]


def test_missing_file_missing_column_wrong_encoding_and_field_count_are_rejected(tmp_path):
    assert errors(read_folder(tmp_path / "a", casillas=None)) == [
        ("impuestos/casillas.csv", None, "Falta el archivo casillas.csv")
    ]
    header = FILINGS_HEADER.replace(";csv", "")
    rows = [r.rsplit(";", 1)[0] for r in FILING_ROWS]
    assert errors(read_folder(tmp_path / "b", presentaciones=header + "\n".join(rows) + "\n"))[0] == (
        FILINGS_FILE,
        1,
        "Faltan columnas: csv (cabecera)",
    )
    latin = filings_text().encode("utf-8") + "ñ".encode("latin-1")
    assert (FILINGS_FILE, 1, "El archivo no está en UTF-8") in errors(read_folder(tmp_path / "c", presentaciones=latin))
    short = filings_text([*FILING_ROWS, "303;2024;3T;15/10/2024;ingreso"])
    assert (FILINGS_FILE, 10, "La línea tiene 5 campos y la cabecera 8") in errors(
        read_folder(tmp_path / "d", presentaciones=short)
    )


def test_a_receipt_that_is_not_a_pdf_is_rejected_and_a_missing_one_only_warns(tmp_path):
    receipts = {"3030000000001": b"<html>no</html>"}
    problems = read_folder(tmp_path, receipts=receipts)
    assert errors(problems) == [("justificantes/3030000000001.pdf", None, "El justificante no es un PDF")]
    warned = [(p.line, p.rule) for p in problems if p.severity == "warning"]
    assert warned == [(line, "tax_missing_receipt") for line in (3, 4, 5, 6, 7, 8, 9)]


def test_a_company_without_the_folder_adds_nothing(tmp_path):
    folder = tmp_path / "sin"
    folder.mkdir()
    output = taxes.read(journal_con(), folder, CompanyInfo(code="sin", name="Sin"))
    assert (output.problems, output.tables) == ([], {})
    assert taxes.inputs(folder) == []


def test_the_inputs_are_the_two_files_and_the_receipts(tmp_path):
    folder = write_company(tmp_path)
    (folder / "impuestos" / "notas.txt").write_text("x", encoding="utf-8")
    names = [p.name for p in taxes.inputs(folder)]
    assert names[:2] == ["casillas.csv", "presentaciones.csv"] and len(names) == 2 + 7


# --- the generated demo -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_over_the_demo_the_only_vat_mismatch_is_norte_3t_2024(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(load, "readers", lambda: (taxes.READER,))  # this module's reader only (others are not ours)
    data = tmp_path_factory.mktemp("taxes-demo") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    generate(settings.sources, until=date(2026, 3, 15))
    results = service.load_all(settings)
    assert {r.company: r.outcome for r in results} == dict.fromkeys(
        ["duero", "ebro", "labrasa", "levante", "mediterraneo", "mgarcia", "norte", "olivo"], "published"
    )
    warned = [(r.company, p.message) for r in results for p in r.problems if p.rule.startswith("tax_")]
    assert warned == [
        (
            "norte",
            "Modelo 303 de 3T 2024: casilla 27 = 14332,92 pero la cuenta 477 (haber) del diario suma 14826,69 "
            "(diferencia 493,77)",
        )
    ]
    store = Store(settings.stores)
    differing = []
    for code in store.companies():
        if not reports.has_taxes(store.current(code)):
            continue  # a company loaded from trial balances (olivo) carries no returns
        frame = reports.vat_vs_journal(store.current(code))
        assert frame["matches"].notna().all()  # every 303 of the demo lies inside its journal
        differing += [(code, int(r.year), r.period, r.output_difference) for r in frame.itertuples() if not r.matches]
        for year in reports.years(store.current(code)):
            for model in ("390", "190", "180"):
                assert not reports.reconciliation(store.current(code), model, year).differs, (code, model, year)
    assert differing == [("norte", 2024, "3T", D("493.77"))]
