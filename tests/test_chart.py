"""Chart of accounts reader, PGC names for the journal's other accounts, and the PGC names file itself."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from etl.chart import PGC_FILE, name_accounts, read_chart
from etl.journal import read_journal
from etl.sources import CompanyInfo

ACME = CompanyInfo("ACME", "ACME S.L.")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder = tmp_path / "ACME"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def accounts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT account, name, source FROM accounts ORDER BY account").fetchall()


def test_chart_file_with_semicolons(con, tmp_path):
    path = write(
        tmp_path,
        "plan_cuentas.csv",
        "cuenta;descripcion\n5720001;Banco Santander\n4300001;Cliente Pérez S.L.\n43;Clientes\n",
    )
    assert read_chart(con, path, ACME) == []
    assert accounts(con) == [
        ("43", "Clientes", "plan"),
        ("4300001", "Cliente Pérez S.L.", "plan"),
        ("5720001", "Banco Santander", "plan"),
    ]


def test_chart_aliases_commas_and_windows_1252(con, tmp_path):
    path = write(
        tmp_path,
        "plan_cuentas.csv",
        'Código,Nombre\n6280000,"Suministros, luz y agua"\n6230000,Asesoría fiscal €\n',
        "cp1252",
    )
    assert read_chart(con, path, ACME) == []
    assert accounts(con) == [
        ("6230000", "Asesoría fiscal €", "plan"),
        ("6280000", "Suministros, luz y agua", "plan"),
    ]


def test_no_chart_file_gives_an_empty_table(con):
    assert read_chart(con, None, ACME) == []
    assert accounts(con) == []


def test_bad_codes_and_duplicates(con, tmp_path):
    text = "cuenta;descripcion\n5720001;Banco\n57A;Mal\n\n;Sin código\n5720001;Banco repetido\n0570;Cero\n"
    problems = read_chart(con, write(tmp_path, "plan_cuentas.csv", text), ACME)
    assert [(p.rule, p.line, p.severity) for p in problems] == [
        ("bad_account", 3, "error"),
        ("bad_account", 5, "error"),
        ("bad_account", 7, "error"),
        ("duplicate_account", 6, "warning"),
    ]
    assert (
        problems[0].message
        == "código de cuenta «57A» no válido en el plan de cuentas: solo dígitos y sin empezar por 0"
    )
    assert problems[1].message == "falta el código de cuenta"
    assert problems[3].message == "la cuenta 5720001 ya estaba en la línea 2; se usa el nombre de la primera"
    assert accounts(con) == [("5720001", "Banco", "plan")]


def test_missing_column_in_chart(con, tmp_path):
    problems = read_chart(con, write(tmp_path, "plan_cuentas.csv", "cuenta;saldo\n572;10\n"), ACME)
    assert [(p.rule, p.file, p.line) for p in problems] == [("missing_column", "ACME/plan_cuentas.csv", 1)]
    assert "descripción" in problems[0].message


def test_name_accounts_from_chart_then_pgc_then_unknown(con, tmp_path):
    chart = write(tmp_path, "plan_cuentas.csv", "cuenta;descripcion\n4300001;Cliente Pérez\n4751000;\n")
    assert read_chart(con, chart, ACME) == []
    journal = write(
        tmp_path,
        "diario.csv",
        "fecha;asiento;cuenta;concepto;debe;haber\n"
        "01/02/2025;1;4300001;x;10,00;\n01/02/2025;1;5720001;x;;4,00\n"
        "01/02/2025;1;4751000;x;;3,00\n01/02/2025;1;9990001;x;;3,00\n",
    )
    result = read_journal(con, [journal], ACME, chart_accounts=False)
    assert result.problems == []
    name_accounts(con)
    assert accounts(con) == [
        ("4300001", "Cliente Pérez", "plan"),
        ("4751000", "Hacienda Pública, acreedora por retenciones practicadas", "pgc"),
        ("5720001", "Bancos e instituciones de crédito c/c vista, euros", "pgc"),
        ("9990001", "Cuenta 9990001", "desconocida"),
    ]


def test_chart_drives_account_not_in_chart(con, tmp_path):
    chart = write(tmp_path, "plan_cuentas.csv", "cuenta;descripcion\n4300001;Cliente\n")
    read_chart(con, chart, ACME)
    journal = write(
        tmp_path,
        "diario.csv",
        "fecha;asiento;cuenta;concepto;debe;haber\n01/02/2025;1;4300001;x;1,00;\n01/02/2025;1;7000000;x;;1,00\n",
    )
    result = read_journal(con, [journal], ACME, chart_accounts=True)
    assert [(p.rule, p.line) for p in result.problems] == [("account_not_in_chart", 3)]


def test_pgc_names_file():
    with PGC_FILE.open(encoding="utf-8", newline="") as fh:
        names = {row["code"]: row["name"] for row in csv.DictReader(fh)}
    expected = {
        "1": "Financiación básica",
        "4": "Acreedores y deudores por operaciones comerciales",
        "57": "Tesorería",
        "129": "Resultado del ejercicio",
        "281": "Amortización acumulada del inmovilizado material",
        "400": "Proveedores",
        "430": "Clientes",
        "472": "Hacienda Pública, IVA soportado",
        "476": "Organismos de la Seguridad Social, acreedores",
        "477": "Hacienda Pública, IVA repercutido",
        "4700": "Hacienda Pública, deudora por IVA",
        "4709": "Hacienda Pública, deudora por devolución de impuestos",
        "4750": "Hacienda Pública, acreedora por IVA",
        "4751": "Hacienda Pública, acreedora por retenciones practicadas",
        "4752": "Hacienda Pública, acreedora por impuesto sobre sociedades",
        "5200": "Préstamos a corto plazo de entidades de crédito",
        "5201": "Deudas a corto plazo por crédito dispuesto",
        "572": "Bancos e instituciones de crédito c/c vista, euros",
        "623": "Servicios de profesionales independientes",
        "626": "Servicios bancarios y similares",
        "628": "Suministros",
        "630": "Impuesto sobre beneficios",
        "640": "Sueldos y salarios",
        "642": "Seguridad Social a cargo de la empresa",
        "662": "Intereses de deudas",
        "700": "Ventas de mercaderías",
    }
    assert {code: names.get(code) for code in expected} == expected
    assert all(code.isdigit() and code[0] != "0" for code in names)
    for code in names:  # every subgroup and account hangs from a listed parent
        assert len(code) == 1 or code[:-1] in names or code[:3] in names, code
    groups = sorted(code for code in names if len(code) == 1)
    assert groups == ["1", "2", "3", "4", "5", "6", "7"]
    assert sum(len(code) == 3 for code in names) > 350
