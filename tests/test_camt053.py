"""camt.053 statements under tesoreria/: read into the Norma 43 tables, the same checks, safe parsing, the demo.

Figures by hand. Company «caja» of tests/test_treasury.py (bank A 5720001, bank B 5720002) unless said otherwise;
the small journal JANUARY below: bank A opens 1.000,00 on 01/01/2025, +250,00 on 10/01, −75,50 on 20/01 → 1.174,50.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.demo import generate
from etl.demo.modules import CAMT053_BANKS
from etl.modules import camt053, treasury
from etl.store import Store
from portal.settings import load_settings
from reports import treasury as reports
from tests.test_treasury import (
    IBAN_A,
    IBAN_B,
    ITEMS_HEADER,
    STATEMENTS,
    account_records,
    errors,
    journal_text,
    n43,
    read_folder,
    warnings_of,
    write_company,
)

D = Decimal
V02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
V08 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
JANUARY = [
    ("01/01/2025", 1, "5720001", "1000,00", "0", "apertura"),
    ("01/01/2025", 1, "1000000", "0", "1000,00", "apertura"),
    ("10/01/2025", 2, "5720001", "250,00", "0", "normal"),
    ("10/01/2025", 2, "7000000", "0", "250,00", "normal"),
    ("20/01/2025", 3, "6260000", "75,50", "0", "normal"),
    ("20/01/2025", 3, "5720001", "0", "75,50", "normal"),
]
ENTRIES = [(date(2025, 1, 10), D("250.00"), "COBRO FRA F-1 ALFA SL"), (date(2025, 1, 20), D("-75.50"), "COMISION")]


# --- camt.053 written by hand ---------------------------------------------------------------------------------------


def amount(value: Decimal) -> str:
    return f'<Amt Ccy="EUR">{abs(value):.2f}</Amt><CdtDbtInd>{"DBIT" if value < 0 else "CRDT"}</CdtDbtInd>'


def entry(day: date, value: Decimal, text: str, reference: str, *, v08: bool = False) -> str:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if v08 else "<Sts>BOOK</Sts>"
    when = f"<DtTm>{day}T09:30:00+01:00</DtTm>" if v08 else f"<Dt>{day}</Dt>"
    return (
        f"<Ntry><NtryRef>{reference}</NtryRef>{amount(value)}{status}<BookgDt>{when}</BookgDt>"
        f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BANK-{reference}</AcctSvcrRef>"
        "<BkTxCd><Prtry><Cd>02000</Cd><Issr>AEB</Issr></Prtry></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{reference}</EndToEndId></Refs>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def stmt(
    ident: str,
    iban: str,
    opening: Decimal,
    closing: Decimal,
    entries: list = ENTRIES,
    start: date = date(2025, 1, 1),
    end: date = date(2025, 1, 31),
    *,
    v08: bool = False,
    period: bool = True,
) -> str:
    """One Stmt: OPBD dated ``start`` (v08: PRCD dated the day before, no FrToDt when ``period`` is False)."""
    opening_code, opening_day = ("PRCD", date.fromordinal(start.toordinal() - 1)) if v08 else ("OPBD", start)
    dates = f"<FrToDt><FrDtTm>{start}T00:00:00</FrDtTm><ToDtTm>{end}T23:59:59</ToDtTm></FrToDt>" if period else ""
    lines = [
        f"<Stmt><Id>{ident}</Id><CreDtTm>{end}T23:59:59</CreDtTm>{dates}",
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy><Ownr><Nm>Caja Ejemplo SL</Nm></Ownr></Acct>",
        f"<Bal><Tp><CdOrPrtry><Cd>{opening_code}</Cd></CdOrPrtry></Tp>{amount(opening)}"
        f"<Dt><Dt>{opening_day}</Dt></Dt></Bal>",
        f"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>{amount(closing)}<Dt><Dt>{end}</Dt></Dt></Bal>",
        *(entry(d, v, t, f"{ident}-{n}", v08=v08) for n, (d, v, t) in enumerate(entries, start=1)),
        "</Stmt>",
    ]
    return "\n".join(lines)


def camt(*statements: str, namespace: str = V02, prolog: str = "") -> bytes:
    """A camt.053 Document (one line per element group, so that line numbers are predictable)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<Document xmlns="{namespace}">\n<BkToCstmrStmt>\n'
        "<GrpHdr><MsgId>M-1</MsgId><CreDtTm>2025-02-01T06:00:00</CreDtTm></GrpHdr>\n"
        + "\n".join(statements)
        + "\n</BkToCstmrStmt>\n</Document>\n"
    ).encode()


def january_company(tmp_path: Path, files: dict[str, bytes], **changes) -> Path:
    """«caja» with the JANUARY journal, no cartera items and the given statement files."""
    return write_company(tmp_path, statements=files, efectos=ITEMS_HEADER, journal=journal_text(JANUARY), **changes)


JANUARY_CAMT = camt(stmt("E-1", IBAN_A, D("1000.00"), D("1174.50")))
NAME = "tesoreria/extracto_enero.xml"


# --- reading ----------------------------------------------------------------------------------------------------------


def test_a_hand_written_statement_is_read_into_the_norma_43_tables(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    january_company(settings.sources, {"extracto_enero.xml": JANUARY_CAMT})
    [result] = service.load_all(settings, companies=["caja"])
    assert (result.outcome, result.warnings) == ("published", 0), result.message
    snapshot = Store(settings.stores).current("caja")
    con = duckdb.connect()
    [row] = con.execute(
        "SELECT iban, account, bank, file, start_date, end_date, opening_balance, closing_balance, currency,"
        " income_count, income, expense_count, expense, movements, holder FROM read_parquet(?)",
        [str(snapshot.file(reports.STATEMENTS))],
    ).fetchall()
    assert row == (
        IBAN_A, "5720001", "CaixaBank", NAME, date(2025, 1, 1), date(2025, 1, 31), D("1000.00"), D("1174.50"), "EUR",
        1, D("250.00"), 1, D("75.50"), 2, "Caja Ejemplo SL",
    )  # fmt: skip
    moves = con.execute(
        "SELECT sequence, operation_date, value_date, common_concept, own_concept, amount, document_number,"
        " reference1, reference2, concept, balance FROM read_parquet(?) ORDER BY sequence",
        [str(snapshot.file(reports.MOVEMENTS))],
    ).fetchall()
    assert moves == [
        (1, date(2025, 1, 10), date(2025, 1, 10), 2, 0, D("250.00"), "E-1-1", "BANK-E-1-1", "E2E-E-1-1",
         "COBRO FRA F-1 ALFA SL", D("1250.00")),
        (2, date(2025, 1, 20), date(2025, 1, 20), 2, 0, D("-75.50"), "E-1-2", "BANK-E-1-2", "E2E-E-1-2", "COMISION",
         D("1174.50")),
    ]  # fmt: skip
    assert reports.bank_balance(snapshot) == D("1174.50")
    assert snapshot.manifest["modules"]["tesoreria"]["camt053"] == [
        {"file": NAME, "statement_id": "E-1", "iban": IBAN_A, "account": "5720001", "start_date": "2025-01-01",
         "end_date": "2025-01-31"}
    ]  # fmt: skip


def test_a_statement_that_does_not_roll_forward_names_file_and_statement(tmp_path):
    content = camt(stmt("E-1", IBAN_A, D("1000.00"), D("1175.00")))  # 1.000,00 + 250,00 − 75,50 is 1.174,50
    output = read_folder(january_company(tmp_path, {"extracto_enero.xml": content}))
    assert errors(output) == [
        (
            NAME,
            5,  # the <Stmt> line
            f"camt.053, extracto «E-1», cuenta {treasury.pretty_iban(IBAN_A)}: el extracto no cuadra: saldo inicial "
            "1000,00 + movimientos 174,50 = 1174,50 pero el saldo final es 1175,00",
        )
    ]
    assert output.tables == {}


def test_a_bad_entry_is_named_by_statement_position_and_line(tmp_path):
    content = JANUARY_CAMT.replace(b'<Amt Ccy="EUR">75.50</Amt>', b'<Amt Ccy="EUR">75,50</Amt>')
    [(file, line, message)] = errors(read_folder(january_company(tmp_path, {"extracto_enero.xml": content})))
    assert (file, line) == (NAME, 10)
    assert message == (
        f"camt.053, extracto «E-1», cuenta {treasury.pretty_iban(IBAN_A)}, apunte 2 (línea 10): importe «75,50» no es "
        "un importe (formato 1234.56)"
    )


BILLION_LAUGHS = (
    '<!DOCTYPE Document [<!ENTITY a "ja"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
)


@pytest.mark.parametrize("kind", ["xxe", "billion_laughs"])
def test_a_doctype_or_entity_is_rejected_before_parsing(tmp_path, monkeypatch, kind):
    secret = tmp_path / "secreto.txt"
    secret.write_text("SECRETO-123", encoding="utf-8")
    prolog = f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>\n' if kind == "xxe" else BILLION_LAUGHS
    reference = "&x;" if kind == "xxe" else "&c;"
    content = camt(
        stmt("E-1", IBAN_A, D("1000.00"), D("1174.50"), [(date(2025, 1, 10), D("0"), reference)]), prolog=prolog
    )

    def never(*_args, **_kwargs):
        raise AssertionError("the XML parser must not run")

    monkeypatch.setattr(camt053.etree, "fromstring", never)
    output = read_folder(january_company(tmp_path / "c", {"extracto_enero.xml": content}))
    assert errors(output) == [
        (NAME, 2, "camt.053: el XML declara un DOCTYPE o entidades (<!DOCTYPE/<!ENTITY), no se admiten")
    ]
    assert all("SECRETO" not in p.message for p in output.problems)


def test_the_parser_itself_never_expands_entities_nor_reads_files(tmp_path):
    """Second line of defence, should the declaration check be bypassed: lxml with the reader's options."""
    secret = tmp_path / "secreto.txt"
    secret.write_text("SECRETO-123", encoding="utf-8")
    xml = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode()
    parser = camt053.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = camt053.etree.fromstring(xml, parser)
    assert b"SECRETO" not in camt053.etree.tostring(root)


def test_an_oversized_file_is_rejected_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(camt053, "MAX_BYTES", 100)
    output = read_folder(january_company(tmp_path, {"extracto_enero.xml": JANUARY_CAMT}))
    [(file, _, message)] = errors(output)
    assert file == NAME and message.startswith("camt.053: el archivo ocupa") and "máximo de 100" in message


def test_an_unknown_iban_is_the_same_error_as_in_norma_43(tmp_path):
    banks = [{"cuenta": "5720001", "iban": IBAN_A, "banco": "CaixaBank"}]
    content = camt(stmt("E-9", IBAN_B, D("0.00"), D("0.00"), []))
    output = read_folder(january_company(tmp_path, {"extracto_enero.xml": content}, banks=banks))
    assert [(f, m) for f, _, m in errors(output)] == [
        (NAME, f"La cuenta {treasury.pretty_iban(IBAN_B)} del extracto no está en cuentas_bancarias de empresa.json")
    ]


def test_a_debit_opening_balance_is_an_overdraft_version_08_prcd_and_datetimes(tmp_path):
    """v08 namespace, Sts/Cd, BookgDt/DtTm, PRCD dated 31/12/2024 and no FrToDt: the period is 01/01–31/01."""
    moves = [(date(2025, 1, 10), D("250.00"), "INGRESO"), (date(2025, 1, 20), D("-75.50"), "COMISION")]
    content = camt(stmt("S-1", IBAN_B, D("-300.00"), D("-125.50"), moves, v08=True, period=False), namespace=V08)
    [found] = camt053.parse_bytes(content)
    assert (found["start_date"], found["end_date"]) == (date(2025, 1, 1), date(2025, 1, 31))
    assert (found["opening_balance"], found["closing_balance"]) == (D("-300.00"), D("-125.50"))  # −300 + 250 − 75,50
    assert [m["operation_date"] for m in found["movements"]] == [date(2025, 1, 10), date(2025, 1, 20)]
    journal = journal_text(
        [
            ("01/01/2025", 1, "5720002", "0", "300,00", "apertura"),
            ("01/01/2025", 1, "1000000", "300,00", "0", "apertura"),
            ("10/01/2025", 2, "5720002", "250,00", "0", "normal"),
            ("10/01/2025", 2, "7000000", "0", "250,00", "normal"),
            ("20/01/2025", 3, "6260000", "75,50", "0", "normal"),
            ("20/01/2025", 3, "5720002", "0", "75,50", "normal"),
        ]
    )
    output = read_folder(write_company(tmp_path, statements={"b.xml": content}, efectos=ITEMS_HEADER, journal=journal))
    assert output.problems == []


def test_two_statements_in_one_file_two_accounts_and_two_months(tmp_path):
    content = camt(
        stmt("A-01", IBAN_A, D("1000.00"), D("1174.50")),
        stmt("B-01", IBAN_B, D("0.00"), D("0.00"), []),
        stmt("A-02", IBAN_A, D("1174.50"), D("1174.50"), [], date(2025, 2, 1), date(2025, 2, 28)),
    )
    assert [(s["statement_id"], s["iban"]) for s in camt053.parse_bytes(content)] == [
        ("A-01", IBAN_A),
        ("B-01", IBAN_B),
        ("A-02", IBAN_A),
    ]
    output = read_folder(january_company(tmp_path, {"extracto.xml": content}))
    assert output.problems == []
    assert output.manifest["statements"] == 3 and output.manifest["bank_movements"] == 2
    assert [s["statement_id"] for s in output.manifest["camt053"]] == ["A-01", "B-01", "A-02"]


def test_a_gap_in_the_chain_of_one_file_warns_naming_the_statement(tmp_path):
    content = camt(
        stmt("A-01", IBAN_A, D("1000.00"), D("1174.50")),
        stmt("A-02", IBAN_A, D("1170.00"), D("1170.00"), [], date(2025, 2, 1), date(2025, 2, 28)),
    )
    output = read_folder(january_company(tmp_path, {"extracto.xml": content}))
    assert errors(output) == []
    assert (
        f"El saldo inicial del extracto «A-02» de la cuenta {treasury.pretty_iban(IBAN_A)} (1170,00) no es el saldo "
        "final de tesoreria/extracto.xml (extracto «A-01») (1174,50)"
    ) in warnings_of(output)


def n43_of_account_a() -> bytes:
    """Account A of tests/test_treasury.py as Norma 43: 01/01–28/02/2025, 1.500,00 → 3.095,00."""
    return n43(account_records(*STATEMENTS["A"]))


def test_a_camt_statement_overlapping_a_norma_43_of_the_same_account_is_rejected(tmp_path):
    content = camt(stmt("A-02", IBAN_A, D("3095.00"), D("3095.00"), [], date(2025, 2, 1), date(2025, 2, 28)))
    files = {f"{IBAN_A}_2025.n43": n43_of_account_a(), "marzo.xml": content}
    banks = [{"cuenta": "5720001", "iban": IBAN_A, "banco": "CaixaBank"}]
    output = read_folder(write_company(tmp_path, statements=files, banks=banks, efectos=ITEMS_HEADER))
    assert errors(output) == [
        (
            "tesoreria/marzo.xml",
            5,
            f"El extracto «A-02» de la cuenta {treasury.pretty_iban(IBAN_A)} se solapa con el de "
            f"tesoreria/{IBAN_A}_2025.n43 (hasta el 28/02/2025)",
        )
    ]


def test_a_camt_statement_continuing_a_norma_43_chains_with_it(tmp_path):
    content = camt(stmt("A-03", IBAN_A, D("3095.00"), D("3095.00"), [], date(2025, 3, 1), date(2025, 3, 31)))
    files = {f"{IBAN_A}_2025.n43": n43_of_account_a(), "marzo.xml": content}
    banks = [{"cuenta": "5720001", "iban": IBAN_A, "banco": "CaixaBank"}]
    output = read_folder(write_company(tmp_path, statements=files, banks=banks, efectos=ITEMS_HEADER))
    assert output.problems == []
    assert output.manifest["statements"] == 2 and [s["statement_id"] for s in output.manifest["camt053"]] == ["A-03"]


def test_an_xml_that_is_not_a_camt_053_is_left_unread_with_a_warning(tmp_path):
    other = b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>\n'
    output = read_folder(january_company(tmp_path, {"extracto_enero.xml": JANUARY_CAMT, "aviso.xml": other}))
    assert errors(output) == []
    assert warnings_of(output) == [
        "El XML no es un extracto camt.053 (Document/BkToCstmrStmt de ISO 20022): no se ha leído"
    ]
    assert output.manifest["statements"] == 1


# --- the demo -------------------------------------------------------------------------------------------------------


def test_the_demo_camt_053_account_equals_the_572_of_its_journal(tmp_path):
    """mediterraneo's BBVA (5720002, the overdrawn account) is written as camt.053: loaded with the ETL, each monthly
    statement's opening and closing balances and each day's movements are those of 5720002 in the journal."""
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    generate(settings.sources, until=date(2025, 3, 15))
    assert ("mediterraneo", "5720002") in CAMT053_BANKS
    [result] = service.load_all(settings, companies=["mediterraneo"])
    assert result.outcome == "published", result.message
    snapshot = Store(settings.stores).current("mediterraneo")
    camt = snapshot.manifest["modules"]["tesoreria"]["camt053"]
    assert len(camt) == 27 and {s["account"] for s in camt} == {"5720002"}  # January 2023 to March 2025
    con = duckdb.connect()
    con.execute(f"CREATE VIEW journal AS SELECT * FROM read_parquet('{snapshot.file('journal.parquet')}')")
    statements = con.execute(
        "SELECT start_date, end_date, opening_balance, closing_balance FROM read_parquet(?)"
        " WHERE account = '5720002' ORDER BY start_date",
        [str(snapshot.file(reports.STATEMENTS))],
    ).fetchall()
    assert len(statements) == 27
    for start, end, opening, closing in statements:
        assert treasury.ledger_balance(con, ("5720002",), start, start=True) == opening
        assert treasury.ledger_balance(con, ("5720002",), end, start=False) == closing
    bank = con.execute(
        "SELECT operation_date, sum(amount) FROM read_parquet(?)"
        " WHERE account = '5720002' GROUP BY ALL HAVING sum(amount) <> 0 ORDER BY 1",
        [str(snapshot.file(reports.MOVEMENTS))],
    ).fetchall()
    booked = con.execute(
        "SELECT date, sum(debit - credit) FROM journal WHERE account = '5720002'"
        " AND entry_type NOT IN ('apertura', 'cierre') GROUP BY ALL HAVING sum(debit - credit) <> 0 ORDER BY 1"
    ).fetchall()
    assert bank == booked and len(bank) > 100
    overdrawn = [c for _, end, _, c in statements if end == date(2024, 12, 31)]
    assert overdrawn[0] < 0  # the documented overdraft of 31/12/2024, a DBIT closing balance in the file
