"""Module rows reach DuckDB exactly (etl/modules/_csv.py: store_rows): a large amount after small ones is stored as
it is, never refused by a DECIMAL width guessed from the first rows."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from etl.modules._csv import store_rows

DDL = "CREATE TABLE items (number VARCHAR, amount DECIMAL(18,2), settled DECIMAL(18,2), line INTEGER)"


def test_a_large_amount_after_many_small_ones_is_stored_exactly():
    small = [{"number": f"E{i}", "amount": Decimal("12.50"), "settled": None, "line": i} for i in range(2, 3000)]
    large = {"number": "E3000", "amount": Decimal("18675.98"), "settled": Decimal("-1234567.89"), "line": 3000}
    tiny = {"number": "E3001", "amount": Decimal("1E+2"), "settled": Decimal("0.05"), "line": 3001}  # 100 and 0,05
    con = duckdb.connect()
    # The large one second (DuckDB guesses a column's type from a sample of rows: with Decimals it guessed
    # DECIMAL(4,2) from the 12,50s and refused 18.675,98 — the demo's «mediterraneo» load failed so).
    store_rows(con, "items", DDL, [small[0], large, *small[1:], tiny])
    # By hand: 2.998 rows × 12,50 = 37.475,00; + 18.675,98 + 100,00 = 56.250,98.
    assert con.execute("SELECT count(*), sum(amount) FROM items").fetchone() == (3000, Decimal("56250.98"))
    rows = dict(con.execute("SELECT number, amount FROM items WHERE line >= 3000").fetchall())
    assert rows == {"E3000": Decimal("18675.98"), "E3001": Decimal("100.00")}
    assert con.execute("SELECT settled FROM items WHERE number = 'E3000'").fetchone()[0] == Decimal("-1234567.89")
    assert con.execute("SELECT count(*) FROM items WHERE settled IS NULL").fetchone()[0] == 2998
    assert con.execute("SELECT typeof(amount) FROM items LIMIT 1").fetchone()[0] == "DECIMAL(18,2)"
