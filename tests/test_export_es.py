"""The files a user downloads are Spanish: ';', decimal comma, dd/mm/aaaa, UTF-8 with BOM, Spanish headers; Excel with
Spanish headers and real number and date cells. ``python -m reports`` keeps the machine layout."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pandas as pd

from reports import export

TABLE = pd.DataFrame(
    {
        "line_code": ["40100", "49500", "12700"],
        "label": ["Ventas", '=HIPERVINCULO("x")', "Resultado"],
        "amount": [D("1234567.5"), D("-150"), None],
        "date": [date(2025, 12, 31), pd.Timestamp("2025-01-02"), None],
        "has_receipt": [True, False, True],
    }
)


def test_the_csv_opens_as_columns_in_a_spanish_excel():
    data = export.to_csv_es(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    text = data.decode("utf-8-sig")
    assert text == (
        "Código;Partida;Importe;Fecha;Justificante disponible\r\n"
        "40100;Ventas;1234567,50;31/12/2025;sí\r\n"
        '49500;"\'=HIPERVINCULO(""x"")";-150,00;02/01/2025;no\r\n'  # a formula from the firm's data stays text
        "12700;Resultado;;;sí\r\n"
    )
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert [len(r) for r in rows] == [5, 5, 5, 5]  # one column each: nothing splits on the decimal comma


def test_headers_come_from_one_mapping_and_never_repeat():
    assert export.spanish_headers(["debit", "credit", "balance", "Ya en español"]) == [
        "Debe",
        "Haber",
        "Saldo",
        "Ya en español",
    ]
    assert export.spanish_headers(["code", "line_code"]) == ["Código", "Código (2)"]


def test_the_workbook_has_spanish_headers_and_real_number_and_date_cells():
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx({"PyG": TABLE}, title="Mano SL · PyG", stamp="a 31/12")))
    rows = list(book["PyG"].iter_rows(values_only=True))
    header = rows.index(("Código", "Partida", "Importe", "Fecha", "Justificante disponible"))
    first = book["PyG"].cell(row=header + 2, column=3)
    assert first.value == 1234567.5 and first.number_format == export.MONEY_FORMAT
    day = book["PyG"].cell(row=header + 2, column=4)
    assert day.is_date and day.value.date() == date(2025, 12, 31) and day.number_format == export.DATE_FORMAT


def test_scripts_keep_the_machine_layout():
    text = export.to_csv(TABLE[["line_code", "amount"]])
    assert text.splitlines()[:2] == ["line_code,amount", "40100,1234567.50"]
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx({"PyG": TABLE[["line_code"]]}, spanish=False)))
    assert ("line_code",) in list(book["PyG"].iter_rows(values_only=True))
