"""The tesoreria module: efectos.csv and Norma 43 rules (each rejection names file and line or account), a Norma 43
file with two accounts, the cross-checks with the journal, and the treasury reports with hand-computed figures.

The company «caja» (dates as written, ``shift`` = 0; ``today`` = 10/03/2025):

- bank A 5720001 (ES91 2100 0418 4502 0005 1332): 1.500,00 on 01/01; +1.210,00 on 05/01; −15,00 on 10/01;
  +400,00 on 10/02 → 3.095,00 on 28/02. Bank B 5720002: 300,00; −1.000,00 on 14/02 → −700,00 (overdraft).
  Both accounts are in ONE Norma 43 file. Bank balance 3.095,00 − 700,00 = 2.395,00.
- open receivables (cobro): Alfa C1 1.000 due 20/01 (49 days overdue), C2 500 due 12/03 (remesado), C7 150 due
  05/01 (64 days); Beta C3 200 due 05/03 (devuelto, 5 days), C4 300 due 01/11/2024 (impagado, 129 days), C5 700
  due 15/04; C6 400 is cobrado. Σ 2.850 = 430 at 28/02 (Alfa 1.650, Beta 1.200).
- open payables (pago): Gamma P1 250 due 10/03 (today), P2 600 due 31/03; Delta P3 80 due 28/02 (10 days); P4 1.000
  is pagado. Σ 930 = 400 + 410 at 28/02.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from csb43.aeb43 import read_batch
from csb43.aeb43.record.context import Aeb43Context
from stdnum.es import ccc

from etl import service
from etl.modules import treasury
from etl.sources import CompanyInfo
from etl.store import Store
from portal.settings import load_settings
from reports import treasury as reports

D = Decimal
TODAY = date(2025, 3, 10)
BANK_A = ("2100", "0418", "0200051332")
BANK_B = ("0049", "1500", "0123456789")


def iban(bank: tuple[str, str, str]) -> str:
    entity, branch, number = bank
    return ccc.to_iban(f"{entity}{branch}{ccc.calc_check_digits(f'{entity}{branch}00{number}')}{number}")


IBAN_A, IBAN_B = iban(BANK_A), iban(BANK_B)
ITEMS_HEADER = (
    "numero;tipo;tercero;nif;cuenta;documento;fecha_emision;fecha_vencimiento;importe;forma_pago;estado;"
    "fecha_cobro_pago\n"
)
# numero, tipo, tercero, nif, cuenta, documento, emisión, vencimiento, importe, forma, estado, cobro/pago
ITEMS = [
    ("C1", "cobro", "Alfa SL", "B46082301", "4300001", "F-1", "20/12/2024", "20/01/2025", "1000,00", "transferencia",
     "pendiente", ""),
    ("C2", "cobro", "Alfa SL", "B46082301", "4300001", "F-2", "10/02/2025", "12/03/2025", "500,00", "domiciliacion",
     "remesado", ""),
    ("C3", "cobro", "Beta SA", "A46636635", "4300002", "F-3", "05/02/2025", "05/03/2025", "200,00", "domiciliacion",
     "devuelto", ""),
    ("C4", "cobro", "Beta SA", "A46636635", "4300002", "F-4", "01/10/2024", "01/11/2024", "300,00", "transferencia",
     "impagado", ""),
    ("C5", "cobro", "Beta SA", "A46636635", "4300002", "F-5", "15/02/2025", "15/04/2025", "700,00", "pagare",
     "pendiente", ""),
    ("C6", "cobro", "Alfa SL", "B46082301", "4300001", "F-6", "10/01/2025", "10/02/2025", "400,00", "transferencia",
     "cobrado", "10/02/2025"),
    ("C7", "cobro", "Alfa SL", "B46082301", "4300001", "F-7", "05/12/2024", "05/01/2025", "150,00", "transferencia",
     "pendiente", ""),
    ("P1", "pago", "Gamma SL", "B46161493", "4000001", "G-1", "10/02/2025", "10/03/2025", "250,00", "confirming",
     "pendiente", ""),
    ("P2", "pago", "Gamma SL", "B46161493", "4000001", "G-2", "28/02/2025", "31/03/2025", "600,00", "transferencia",
     "pendiente", ""),
    ("P3", "pago", "Delta Asesores SL", "B46319877", "4100001", "D-1", "28/01/2025", "28/02/2025", "80,00",
     "transferencia", "pendiente", ""),
    ("P4", "pago", "Gamma SL", "B46161493", "4000001", "G-0", "15/01/2025", "15/02/2025", "1000,00",
     "transferencia", "pagado", "14/02/2025"),
]  # fmt: skip
# (date, entry, account, debit, credit, type)
JOURNAL = [
    ("01/01/2025", 1, "5720001", "1500,00", "0", "apertura"),
    ("01/01/2025", 1, "5720002", "300,00", "0", "apertura"),
    ("01/01/2025", 1, "4300001", "1150,00", "0", "apertura"),
    ("01/01/2025", 1, "4300002", "300,00", "0", "apertura"),
    ("01/01/2025", 1, "1000000", "0", "3250,00", "apertura"),
    ("05/01/2025", 2, "5720001", "1210,00", "0", "normal"),
    ("05/01/2025", 2, "7000000", "0", "1210,00", "normal"),
    ("10/01/2025", 3, "6260000", "15,00", "0", "normal"),
    ("10/01/2025", 3, "5720001", "0", "15,00", "normal"),
    ("10/01/2025", 4, "4300001", "400,00", "0", "normal"),
    ("10/01/2025", 4, "7000000", "0", "400,00", "normal"),
    ("15/01/2025", 5, "6000000", "1000,00", "0", "normal"),
    ("15/01/2025", 5, "4000001", "0", "1000,00", "normal"),
    ("28/01/2025", 6, "6230000", "80,00", "0", "normal"),
    ("28/01/2025", 6, "4100001", "0", "80,00", "normal"),
    ("05/02/2025", 7, "4300002", "200,00", "0", "normal"),
    ("05/02/2025", 7, "7000000", "0", "200,00", "normal"),
    ("10/02/2025", 8, "4300001", "500,00", "0", "normal"),
    ("10/02/2025", 8, "7000000", "0", "500,00", "normal"),
    ("10/02/2025", 9, "5720001", "400,00", "0", "normal"),
    ("10/02/2025", 9, "4300001", "0", "400,00", "normal"),
    ("10/02/2025", 10, "6000000", "250,00", "0", "normal"),
    ("10/02/2025", 10, "4000001", "0", "250,00", "normal"),
    ("14/02/2025", 11, "4000001", "1000,00", "0", "normal"),
    ("14/02/2025", 11, "5720002", "0", "1000,00", "normal"),
    ("15/02/2025", 12, "4300002", "700,00", "0", "normal"),
    ("15/02/2025", 12, "7000000", "0", "700,00", "normal"),
    ("28/02/2025", 13, "6000000", "600,00", "0", "normal"),
    ("28/02/2025", 13, "4000001", "0", "600,00", "normal"),
]
# Per account: bank key, opening, [(date, common concept, amount, text)], closing; all from 01/01 to 28/02/2025.
STATEMENTS = {
    "A": (BANK_A, D("1500.00"), [
        (date(2025, 1, 5), 4, D("1210.00"), "TRANSFERENCIA VENTA CONTADO"),
        (date(2025, 1, 10), 17, D("-15.00"), "COMISION MANTENIMIENTO"),
        (date(2025, 2, 10), 4, D("400.00"), "COBRO FRA F-6 ALFA SL"),
    ], D("3095.00")),
    "B": (BANK_B, D("300.00"), [(date(2025, 2, 14), 4, D("-1000.00"), "PAGO FRA G-0 GAMMA SL")], D("-700.00")),
}  # fmt: skip
START, END = date(2025, 1, 1), date(2025, 2, 28)


# --- Norma 43 records built by hand (80 characters each, latin-1, CRLF) ---------------------------------------------


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def cents(amount: Decimal) -> str:
    return f"{int(abs(amount) * 100):014d}"


def record_11(bank, start: date, end: date, opening: Decimal) -> str:
    entity, branch, number = bank
    key = "1" if opening < 0 else "2"
    return f"11{entity}{branch}{number}{yymmdd(start)}{yymmdd(end)}{key}{cents(opening)}9783{'EMPRESA CAJA SL':<26}"


def record_22(branch: str, day: date, concept: int, amount: Decimal, document: int) -> str:
    key = "1" if amount < 0 else "2"
    return f"22    {branch}{yymmdd(day)}{yymmdd(day)}{concept:02d}000{key}{cents(amount)}{document:010d}{0:012d}"


def record_33(bank, movements: list, closing: Decimal) -> str:
    entity, branch, number = bank
    debits = [m[2] for m in movements if m[2] < 0]
    credits = [m[2] for m in movements if m[2] >= 0]
    key = "1" if closing < 0 else "2"
    return (
        f"33{entity}{branch}{number}{len(debits):05d}{cents(sum(debits, D(0)))}{len(credits):05d}"
        f"{cents(sum(credits, D(0)))}{key}{cents(closing)}978"
    )


def account_records(bank, opening: Decimal, movements: list, closing: Decimal, start=START, end=END) -> list[str]:
    records = [record_11(bank, start, end, opening)]
    for number, (day, concept, amount, text) in enumerate(movements, start=1):
        records += [record_22(bank[1], day, concept, amount, number), f"2301{text}"]
    records.append(record_33(bank, movements, closing))
    return records


def n43(*accounts: list[str]) -> bytes:
    """A Norma 43 file of the given accounts' records plus the 88 record."""
    records = [r for account in accounts for r in account]
    records.append(f"88{'9' * 18}{len(records):06d}")
    assert all(len(r) <= 80 for r in records)
    return b"".join(r.ljust(80).encode("latin-1") + b"\r\n" for r in records)


def both_accounts(closing_b: Decimal = STATEMENTS["B"][3]) -> bytes:
    a, b = STATEMENTS["A"], STATEMENTS["B"]
    return n43(account_records(*a), account_records(b[0], b[1], b[2], closing_b))


# --- the company folder ---------------------------------------------------------------------------------------------


def shifted(text: str, shift: timedelta) -> str:
    return (datetime_of(text) + shift).strftime("%d/%m/%Y") if text and shift else text


def datetime_of(text: str) -> date:
    day, month, year = (int(p) for p in text.split("/"))
    return date(year, month, day)


def items_text(rows=ITEMS, shift: timedelta = timedelta(0)) -> str:
    lines = []
    for row in rows:
        values = list(row)
        for index in (6, 7, 11):
            values[index] = shifted(values[index], shift) if values[index] and "/" in values[index] else values[index]
        lines.append(";".join(values))
    return ITEMS_HEADER + "\n".join(lines) + "\n"


def journal_text(rows=JOURNAL, shift: timedelta = timedelta(0)) -> str:
    lines = ["fecha;asiento;cuenta;concepto;debe;haber;tipo"]
    for when, entry, account, debit, credit, kind in rows:
        moved = datetime_of(when) + shift
        kind = kind if kind != "apertura" or (moved.month, moved.day) == (1, 1) else "normal"
        lines.append(f"{moved:%d/%m/%Y};{entry};{account};Asiento {entry};{debit};{credit};{kind}")
    return "\n".join(lines) + "\n"


def statements_bytes(shift: timedelta = timedelta(0)) -> bytes:
    accounts = []
    for bank, opening, movements, closing in STATEMENTS.values():
        moved = [(d + shift, c, a, t) for d, c, a, t in movements]
        accounts.append(account_records(bank, opening, moved, closing, START + shift, END + shift))
    return n43(*accounts)


def write_company(
    sources: Path,
    code: str = "caja",
    *,
    shift: timedelta = timedelta(0),
    efectos: str | None = None,
    statements: dict[str, bytes] | None = None,
    banks: list[dict] | None = None,
    journal: str | None = None,
) -> Path:
    """«caja»: journal, empresa.json with two bank accounts, efectos.csv and ONE Norma 43 file with both accounts."""
    folder = sources / code
    (folder / "tesoreria").mkdir(parents=True, exist_ok=True)
    if banks is None:
        banks = [
            {"cuenta": "5720001", "iban": IBAN_A, "banco": "CaixaBank"},
            {"cuenta": "5720002", "iban": IBAN_B, "banco": "Banco Santander"},
        ]
    (folder / "empresa.json").write_text(
        json.dumps({"nombre": "Caja Ejemplo SL", "modelo_pgc": "pymes", "cuentas_bancarias": banks}), encoding="utf-8"
    )
    (folder / "diario.csv").write_text(journal or journal_text(shift=shift), encoding="utf-8")
    (folder / "tesoreria" / "efectos.csv").write_text(efectos or items_text(shift=shift), encoding="utf-8")
    year = (START + shift).year
    files = statements if statements is not None else {f"{IBAN_A}_{year}.n43": statements_bytes(shift)}
    for name, content in files.items():
        (folder / "tesoreria" / name).write_bytes(content)
    return folder


def read_folder(folder: Path):
    """The reader's output on a company folder, with its journal loaded like the ETL does."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE journal (fiscal_year INT, date DATE, entry INT, account VARCHAR, description VARCHAR,"
        " debit DECIMAL(18,2), credit DECIMAL(18,2), entry_type VARCHAR, source_file VARCHAR, source_line INT)"
    )
    for line in (folder / "diario.csv").read_text(encoding="utf-8").splitlines()[1:]:
        when, entry, account, text, debit, credit, kind = line.split(";")
        con.execute(
            "INSERT INTO journal VALUES (2025, strptime(?, '%d/%m/%Y')::DATE, ?, ?, ?, ?, ?, ?, 'diario.csv', 0)",
            [when, int(entry), account, text, D(debit.replace(",", ".")), D(credit.replace(",", ".")), kind],
        )
    return treasury.read(con, folder, CompanyInfo(code=folder.name, name=folder.name))


def errors(output) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in output.problems if p.severity == "error"]


def warnings_of(output) -> list[str]:
    return [p.message for p in output.problems if p.severity == "warning"]


# --- Norma 43: parsing, several accounts, rejection ----------------------------------------------------------------


def test_the_hand_built_norma_43_file_with_two_accounts_is_accepted_by_csb43_in_strict_mode():
    batch = read_batch(io.BytesIO(both_accounts()), context=Aeb43Context(strict=True))
    assert [a.account_number for a in batch.accounts] == ["0200051332", "0123456789"]
    assert [a.initial_balance for a in batch.accounts] == [D("1500"), D("300")]
    assert [a.summary.final_balance for a in batch.accounts] == [D("3095"), D("-700")]
    assert batch.summary.total_records == 12
    assert IBAN_A == "ES9121000418450200051332"  # the control digits csb43 computes too (domain.md §4.2)


def test_a_valid_company_reads_both_accounts_of_one_file_with_no_problem(tmp_path):
    output = read_folder(write_company(tmp_path))
    assert output.problems == []
    assert output.manifest == {"items": 11, "statements": 2, "bank_movements": 4}
    assert set(output.tables) == {"treasury_items.parquet", "bank_statements.parquet", "bank_movements.parquet"}


def test_a_statement_that_does_not_roll_forward_is_rejected_naming_file_and_account(tmp_path):
    content = both_accounts(closing_b=D("-699.00"))  # 300,00 − 1.000,00 is −700,00
    output = read_folder(write_company(tmp_path, statements={f"{IBAN_A}_2025.n43": content}))
    [(file, line, message)] = errors(output)
    assert file == f"tesoreria/{IBAN_A}_2025.n43"
    assert line == 12  # the 33 record of the second account
    assert treasury.pretty_iban(IBAN_B) in message
    assert "saldo inicial más los movimientos no da el saldo final" in message
    assert output.tables == {}


def test_a_wrong_opening_balance_does_not_roll_forward(tmp_path):
    bank, _, movements, closing = STATEMENTS["A"]
    records = account_records(bank, D("1400.00"), movements, closing)  # 1.400 + 1.610 − 15 is not 3.095
    output = read_folder(write_company(tmp_path, statements={f"{IBAN_A}_2025.n43": n43(records)}))
    [(file, line, message)] = errors(output)
    assert (file, line) == (f"tesoreria/{IBAN_A}_2025.n43", 8)
    assert message.startswith(
        "Norma 43, cuenta ES91 2100 0418 4502 0005 1332: el extracto no cuadra: el saldo inicial más los movimientos "
        "no da el saldo final"
    )


def test_the_roll_forward_is_checked_against_the_movements_too(tmp_path):
    """33 totals and balances consistent with each other but not with the 22 records: csb43 refuses it."""
    bank, opening, movements, closing = STATEMENTS["A"]
    records = account_records(bank, opening, movements, closing)
    records[1] = record_22(bank[1], date(2025, 1, 5), 4, D("1209.00"), 1)  # movement changed, 33 kept
    output = read_folder(write_company(tmp_path, statements={f"{IBAN_A}_2025.n43": n43(records)}))
    [(file, _, message)] = errors(output)
    assert file == f"tesoreria/{IBAN_A}_2025.n43" and treasury.pretty_iban(IBAN_A) in message


def test_an_account_missing_from_empresa_json_is_rejected(tmp_path):
    banks = [{"cuenta": "5720001", "iban": IBAN_A, "banco": "CaixaBank"}]
    output = read_folder(write_company(tmp_path, banks=banks))
    [(file, _, message)] = errors(output)
    assert file == f"tesoreria/{IBAN_A}_2025.n43"
    assert (
        message == f"La cuenta {treasury.pretty_iban(IBAN_B)} del extracto no está en cuentas_bancarias de empresa.json"
    )


def test_a_file_named_after_an_iban_it_does_not_hold_is_rejected(tmp_path):
    other = "ES7620770024003102575766"
    output = read_folder(write_company(tmp_path, statements={f"{other}_2025.n43": both_accounts()}))
    [(file, _, message)] = errors(output)
    assert file == f"tesoreria/{other}_2025.n43"
    assert message.startswith("El IBAN del nombre del archivo (ES76 2077 0024 0031 0257 5766) no es el de ninguna")


def test_a_badly_named_statement_file_is_rejected(tmp_path):
    output = read_folder(write_company(tmp_path, statements={"extracto.n43": both_accounts()}))
    assert errors(output) == [
        ("tesoreria/extracto.n43", None, "El nombre debe ser <IBAN>_<año>.n43 (p. ej. ES91…1332_2025.n43)")
    ]


def test_overlapping_statements_of_one_account_are_rejected(tmp_path):
    a = STATEMENTS["A"]
    files = {
        f"{IBAN_A}_2025.n43": both_accounts(),
        f"{IBAN_A}_2024.n43": n43(account_records(a[0], D("1500.00"), [], D("1500.00"), date(2024, 12, 1), START)),
    }
    output = read_folder(write_company(tmp_path, statements=files))
    [(file, _, message)] = errors(output)
    assert file == f"tesoreria/{IBAN_A}_2025.n43"
    assert message.startswith(f"El extracto de la cuenta {treasury.pretty_iban(IBAN_A)} se solapa")


def test_a_truncated_file_is_rejected_naming_the_file(tmp_path):
    content = both_accounts()[:-84]  # the 88 record cut off
    output = read_folder(write_company(tmp_path, statements={f"{IBAN_A}_2025.n43": content}))
    [(file, _, message)] = errors(output)
    assert file == f"tesoreria/{IBAN_A}_2025.n43" and message.startswith("Norma 43:")


# --- efectos.csv: one test per rejection rule ------------------------------------------------------------------------


def with_row(index: int, **changes: str) -> str:
    columns = ITEMS_HEADER.strip().split(";")
    rows = [list(r) for r in ITEMS]
    for column, value in changes.items():
        rows[index][columns.index(column)] = value
    return items_text([tuple(r) for r in rows])


@pytest.mark.parametrize(
    ("index", "changes", "message"),
    [
        (0, {"tipo": "abono"}, "tipo «abono» no es uno de: cobro, pago"),
        (0, {"cuenta": "4000001"}, "cuenta «4000001» no es una subcuenta 430 (tipo cobro)"),
        (7, {"cuenta": "5230001"}, "cuenta «5230001» no es una subcuenta 400 o 410 (tipo pago)"),
        (0, {"tercero": ""}, "tercero está vacío"),
        (0, {"numero": ""}, "numero está vacío"),
        (0, {"fecha_emision": "2024-12-20"}, "fecha_emision «2024-12-20» no es una fecha dd/mm/aaaa"),
        (0, {"fecha_vencimiento": "31/02/2025"}, "fecha_vencimiento «31/02/2025» no es una fecha dd/mm/aaaa"),
        (0, {"fecha_vencimiento": "19/12/2024"}, "fecha_vencimiento «19/12/2024» es anterior a fecha_emision «20/12/2024»"),  # noqa: E501
        (0, {"importe": "1.000,00"}, "importe «1.000,00» no es un importe (formato 1234,56)"),
        (0, {"importe": "0,00"}, "importe «0,00» debe ser mayor que cero"),
        (0, {"forma_pago": "efectivo"}, "forma_pago «efectivo» no es uno de: transferencia, domiciliacion, pagare, confirming"),  # noqa: E501
        (7, {"estado": "cobrado"}, "estado «cobrado» no es uno de: pendiente, remesado, impagado, devuelto, pagado"),
        (5, {"fecha_cobro_pago": ""}, "fecha_cobro_pago está vacía y el estado es «cobrado» (debe indicar la fecha)"),
        (0, {"fecha_cobro_pago": "21/01/2025"}, "fecha_cobro_pago «21/01/2025» debe estar vacía mientras el estado es «pendiente»"),  # noqa: E501
        (5, {"fecha_cobro_pago": "09/01/2025"}, "fecha_cobro_pago «09/01/2025» es anterior a fecha_emision «10/01/2025»"),  # noqa: E501
        (1, {"numero": "C1"}, "numero «C1» repetido (ya en la línea 2)"),
    ],
)  # fmt: skip
def test_each_efectos_rule_rejects_naming_file_and_line(tmp_path, index, changes, message):
    output = read_folder(write_company(tmp_path, efectos=with_row(index, **changes)))
    assert errors(output) == [("tesoreria/efectos.csv", index + 2, message)]
    assert output.tables == {}


def test_missing_columns_and_wrong_field_counts_are_rejected(tmp_path):
    short = ITEMS_HEADER.replace(";fecha_cobro_pago", "") + "C1;cobro\n"
    assert errors(read_folder(write_company(tmp_path / "a", efectos=short))) == [
        ("tesoreria/efectos.csv", 1, "Faltan columnas: fecha_cobro_pago (cabecera)")
    ]
    extra = items_text().replace("F-3;", "F-3;x;", 1)
    assert errors(read_folder(write_company(tmp_path / "b", efectos=extra))) == [
        ("tesoreria/efectos.csv", 4, "La línea tiene 13 campos y la cabecera 12")
    ]


# --- cross-checks with the journal: warnings -------------------------------------------------------------------------


def test_receivables_and_payables_that_differ_from_430_and_400_410_warn(tmp_path):
    efectos = with_row(0, importe="1100,00")  # C1 100,00 more than booked
    output = read_folder(write_company(tmp_path, efectos=efectos))
    assert errors(output) == []
    assert warnings_of(output) == [
        "A 28/02/2025: los cobros pendientes suman 2950,00 pero el saldo de 430 del diario es 2850,00 "
        "(diferencia 100,00)"
    ]
    settled = with_row(10, estado="pendiente", fecha_cobro_pago="")  # P4 still open: 1.000,00 more payables
    output = read_folder(write_company(tmp_path / "b", efectos=settled))
    assert warnings_of(output) == [
        "A 28/02/2025: los pagos pendientes suman 1930,00 pero el saldo de 400 + 410 del diario es 930,00 "
        "(diferencia 1000,00)"
    ]


def test_bank_movements_that_differ_from_the_572_journal_lines_warn(tmp_path):
    journal = journal_text([r for r in JOURNAL if r[1] != 3])  # the 15,00 commission not booked
    output = read_folder(write_company(tmp_path, journal=journal))
    assert errors(output) == []
    assert warnings_of(output) == [
        f"Cuenta {treasury.pretty_iban(IBAN_A)} (5720001), 10/01/2025: movimientos del banco -15,00, "
        "apuntes de la 5720001 en el diario 0,00"
    ]


# --- reports on the published snapshot ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    data = tmp_path_factory.mktemp("treasury") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["caja"])
    assert result.outcome == "published", result.message
    assert result.warnings == 0
    return Store(settings.stores).current("caja")


def money_of(frame, column: str) -> list[Decimal]:
    return list(frame[column])


def test_ageing_of_receivables_by_counterparty_and_bucket(snapshot):
    frame = reports.ageing(snapshot, "cobro", TODAY)
    assert list(frame["counterparty"]) == ["Alfa SL", "Beta SA"]
    assert list(frame["items"]) == [3, 3]
    assert money_of(frame, "total") == [D("1650.00"), D("1200.00")]
    assert money_of(frame, "overdue") == [D("1150.00"), D("500.00")]
    assert money_of(frame, "not_due") == [D("500.00"), D("700.00")]
    assert money_of(frame, "overdue_1_30") == [D("0.00"), D("200.00")]
    assert money_of(frame, "overdue_31_60") == [D("1000.00"), D("0.00")]
    assert money_of(frame, "overdue_61_90") == [D("150.00"), D("0.00")]
    assert money_of(frame, "overdue_over_90") == [D("0.00"), D("300.00")]
    assert reports.ageing_totals(frame) == {
        "total": D("2850.00"),
        "overdue": D("1650.00"),
        "not_due": D("1200.00"),
        "overdue_1_30": D("200.00"),
        "overdue_31_60": D("1000.00"),
        "overdue_61_90": D("150.00"),
        "overdue_over_90": D("300.00"),
    }


def test_ageing_of_payables_an_item_due_today_is_not_overdue(snapshot):
    frame = reports.ageing(snapshot, "pago", TODAY)
    assert list(frame["counterparty"]) == ["Gamma SL", "Delta Asesores SL"]
    assert money_of(frame, "total") == [D("850.00"), D("80.00")]
    assert money_of(frame, "overdue") == [D("0.00"), D("80.00")]
    assert money_of(frame, "overdue_1_30") == [D("0.00"), D("80.00")]


@pytest.mark.parametrize(
    ("days", "numbers"), [(7, ["P1", "C2"]), (30, ["P1", "C2", "P2"]), (90, ["P1", "C2", "P2", "C5"])]
)
def test_upcoming_lists_overdue_first_then_the_window(snapshot, days, numbers):
    frame = reports.upcoming(snapshot, TODAY, days)
    assert list(frame["number"]) == ["C4", "C7", "C1", "P3", "C3", *numbers]
    assert list(frame["overdue"]) == [True] * 5 + [False] * len(numbers)
    assert list(reports.upcoming(snapshot, TODAY, days, with_overdue=False)["number"]) == numbers


def test_due_calendar_per_day(snapshot):
    frame = reports.due_calendar(snapshot, TODAY, 30)
    assert [(r.date, r.collections, r.payments, r.net, r.items) for r in frame.itertuples()] == [
        (date(2025, 3, 10), D("0.00"), D("250.00"), D("-250.00"), 1),
        (date(2025, 3, 12), D("500.00"), D("0.00"), D("500.00"), 1),
        (date(2025, 3, 31), D("0.00"), D("600.00"), D("-600.00"), 1),
    ]


def test_bank_balances_and_daily_evolution(snapshot):
    accounts = reports.bank_accounts(snapshot)
    assert [(r.account, r.iban, r.bank, r.last_date, r.balance) for r in accounts.itertuples()] == [
        ("5720001", IBAN_A, "CaixaBank", END, D("3095.00")),
        ("5720002", IBAN_B, "Banco Santander", END, D("-700.00")),
    ]
    assert reports.bank_balance(snapshot) == D("2395.00")
    daily = reports.daily_balances(snapshot)
    assert len(daily) == 2 * 59  # every day of January and February for both accounts
    mine = daily[daily["account"] == "5720001"]
    a = dict(zip(mine["date"], mine["balance"], strict=True))
    assert [a[date(2025, 1, d)] for d in (1, 4, 5, 9, 10)] == [
        D("1500.00"),
        D("1500.00"),
        D("2710.00"),
        D("2710.00"),
        D("2695.00"),
    ]
    assert [a[date(2025, 2, d)] for d in (9, 10, 28)] == [D("2695.00"), D("3095.00"), D("3095.00")]
    b = daily[daily["account"] == "5720002"]
    assert list(b.loc[b["date"].isin([date(2025, 2, 13), date(2025, 2, 14)]), "balance"]) == [D("300.00"), D("-700.00")]
    assert len(reports.daily_balances(snapshot, start=date(2025, 2, 1))) == 2 * 28


def test_thirteen_week_forecast(snapshot):
    result = reports.forecast(snapshot, TODAY)
    assert result.start_balance == D("2395.00")
    weeks = result.weeks
    assert len(weeks) == 13
    assert (weeks["start"][0], weeks["end"][0]) == (date(2025, 3, 10), date(2025, 3, 16))
    assert (weeks["start"][12], weeks["end"][12]) == (date(2025, 6, 2), date(2025, 6, 8))
    # week 1: overdue C1 1.000 + C7 150 + C3 200 and C2 500 due 12/03; payments: overdue P3 80 and P1 250 (today)
    assert (weeks["collections"][0], weeks["payments"][0], weeks["balance"][0]) == (
        D("1850.00"),
        D("330.00"),
        D("3915.00"),
    )
    assert weeks["payments"][3] == D("600.00") and weeks["collections"][5] == D("700.00")  # P2 31/03, C5 15/04
    assert list(weeks["balance"]) == [D("3915.00")] * 3 + [D("3315.00")] * 2 + [D("4015.00")] * 8
    assert (result.excluded_collections, result.excluded_payments) == (D("300.00"), D("0.00"))  # C4 impagado


def test_cartera_check_against_430_and_400_410(snapshot):
    check = reports.cartera_check(snapshot)
    assert check.as_of == END
    assert (check.receivables, check.ledger_receivables) == (D("2850.00"), D("2850.00"))
    assert (check.payables, check.ledger_payables) == (D("930.00"), D("930.00"))
    assert [(r.account, r.kind, r.cartera, r.ledger) for r in check.detail.itertuples()] == [
        ("4000001", "pago", D("850.00"), D("850.00")),
        ("4100001", "pago", D("80.00"), D("80.00")),
        ("4300001", "cobro", D("1650.00"), D("1650.00")),
        ("4300002", "cobro", D("1200.00"), D("1200.00")),
    ]


def test_cartera_check_flags_a_difference(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources, efectos=with_row(0, importe="1100,00"))
    [result] = service.load_all(settings, companies=["caja"])
    assert result.outcome == "published" and result.warnings == 1
    check = reports.cartera_check(Store(settings.stores).current("caja"))
    assert check.receivables_difference == D("100.00") and check.payables_difference == D("0.00")
    assert [(r.account, r.difference) for r in check.detail.itertuples() if r.difference] == [("4300001", D("100.00"))]


def test_home_summary(snapshot):
    summary = reports.home_summary(snapshot, TODAY)
    assert summary == reports.TreasurySummary(
        bank_balance=D("2395.00"), overdue_receivables=D("1650.00"), overdue_count=4
    )
    assert reports.home_summary(snapshot, date(2024, 12, 1)).overdue_count == 1  # only C4 was overdue then


def test_buckets_are_defined_by_days_overdue():
    assert [reports.bucket_of(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91)] == [
        "not_due",
        "not_due",
        "overdue_1_30",
        "overdue_1_30",
        "overdue_31_60",
        "overdue_31_60",
        "overdue_61_90",
        "overdue_61_90",
        "overdue_over_90",
    ]
