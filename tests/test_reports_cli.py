"""``python -m reports``: CSV/JSON/XLSX/table output of each command, Spanish errors and exit codes; exports."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reports import export
from reports.__main__ import main
from reports.statements import balance_sheet
from tests.reports_books import JOURNAL, load_company

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    load_company(root, "hand", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})
    return str(root / "data" / "stores")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pyg_csv_has_the_prior_year_column(capsys, store):
    code, out, _ = run(capsys, "pyg", "--company", "hand", "--store", store, "--year", "2025", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "line_code,label,amount,prior_amount"
    assert "40100,1. Importe neto de la cifra de negocios,3000.00,2000.00" in lines
    assert "49500,D) RESULTADO DEL EJERCICIO,-150.00,400.00" in lines


def test_pyg_of_a_date_range(capsys, store):
    code, out, _ = run(
        capsys,
        "pyg",
        "--company",
        "hand",
        "--store",
        store,
        "--from",
        "2025-04-01",
        "--to",
        "2025-06-30",
        "--format",
        "csv",
    )
    assert code == 0 and "49500,D) RESULTADO DEL EJERCICIO,1450.00,0.00" in out.splitlines()


def test_balance_json_uses_numbers_with_two_decimals(capsys, store):
    code, out, _ = run(
        capsys, "balance", "--company", "hand", "--store", store, "--date", "2025-12-31", "--format", "json"
    )
    assert code == 0
    assert '"amount": 13778.00' in out
    data = json.loads(out, parse_float=D)
    rows = {r["line_code"]: r for r in data["rows"]}
    assert rows["10000"]["amount"] == D("13778.00") and rows["10000"]["prior_amount"] == D("11788.00")
    assert data["meta"]["descuadre"] == "0.00"


def test_trial_balance_levels(capsys, store):
    code, out, _ = run(
        capsys,
        "trial-balance",
        "--company",
        "hand",
        "--store",
        store,
        "--date",
        "2024-12-31",
        "--level",
        "3",
        "--format",
        "csv",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "account,name,debit,credit,balance"
    assert '572,"Bancos e instituciones de crédito c/c vista, euros",10000.00,6000.00,4000.00' in lines


def test_ledger_csv_columns(capsys, store):
    code, out, _ = run(
        capsys, "ledger", "--company", "hand", "--store", store, "--account", "5720001",
        "--from", "2025-03-01", "--to", "2025-06-30", "--format", "csv",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "date,entry,description,debit,credit,balance",
        "2025-05-20,6,Nóminas,0.00,1500.00,4920.00",
        "2025-06-10,7,Préstamo a socio A,0.00,500.00,4420.00",
        "2025-06-10,7,Préstamo de socio B,300.00,0.00,4720.00",
        "2025-06-30,8,Intereses,0.00,50.00,4670.00",
    ]


def test_ratios_csv_and_readable_table(capsys, store):
    code, out, _ = run(capsys, "ratios", "--company", "hand", "--store", store, "--year", "2025", "--format", "csv")
    assert code == 0
    assert "liquidez,2.5448" in out.splitlines() and "margen_bruto,0.6667" in out.splitlines()
    code, out, _ = run(capsys, "ratios", "--company", "hand", "--store", store, "--year", "2025")
    assert code == 0 and "Liquidez general" in out and "2,5448" in out


def test_xlsx_has_real_number_cells(capsys, store, tmp_path):
    target = tmp_path / "pyg.xlsx"
    code, _, _ = run(
        capsys, "pyg", "--company", "hand", "--store", store, "--year", "2025", "--format", "xlsx", "-o", str(target)
    )
    assert code == 0
    sheet = load_workbook(target)["PyG"]
    cells = {row[0].value: row[2] for row in sheet.iter_rows() if row[0].value}
    assert cells["49500"].value == -150 and cells["49500"].data_type == "n"
    assert "€" in cells["49500"].number_format


def test_errors_are_in_spanish_with_exit_status_1(capsys, store, tmp_path):
    code, _, err = run(capsys, "balance", "--company", "nadie", "--store", store)
    assert code == 1 and "no existe" in err
    (Path(store) / "vacia" / "snapshots").mkdir(parents=True)
    code, _, err = run(capsys, "pyg", "--company", "vacia", "--store", store)
    assert code == 1 and "no tiene datos publicados" in err
    code, _, err = run(capsys, "pyg", "--company", "hand", "--store", store, "--year", "2019")
    assert code == 1 and "El ejercicio 2019 no tiene datos" in err
    code, _, err = run(capsys, "ledger", "--company", "hand", "--store", store, "--account", "zzz")
    assert code == 1 and "No hay ninguna cuenta" in err
    code, _, err = run(
        capsys, "pyg", "--company", "hand", "--store", store, "--from", "2024-06-01", "--to", "2025-06-30"
    )
    assert code == 1 and "abarca dos ejercicios" in err


def test_python_dash_m_reports_runs(store):
    out = subprocess.run(
        [sys.executable, "-m", "reports", "balance", "--company", "hand", "--store", store, "--date", "31/12/2024"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "11.788,00 €" in out.stdout and "Balance de situación PYMES" in out.stdout


def test_pdf_of_a_statement(store):
    from etl.store import Store

    snapshot = Store(Path(store)).current("hand")
    pdf = export.statement_pdf(
        balance_sheet(snapshot, __import__("datetime").date(2025, 12, 31)),
        firm="Asesoría Demo",
        company="Mano SL",
        stamp="x",
    )
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_text_that_looks_like_a_formula_is_never_a_formula(tmp_path):
    import pandas as pd

    table = pd.DataFrame({"description": ['=HYPERLINK("http://x")', "Normal"], "debit": [D("1.00"), D("-2.50")]})
    assert export.to_csv(table).splitlines()[1] == '"\'=HYPERLINK(""http://x"")",1.00'
    target = tmp_path / "t.xlsx"
    target.write_bytes(export.to_xlsx({"Hoja": table}))
    sheet = load_workbook(target)["Hoja"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet["B3"].value == -2.5 and sheet["B3"].data_type == "n"
