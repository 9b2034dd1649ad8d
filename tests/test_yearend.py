"""Year-end classification: regularización, cierre and apertura, by the type column and by their effect."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from etl.journal import JournalResult, read_journal
from etl.sources import CompanyInfo
from etl.yearend import EntryClass, classify_year_end

ACME = CompanyInfo("ACME", "ACME S.L.")

# Two fiscal years, figures by hand. 2024: capital 10.000 into the bank, a purchase of 1.000 paid from the
# bank, a sale of 1.500 still owed by the client, and a 200 transfer between banks on 31/12 (a normal entry).
# Result 1.500 - 1.000 = 500. Bank 5720000 ends at 10.000 - 1.000 - 200 = 8.800, 5720001 at 200.
YEAR_2024 = [
    ("01/01/2024", 1, "5720000", "10.000,00", "", "A"),
    ("01/01/2024", 1, "1000000", "", "10.000,00", "A"),
    ("15/03/2024", 2, "6000000", "1.000,00", "", "N"),
    ("15/03/2024", 2, "4000001", "", "1.000,00", "N"),
    ("20/03/2024", 3, "4300001", "1.500,00", "", "N"),
    ("20/03/2024", 3, "7000000", "", "1.500,00", "N"),
    ("10/05/2024", 4, "4000001", "1.000,00", "", "N"),
    ("10/05/2024", 4, "5720000", "", "1.000,00", "N"),
    ("31/12/2024", 5, "5720001", "200,00", "", "N"),
    ("31/12/2024", 5, "5720000", "", "200,00", "N"),
]
REGULARIZATION_2024 = [
    ("31/12/2024", 6, "7000000", "1.500,00", "", "R"),
    ("31/12/2024", 6, "6000000", "", "1.000,00", "R"),
    ("31/12/2024", 6, "1290000", "", "500,00", "R"),
]
CLOSING_2024 = [
    ("31/12/2024", 7, "1000000", "10.000,00", "", "C"),
    ("31/12/2024", 7, "1290000", "500,00", "", "C"),
    ("31/12/2024", 7, "5720000", "", "8.800,00", "C"),
    ("31/12/2024", 7, "5720001", "", "200,00", "C"),
    ("31/12/2024", 7, "4300001", "", "1.500,00", "C"),
]
YEAR_2025 = [
    ("01/01/2025", 1, "5720000", "8.800,00", "", "A"),
    ("01/01/2025", 1, "5720001", "200,00", "", "A"),
    ("01/01/2025", 1, "4300001", "1.500,00", "", "A"),
    ("01/01/2025", 1, "1000000", "", "10.000,00", "A"),
    ("01/01/2025", 1, "1290000", "", "500,00", "A"),
    ("05/02/2025", 2, "5720000", "1.500,00", "", "N"),
    ("05/02/2025", 2, "4300001", "", "1.500,00", "N"),
    ("10/02/2025", 3, "6290000", "100,00", "", "N"),
    ("10/02/2025", 3, "5720000", "", "100,00", "N"),
]
FULL = YEAR_2024 + REGULARIZATION_2024 + CLOSING_2024 + YEAR_2025
EXPECTED = [
    EntryClass(2024, 1, date(2024, 1, 1), "apertura", "efecto", 2),
    EntryClass(2024, 6, date(2024, 12, 31), "regularizacion", "efecto", 3),
    EntryClass(2024, 7, date(2024, 12, 31), "cierre", "efecto", 5),
    EntryClass(2025, 1, date(2025, 1, 1), "apertura", "efecto", 5),
]


def load(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    rows: list[tuple],
    *,
    types: bool = False,
    company: CompanyInfo = ACME,
) -> JournalResult:
    """Write the rows as a journal export (with or without the type column) and read it."""
    header = "fecha;asiento;cuenta;concepto;debe;haber" + (";tipo" if types else "")
    body = [
        ";".join([d, str(e), a, "x", debit, credit] + ([kind] if types else []))
        for d, e, a, debit, credit, kind in rows
    ]
    folder = tmp_path / "ACME"
    folder.mkdir(exist_ok=True)
    path = folder / "diario.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return read_journal(con, [path], company)


def types_by_entry(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], set[str]]:
    rows = con.execute("SELECT fiscal_year, entry, list(DISTINCT entry_type) FROM journal GROUP BY ALL").fetchall()
    return {(year, entry): set(kinds) for year, entry, kinds in rows}


def test_recognised_by_effect_without_type_column(con, tmp_path):
    result = load(con, tmp_path, FULL)
    assert result.problems == []
    assert result.classifications == EXPECTED
    assert types_by_entry(con) == {
        (2024, 1): {"apertura"},
        (2024, 2): {"normal"},
        (2024, 3): {"normal"},
        (2024, 4): {"normal"},
        (2024, 5): {"normal"},
        (2024, 6): {"regularizacion"},
        (2024, 7): {"cierre"},
        (2025, 1): {"apertura"},
        (2025, 2): {"normal"},
        (2025, 3): {"normal"},
    }


def test_taken_from_the_type_column(con, tmp_path):
    result = load(con, tmp_path, FULL, types=True)
    assert result.problems == []
    assert result.classifications == [
        EntryClass(c.fiscal_year, c.entry, c.date, c.entry_type, "columna", c.lines) for c in EXPECTED
    ]
    assert types_by_entry(con)[(2024, 7)] == {"cierre"}


def test_empty_type_cells_are_classified_by_effect(con, tmp_path):
    rows = [(*row[:5], "" if row[1] in (6, 7) and row[0] == "31/12/2024" else row[5]) for row in FULL]
    result = load(con, tmp_path, rows, types=True)
    assert result.problems == []
    methods = {(c.fiscal_year, c.entry): (c.entry_type, c.method) for c in result.classifications}
    assert methods == {
        (2024, 1): ("apertura", "columna"),
        (2024, 6): ("regularizacion", "efecto"),
        (2024, 7): ("cierre", "efecto"),
        (2025, 1): ("apertura", "columna"),
    }


def test_marked_entries_that_do_not_zero_are_warned(con, tmp_path):
    rows = [(*row[:5], "C") if row[1] == 5 and row[0] == "31/12/2024" else row for row in FULL]
    result = load(con, tmp_path, rows, types=True)
    warnings = [p for p in result.problems if p.rule == "year_end_effect"]
    assert [(p.severity, p.entry) for p in warnings] == [("warning", "2024/000005")]
    assert warnings[0].message == (
        "asiento 2024/000005 marcado como cierre no deja a cero cuenta 5720000: saldo antes 9.000,00,"
        " movimiento -200,00; cuenta 5720001: saldo antes 0,00, movimiento 200,00"
    )
    assert (2024, 5) in {(c.fiscal_year, c.entry) for c in result.classifications}


def test_split_regularization(con, tmp_path):
    split = [
        ("31/12/2024", 6, "1290000", "1.000,00", "", ""),
        ("31/12/2024", 6, "6000000", "", "1.000,00", ""),
        ("31/12/2024", 7, "7000000", "1.500,00", "", ""),
        ("31/12/2024", 7, "1290000", "", "1.500,00", ""),
    ]
    closing = [(d, 8, a, debit, credit, kind) for d, _, a, debit, credit, kind in CLOSING_2024]
    result = load(con, tmp_path, YEAR_2024 + split + closing + YEAR_2025)
    assert result.problems == []
    assert [(c.entry, c.entry_type, c.lines) for c in result.classifications] == [
        (1, "apertura", 2),
        (6, "regularizacion", 2),
        (7, "regularizacion", 2),
        (8, "cierre", 5),
        (1, "apertura", 5),
    ]


def test_transfer_emptying_a_bank_account_on_the_last_day_stays_normal(con, tmp_path):
    # 30/12 moves 200 into 5720001; on 31/12 entry 6 moves it back: 5720001 ends at zero, 5720000 does not.
    transfers = [
        ("30/12/2024", 5, "5720001", "200,00", "", ""),
        ("30/12/2024", 5, "5720000", "", "200,00", ""),
        ("31/12/2024", 6, "5720000", "200,00", "", ""),
        ("31/12/2024", 6, "5720001", "", "200,00", ""),
    ]
    regularization = [(d, 7, a, debit, credit, kind) for d, _, a, debit, credit, kind in REGULARIZATION_2024]
    closing = [
        ("31/12/2024", 8, "1000000", "10.000,00", "", ""),
        ("31/12/2024", 8, "1290000", "500,00", "", ""),
        ("31/12/2024", 8, "5720000", "", "9.000,00", ""),
        ("31/12/2024", 8, "4300001", "", "1.500,00", ""),
    ]
    result = load(con, tmp_path, YEAR_2024[:8] + transfers + regularization + closing)
    assert result.problems == []
    assert [(c.entry, c.entry_type) for c in result.classifications] == [
        (1, "apertura"),
        (7, "regularizacion"),
        (8, "cierre"),
    ]
    assert types_by_entry(con)[(2024, 6)] == {"normal"}


def test_journal_without_closing_entries(con, tmp_path):
    rows = [row for row in YEAR_2024 if row[1] != 1] + [row for row in YEAR_2025 if row[1] != 1]
    opening = [("02/01/2024", 1, "5720000", "10.000,00", "", ""), ("02/01/2024", 1, "1000000", "", "10.000,00", "")]
    rows = [*opening, *rows]
    result = load(con, tmp_path, rows)
    assert result.problems == []
    assert result.classifications == []
    assert set().union(*types_by_entry(con).values()) == {"normal"}


def test_first_entry_on_the_first_day_is_the_opening_of_the_first_year(con, tmp_path):
    result = load(con, tmp_path, YEAR_2024)
    assert result.classifications == [EntryClass(2024, 1, date(2024, 1, 1), "apertura", "efecto", 2)]


def test_fiscal_year_starting_in_july(con, tmp_path):
    company = CompanyInfo("ACME", "ACME", fiscal_year_start_month=7, fiscal_year_start_day=1)
    moved = {
        "01/01/2024": "01/07/2024",
        "15/03/2024": "15/09/2024",
        "20/03/2024": "20/09/2024",
        "10/05/2024": "10/11/2024",
        "31/12/2024": "30/06/2025",
        "01/01/2025": "01/07/2025",
        "05/02/2025": "05/08/2025",
        "10/02/2025": "10/08/2025",
    }
    rows = [(moved[d], *rest) for d, *rest in FULL]
    result = load(con, tmp_path, rows, company=company)
    assert result.problems == []
    assert [(c.fiscal_year, c.entry, c.date, c.entry_type) for c in result.classifications] == [
        (2024, 1, date(2024, 7, 1), "apertura"),
        (2024, 6, date(2025, 6, 30), "regularizacion"),
        (2024, 7, date(2025, 6, 30), "cierre"),
        (2025, 1, date(2025, 7, 1), "apertura"),
    ]


def test_classify_year_end_on_a_table_built_by_hand(con):
    con.execute(
        """
        CREATE TABLE journal AS SELECT * FROM (VALUES
            (2025, DATE '2025-12-31', 10, '6230000', '', 0.00, 50.00, NULL, 'x', 2),
            (2025, DATE '2025-12-31', 10, '1290000', '', 50.00, 0.00, NULL, 'x', 3),
            (2025, DATE '2025-06-01', 3, '6230000', '', 50.00, 0.00, 'normal', 'x', 4),
            (2025, DATE '2025-06-01', 3, '4100001', '', 0.00, 50.00, 'normal', 'x', 5)
        ) t(fiscal_year, date, entry, account, description, debit, credit, entry_type, source_file, source_line)
        """
    )
    classes, problems = classify_year_end(con, ACME)
    assert problems == []
    assert classes == [EntryClass(2025, 10, date(2025, 12, 31), "regularizacion", "efecto", 2)]
    assert con.execute("SELECT entry, entry_type FROM journal ORDER BY source_line").fetchall() == [
        (10, "regularizacion"),
        (10, "regularizacion"),
        (3, "normal"),
        (3, "normal"),
    ]
