"""Journal reader: every export variant from tiny files, exact parsed values and every validation rule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from etl.journal import FileFormat, JournalResult, read_journal
from etl.problems import Problem, has_errors
from etl.sources import CompanyInfo

ACME = CompanyInfo("ACME", "ACME S.L.")
HEADER = "fecha;asiento;cuenta;concepto;debe;haber"
COLUMNS = "fiscal_year, date, entry, account, description, debit, credit, entry_type, source_file, source_line"


def write(tmp_path: Path, text: str, name: str = "diario.csv", *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    """A journal export in company folder ACME, written with the given encoding and line ends."""
    folder = tmp_path / "ACME"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def lines(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def read(con: duckdb.DuckDBPyConnection, *files: Path, company: CompanyInfo = ACME, **kw: bool) -> JournalResult:
    return read_journal(con, list(files), company, **kw)


def journal(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"SELECT {COLUMNS} FROM journal ORDER BY source_file, source_line").fetchall()


def only(result: JournalResult, rule: str) -> Problem:
    found = [p for p in result.problems if p.rule == rule]
    assert len(found) == 1, result.problems
    return found[0]


def rules(result: JournalResult) -> list[str]:
    return [p.rule for p in result.problems]


PURCHASE = ("15/03/2025;1;6000000;Compra material;1.234,56;", "15/03/2025;1;4000001;Compra material;;1.234,56")


# ---------------------------------------------------------------------------------------------------------------------
# Format variants


def test_semicolon_decimal_comma_and_day_month_year(con, tmp_path):
    result = read(con, write(tmp_path, lines(*PURCHASE)))
    assert result.problems == []
    assert result.rows_read == 2
    assert result.formats == [FileFormat("ACME/diario.csv", "utf-8", ";", "coma", "dd/mm/aaaa", False, 2)]
    assert journal(con) == [
        (
            2025,
            date(2025, 3, 15),
            1,
            "6000000",
            "Compra material",
            Decimal("1234.56"),
            Decimal("0.00"),
            "normal",
            "ACME/diario.csv",
            2,
        ),
        (
            2025,
            date(2025, 3, 15),
            1,
            "4000001",
            "Compra material",
            Decimal("0.00"),
            Decimal("1234.56"),
            "normal",
            "ACME/diario.csv",
            3,
        ),
    ]
    types = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'journal'").fetchall()
    assert types == [
        ("fiscal_year", "INTEGER"),
        ("date", "DATE"),
        ("entry", "BIGINT"),
        ("account", "VARCHAR"),
        ("description", "VARCHAR"),
        ("debit", "DECIMAL(18,2)"),
        ("credit", "DECIMAL(18,2)"),
        ("entry_type", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_line", "INTEGER"),
    ]


def test_comma_separator_decimal_point_iso_dates_and_english_header(con, tmp_path):
    text = "date,entry,account,description,debit,credit\n"
    text += "2025-03-15,7,6290000,Office,1234.5,\n2025-03-15,7,5720001,Office,,1234.50\n"
    result = read(con, write(tmp_path, text))
    assert result.problems == []
    assert result.formats[0] == FileFormat("ACME/diario.csv", "utf-8", ",", "punto", "aaaa-mm-dd", False, 2)
    assert [(r[2], r[3], r[5], r[6]) for r in journal(con)] == [
        (7, "6290000", Decimal("1234.50"), Decimal("0.00")),
        (7, "5720001", Decimal("0.00"), Decimal("1234.50")),
    ]


def test_tab_separator_integer_amounts_and_other_date_styles(con, tmp_path):
    text = "fecha\tasiento\tcuenta\tconcepto\tdebe\thaber\n"
    text += "5/3/2025\t3\t6000000\tA\t1500\t\n05-03-2025\t3\t4000001\tA\t\t1500\n"
    result = read(con, write(tmp_path, text))
    assert result.problems == []
    assert result.formats[0] == FileFormat("ACME/diario.csv", "utf-8", "\t", "entero", "mixto", False, 2)
    assert [(r[1], r[5], r[6]) for r in journal(con)] == [
        (date(2025, 3, 5), Decimal("1500.00"), Decimal("0.00")),
        (date(2025, 3, 5), Decimal("0.00"), Decimal("1500.00")),
    ]


def test_utf8_bom_crlf_and_negative_amounts(con, tmp_path):
    text = "\ufeff" + lines("02/01/2025;4;6260000;Comisión año;-12,50;", "02/01/2025;4;5720001;Comisión año;;-12,50")
    result = read(con, write(tmp_path, text, newline="\r\n"))
    assert result.problems == []
    assert result.formats[0].encoding == "utf-8-sig"
    assert [(r[4], r[5], r[6], r[9]) for r in journal(con)] == [
        ("Comisión año", Decimal("-12.50"), Decimal("0.00"), 2),
        ("Comisión año", Decimal("0.00"), Decimal("-12.50"), 3),
    ]


def test_windows_1252_with_euro_sign_and_thousands(con, tmp_path):
    text = lines(
        "10/01/2025;5;6280000;Luz 1.234,56 € enero;1.234,56;", "10/01/2025;5;4100001;Luz 1.234,56 € enero;;1.234,56"
    )
    path = write(tmp_path, text, encoding="cp1252")
    assert b"\x80" in path.read_bytes()
    result = read(con, path)
    assert result.problems == []
    assert result.formats[0] == FileFormat("ACME/diario.csv", "windows-1252", ";", "coma", "dd/mm/aaaa", False, 2)
    assert [(r[4], r[5], r[9]) for r in journal(con)] == [
        ("Luz 1.234,56 € enero", Decimal("1234.56"), 2),
        ("Luz 1.234,56 € enero", Decimal("0.00"), 3),
    ]


def test_windows_1252_detected_after_the_first_megabytes(con, tmp_path):
    filler = [
        f"01/02/2025;{n};6000000;Compra;1,00;" + f"\n01/02/2025;{n};4000001;Compra;;1,00" for n in range(1, 60_001)
    ]
    text = lines(*filler, "03/02/2025;60001;6000000;Pago ñandú;2,00;", "03/02/2025;60001;4000001;Pago ñandú;;2,00")
    path = write(tmp_path, text, encoding="cp1252")
    assert path.stat().st_size > 4 * 1024 * 1024 and path.read_bytes()[:4_194_304].isascii()
    result = read(con, path)
    assert result.problems == []
    assert result.formats[0].encoding == "windows-1252"
    last = con.execute("SELECT description, source_line FROM journal ORDER BY source_line DESC LIMIT 1").fetchone()
    assert last == ("Pago ñandú", 120_003)


def test_header_aliases_are_case_accent_and_space_insensitive(con, tmp_path):
    text = " Fecha ; Nº Asiento ; SUBCUENTA ; Descripción ; Cargo ; Abono ; Centro de coste\n"
    text += "15/03/2025;9;6000000;X;10,00;;A1\n15/03/2025;9;4000001;X;;10,00;A1\n"
    result = read(con, write(tmp_path, text))
    assert rules(result) == ["unknown_columns"]
    warning = result.problems[0]
    assert (warning.severity, warning.line, warning.message) == (
        "warning",
        1,
        "se ignoran las columnas: Centro de coste",
    )
    assert [(r[2], r[3], r[5]) for r in journal(con)] == [
        (9, "6000000", Decimal("10.00")),
        (9, "4000001", Decimal("0.00")),
    ]


def test_entry_type_column_values(con, tmp_path):
    text = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
    text += "15/03/2025;1;6000000;X;10,00;;N\n15/03/2025;1;4000001;X;;10,00;normal\n"
    text += "16/03/2025;2;6000000;X;10,00;;Regularización\n16/03/2025;2;4000001;X;;10,00;R\n"
    text += "17/03/2025;3;6000000;X;10,00;;\n17/03/2025;3;4000001;X;;10,00;\n"
    result = read(con, write(tmp_path, text))
    assert result.formats[0].has_type_column
    assert [(r[2], r[7]) for r in journal(con)] == [
        (1, "normal"),
        (1, "normal"),
        (2, "regularizacion"),
        (2, "regularizacion"),
        (3, "normal"),
        (3, "normal"),
    ]
    assert [p.rule for p in result.problems] == ["year_end_effect"]  # a regularización in March is suspicious


def test_xlsx_with_date_cells_numbers_and_text(con, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Fecha", "Asiento", "Cuenta", "Concepto", "Debe", "Haber"])
    sheet.append([datetime(2025, 3, 15), 12, 6000000, "Compra", 1234.56, None])
    sheet.append([datetime(2025, 3, 15), 12, 4720000, "IVA", 0.1 + 0.2, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["15/03/2025", "12", "4000001", "Compra", None, "1.234,86"])
    path = tmp_path / "ACME" / "diario.xlsx"
    path.parent.mkdir()
    book.save(path)
    result = read(con, path)
    assert result.problems == []
    assert result.formats[0] == FileFormat("ACME/diario.xlsx", "xlsx", None, "coma", "mixto", False, 3)
    assert [(r[1], r[2], r[3], r[5], r[6], r[9]) for r in journal(con)] == [
        (date(2025, 3, 15), 12, "6000000", Decimal("1234.56"), Decimal("0.00"), 2),
        (date(2025, 3, 15), 12, "4720000", Decimal("0.30"), Decimal("0.00"), 3),
        (date(2025, 3, 15), 12, "4000001", Decimal("0.00"), Decimal("1234.86"), 5),
    ]


def test_xlsx_all_numeric(con, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["fecha", "asiento", "cuenta", "concepto", "debe", "haber"])
    sheet.append([datetime(2025, 4, 1), 1, 6000000, "Compra", 99.9, None])
    sheet.append([datetime(2025, 4, 1), 1, 4000001, "Compra", None, 99.9])
    path = tmp_path / "diario.xlsx"
    book.save(path)
    result = read(con, path)
    assert result.problems == []
    assert (result.formats[0].decimal, result.formats[0].date_format) == ("número de Excel", "fecha de Excel")
    assert [(r[5], r[6]) for r in journal(con)] == [
        (Decimal("99.90"), Decimal("0.00")),
        (Decimal("0.00"), Decimal("99.90")),
    ]


def test_entry_lines_out_of_order_and_across_two_files(con, tmp_path):
    first = write(
        tmp_path, lines("20/05/2025;8;4000001;Pago;;300,00", "10/05/2025;7;6000000;Compra;100,00;"), "diario_a.csv"
    )
    second = write(
        tmp_path, lines("10/05/2025;7;4000001;Compra;;100,00", "20/05/2025;8;5720001;Pago;300,00;"), "diario_b.csv"
    )
    result = read(con, second, first)
    assert result.problems == []
    assert result.rows_read == 4
    assert [(r[8], r[9], r[2]) for r in journal(con)] == [
        ("ACME/diario_a.csv", 2, 8),
        ("ACME/diario_a.csv", 3, 7),
        ("ACME/diario_b.csv", 2, 7),
        ("ACME/diario_b.csv", 3, 8),
    ]


def test_fiscal_year_follows_the_company_start(con, tmp_path):
    company = CompanyInfo("ACME", "ACME", fiscal_year_start_month=7, fiscal_year_start_day=1)
    path = write(
        tmp_path,
        lines(
            "30/06/2025;4;6000000;A;5,00;",
            "30/06/2025;4;4000001;A;;5,00",
            "01/07/2025;4;6000000;B;5,00;",
            "01/07/2025;4;4000001;B;;5,00",
        ),
    )
    result = read(con, path, company=company)
    assert not has_errors(result.problems)
    assert [(r[0], r[2], r[1]) for r in journal(con)] == [
        (2024, 4, date(2025, 6, 30)),
        (2024, 4, date(2025, 6, 30)),
        (2025, 4, date(2025, 7, 1)),
        (2025, 4, date(2025, 7, 1)),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# Physical line numbers


def test_line_numbers_survive_blank_lines_multiline_fields_and_empty_rows(con, tmp_path):
    text = (
        HEADER + "\n"
        "01/02/2025;1;6000000;Uno;1,00;\n"  # line 2
        "\n"  # line 3: empty line (DuckDB skips it)
        '01/02/2025;1;4000001;"Dos\nlíneas";;1,00\n'  # lines 4-5: a quoted field with a newline
        ";;;;;\n"  # line 6: a row with no values
        "02/02/2025;2;6000000;Tres;2,00;\n"  # line 7
        "\r\n"  # line 8: another empty line
        "02/02/2025;2;4000001;Cuatro;;2,00\n"  # line 9
        "\n"  # line 10: trailing empty line
    )
    result = read(con, write(tmp_path, text))
    assert result.problems == []
    assert [(r[4], r[9]) for r in journal(con)] == [("Uno", 2), ("Dos\nlíneas", 4), ("Tres", 7), ("Cuatro", 9)]


def test_rejected_line_is_reported_and_later_lines_keep_their_numbers(con, tmp_path):
    text = lines(
        *PURCHASE,
        "16/03/2025;2;4000001;Cena; con amigos;;5,00",
        "17/03/2025;3;6000000;X;7,00;",
        "17/03/2025;3;4000001;X;;7,00",
    )
    result = read(con, write(tmp_path, text))
    problem = only(result, "bad_line")
    assert problem.line == 4
    assert "la línea tiene 7 columnas y la cabecera 6" in problem.message
    assert "Cena; con amigos" in problem.message
    assert [r[9] for r in journal(con)] == [2, 3, 5, 6]
    assert result.rows_read == 5


@pytest.mark.slow
def test_source_line_follows_file_order_with_two_threads(con, tmp_path):
    # ~48 MB: large enough for DuckDB to split the CSV scan and the insert across both threads.
    count = 1_200_000
    debit, credit = ";6000000;L{}", ";4000001;L{}"
    body = "".join(
        f"01/03/2025;{n // 2 + 1}"
        + (debit.format(n + 2) + ";1,00;\n" if n % 2 == 0 else credit.format(n + 2) + ";;1,00\n")
        for n in range(count)
    )
    result = read(con, write(tmp_path, HEADER + "\n" + body))
    assert result.problems == []
    wrong = con.execute("SELECT count(*) FROM journal WHERE description <> 'L' || source_line").fetchone()
    assert wrong == (0,)
    summary = con.execute("SELECT min(source_line), max(source_line), count(*) FROM journal").fetchone()
    assert summary == (2, count + 1, count)


def test_nextval_in_alter_follows_rowid(con):
    """The numbering relies on this DuckDB behaviour: ALTER ... USING nextval() walks rows in rowid order."""
    con.execute("CREATE TABLE t AS SELECT i AS x, NULL::BIGINT AS o FROM range(700000) r(i)")
    con.execute("DELETE FROM t WHERE x BETWEEN 1000 AND 1009")
    con.execute("INSERT INTO t SELECT i, NULL FROM range(5) r(i)")
    con.execute("CREATE SEQUENCE s START WITH 0 MINVALUE 0")
    con.execute("ALTER TABLE t ALTER o TYPE BIGINT USING nextval('s')")
    assert con.execute("SELECT count(*) FILTER (o <> rowid), count(*) FROM t").fetchone() == (0, 699_995)


# ---------------------------------------------------------------------------------------------------------------------
# Validation rules


def test_empty_file(con, tmp_path):
    assert rules(read(con, write(tmp_path, HEADER + "\n"))) == ["empty_file"]
    result = read(con, write(tmp_path, "", "diario_vacio.csv"))
    assert only(result, "empty_file").file == "ACME/diario_vacio.csv"


def test_missing_column(con, tmp_path):
    problem = only(
        read(con, write(tmp_path, "fecha;asiento;cuenta;concepto;debe\n01/01/2025;1;572;x;1\n")), "missing_column"
    )
    assert problem.line == 1
    assert problem.message == (
        "faltan columnas obligatorias: haber (cabecera encontrada: «fecha;asiento;cuenta;concepto;debe»)"
    )


def test_undecodable_bytes(con, tmp_path):
    path = write(tmp_path, lines(*PURCHASE), encoding="cp1252")
    path.write_bytes(path.read_bytes().replace(b"Compra material;;", b"Compra \x81material;;"))
    problem = only(read(con, path), "undecodable_bytes")
    assert (problem.file, problem.line) == ("ACME/diario.csv", 3)


def test_bad_date(con, tmp_path):
    result = read(
        con, write(tmp_path, lines("31/02/2025;1;6000000;X;1,00;", "03/15/2025;1;4000001;X;;1,00", ";2;6000000;X;;"))
    )
    found = [(p.line, p.message) for p in result.problems if p.rule == "bad_date"]
    assert found == [
        (2, "fecha «31/02/2025» no válida (se admite dd/mm/aaaa, d/m/aaaa, dd-mm-aaaa o aaaa-mm-dd)"),
        (3, "fecha «03/15/2025» no válida (se admite dd/mm/aaaa, d/m/aaaa, dd-mm-aaaa o aaaa-mm-dd)"),
        (4, "falta la fecha"),
    ]


def test_bad_amount(con, tmp_path):
    result = read(con, write(tmp_path, lines("01/04/2025;1;6000000;X;1.234,567;", "01/04/2025;1;4000001;X;;12 euros")))
    found = [(p.line, p.entry, p.message) for p in result.problems if p.rule == "bad_amount"]
    assert found == [
        (2, "2025/000001", "importe del debe «1.234,567» no válido: tiene más de dos decimales"),
        (
            3,
            "2025/000001",
            "importe del haber «12 euros» no válido (formatos admitidos: 1.234,56 · 1234,56 · 1234.56 · -12,50)",
        ),
    ]


def test_three_decimals_in_a_decimal_point_file(con, tmp_path):
    text = "fecha;asiento;cuenta;concepto;debe;haber\n01/04/2025;1;6000000;X;12.50;\n01/04/2025;1;4000001;X;;1.500\n"
    problem = only(read(con, write(tmp_path, text)), "bad_amount")
    assert problem.line == 3
    assert "«1.500» con tres decimales" in problem.message


def test_ambiguous_decimal(con, tmp_path):
    result = read(con, write(tmp_path, lines("01/04/2025;1;6000000;X;1.500;", "01/04/2025;1;4000001;X;;1.500")))
    problem = only(result, "ambiguous_decimal")
    assert problem.line == 2
    assert "«1.500»" in problem.message and "exporte el diario con dos decimales" in problem.message
    assert result.formats[0].decimal == "ambiguo"


def test_mixed_decimal_formats(con, tmp_path):
    result = read(con, write(tmp_path, lines("01/04/2025;1;6000000;X;1.234,56;", "01/04/2025;1;4000001;X;;1234.56")))
    problem = only(result, "ambiguous_decimal")
    assert problem.line == 3
    assert "coma decimal (p. ej. línea 2)" in problem.message and "«1234.56» en la línea 3" in problem.message
    assert result.formats[0].decimal == "mixto"


def test_bad_account(con, tmp_path):
    text = lines(
        "01/04/2025;1;57A;X;1,00;", "01/04/2025;1;57;X;1,00;", "01/04/2025;1;0572;X;1,00;", "01/04/2025;1;;X;;3,00"
    )
    found = [(p.line, p.message) for p in read(con, write(tmp_path, text)).problems if p.rule == "bad_account"]
    assert found == [
        (2, "cuenta «57A» no válida: solo puede tener dígitos"),
        (3, "cuenta «57» no válida: necesita al menos 3 dígitos"),
        (4, "cuenta «0572» no válida: no puede empezar por 0"),
        (5, "falta la cuenta"),
    ]


def test_account_not_in_chart(con, tmp_path):
    con.execute("CREATE TABLE accounts AS SELECT '6000000' AS account, 'Compras' AS name")
    problem = only(read(con, write(tmp_path, lines(*PURCHASE)), chart_accounts=True), "account_not_in_chart")
    assert (problem.line, problem.entry) == (3, "2025/000001")
    assert problem.message.startswith(
        "la cuenta 4000001 no está en el plan de cuentas (plan_cuentas.csv); aparece en 1 línea"
    )


def test_both_sides(con, tmp_path):
    problem = only(
        read(con, write(tmp_path, lines("01/04/2025;3;5720001;X;100,00;50,00", "01/04/2025;3;4000001;X;;50,00"))),
        "both_sides",
    )
    assert (problem.line, problem.entry) == (2, "2025/000003")
    assert "debe (100,00) y en el haber (50,00)" in problem.message


def test_bad_entry(con, tmp_path):
    result = read(con, write(tmp_path, lines("01/04/2025;A1;6000000;X;1,00;", "01/04/2025;;4000001;X;;1,00")))
    found = [(p.line, p.message) for p in result.problems if p.rule == "bad_entry"]
    assert found == [
        (2, "número de asiento «A1» no válido: debe ser un número entero"),
        (3, "falta el número de asiento"),
    ]


def test_entry_on_several_dates(con, tmp_path):
    text = lines(
        "01/04/2025;5;6000000;X;1,00;",
        "01/04/2025;5;4000001;X;;1,00",
        "02/04/2025;5;6000000;Y;2,00;",
        "02/04/2025;5;4000001;Y;;2,00",
    )
    problem = only(read(con, write(tmp_path, text)), "entry_multiple_dates")
    assert (problem.line, problem.entry) == (2, "2025/000005")
    assert (
        "asiento 2025/000005 con varias fechas: 01/04/2025 (líneas 2, 3); 02/04/2025 (líneas 4, 5)" in problem.message
    )


def test_unbalanced_entry(con, tmp_path):
    text = lines("30/06/2025;137;6000000;X;1.000,00;", "30/06/2025;137;4000001;X;;999,99")
    problem = only(read(con, write(tmp_path, text)), "unbalanced_entry")
    assert (problem.file, problem.line, problem.entry) == ("ACME/diario.csv", 2, "2025/000137")
    assert (
        problem.message
        == "asiento 2025/000137 descuadrado: debe 1.000,00 ≠ haber 999,99 (diferencia 0,01) — líneas 2, 3"
    )


def test_unbalanced_entry_across_files(con, tmp_path):
    first = write(tmp_path, lines("30/06/2025;9;6000000;X;10,00;"), "diario_1.csv")
    second = write(tmp_path, lines("30/06/2025;9;4000001;X;;9,00"), "diario_2.csv")
    problem = only(read(con, first, second), "unbalanced_entry")
    assert problem.message.endswith("— líneas ACME/diario_1.csv:2, ACME/diario_2.csv:2")


def test_date_outside_declared_fiscal_years(con, tmp_path):
    company = CompanyInfo("ACME", "ACME", fiscal_years=(2025,))
    text = lines(*PURCHASE, "31/12/2024;3;6000000;X;1,00;", "31/12/2024;3;4000001;X;;1,00")
    problem = only(read(con, write(tmp_path, text), company=company), "date_outside_fiscal_years")
    assert (problem.line, problem.entry) == (4, "2024/000003")
    assert problem.message.startswith("2 líneas con fecha del ejercicio 2024 (31/12/2024 a 31/12/2024)")
    assert "ejercicios declarados en empresa.json (2025)" in problem.message


def test_future_date_without_declared_years(con, tmp_path):
    result = read(
        con, write(tmp_path, lines(*PURCHASE, "01/01/2099;2;6000000;X;1,00;", "01/01/2099;2;4000001;X;;1,00"))
    )
    found = [(p.line, p.entry, p.message[:58]) for p in result.problems if p.rule == "date_outside_fiscal_years"]
    assert found == [
        (4, "2099/000002", "fecha 01/01/2099 posterior al final del ejercicio en curso"),
        (5, "2099/000002", "fecha 01/01/2099 posterior al final del ejercicio en curso"),
    ]


def test_bad_entry_type(con, tmp_path):
    text = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
    text += "01/04/2025;1;6000000;X;1,00;;X\n01/04/2025;1;4000001;X;;1,00;N\n"
    text += "02/04/2025;2;6000000;X;1,00;;C\n02/04/2025;2;4000001;X;;1,00;N\n"
    # An unmarked line is 'normal' inside the year, undecided (left to the year-end classification) on its last day.
    text += "15/04/2025;3;6000000;X;1,00;;R\n15/04/2025;3;4000001;X;;1,00;\n"
    text += "31/12/2025;4;6000000;X;1,00;;C\n31/12/2025;4;4000001;X;;1,00;\n"
    result = read(con, write(tmp_path, text))
    found = [(p.line, p.message) for p in result.problems if p.rule == "bad_entry_type"]
    assert found == [
        (2, "tipo de asiento «X» no reconocido (use N, A, R, C o normal, apertura, regularización, cierre)"),
        (4, "asiento 2025/000002 con tipos distintos en sus líneas (cierre, normal) — líneas 4, 5"),
        (6, "asiento 2025/000003 con tipos distintos en sus líneas (normal, regularizacion) — líneas 6, 7"),
    ]


def test_problems_are_capped_per_rule(con, tmp_path):
    text = lines(*[f"32/01/2025;{n};6000000;X;1,00;\n32/01/2025;{n};4000001;X;;1,00" for n in range(1, 126)])
    result = read(con, write(tmp_path, text))
    dates = [p for p in result.problems if p.rule == "bad_date"]
    assert len(dates) == 201
    assert dates[-1].message == "… y 50 casos más de este tipo"
    assert result.rows_read == 250


def test_table_is_replaced_on_each_read(con, tmp_path):
    read(con, write(tmp_path, lines(*PURCHASE)))
    read(con, write(tmp_path, lines("01/04/2025;2;6000000;X;3,00;", "01/04/2025;2;4000001;X;;3,00"), "diario_2.csv"))
    assert con.execute("SELECT count(*), sum(debit) FROM journal").fetchone() == (2, Decimal("3.00"))


@pytest.mark.parametrize("order", [True, False])
def test_preserve_insertion_order_is_restored(con, tmp_path, order):
    con.execute(f"SET preserve_insertion_order = {str(order).lower()}")
    read(con, write(tmp_path, lines(*PURCHASE)))
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (order,)


def test_many_empty_lines_use_the_join_numbering(con, tmp_path):
    rows = []
    for n in range(1, 81):  # 80 entries, each followed by an empty line: more corrections than a CASE takes
        rows += [f"01/03/2025;{n};6000000;E{n};1,00;", f"01/03/2025;{n};4000001;E{n};;1,00", ""]
    result = read(con, write(tmp_path, lines(*rows)))
    assert result.problems == []
    found = con.execute("SELECT description, source_line FROM journal WHERE entry IN (1, 2, 80) ORDER BY 2").fetchall()
    assert found == [("E1", 2), ("E1", 3), ("E2", 5), ("E2", 6), ("E80", 239), ("E80", 240)]


def test_quoted_fields_and_trailing_separator(con, tmp_path):
    text = '"fecha";"asiento";"cuenta";"concepto";"debe";"haber";\n'
    text += '"15/03/2025";"1";"6000000";"Compra ""urgente""; material";"1.234,56";"";\n'
    text += '"15/03/2025";"1";"4000001";"Compra";"";"1.234,56";\n'
    result = read(con, write(tmp_path, text))
    assert result.problems == []
    assert [(r[4], r[5], r[6]) for r in journal(con)] == [
        ('Compra "urgente"; material', Decimal("1234.56"), Decimal("0.00")),
        ("Compra", Decimal("0.00"), Decimal("1234.56")),
    ]


def test_unreadable_workbook(con, tmp_path):
    path = tmp_path / "ACME" / "diario.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"this is not a zip file")
    problem = only(read(con, path), "unreadable_file")
    assert problem.file == "ACME/diario.xlsx"
    assert problem.message.startswith("no se puede abrir el libro Excel")


def test_no_files_gives_an_empty_journal(con):
    result = read(con)
    assert (result.rows_read, result.problems, result.formats, result.classifications) == (0, [], [], [])
    assert journal(con) == []
