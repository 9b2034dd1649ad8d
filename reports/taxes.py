"""Tax returns of one company's snapshot: filings, VAT and IRPF views, annual reconciliations, VAT vs journal, pure.

Money is Decimal throughout (rows are fetched as Python values, never through a float frame). Box numbers are
those of docs/sources.md §4 (303/111/115/130 as on the forms; 390/190/180 as the firm's export writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pandas as pd

from etl.modules import taxes as source
from etl.store import Snapshot

FILINGS, BOXES, RECEIPTS = "tax_filings.parquet", "tax_boxes.parquet", "tax_receipts.parquet"
ZERO = Decimal("0.00")
MODEL_NAMES = {
    "303": "IVA · autoliquidación",
    "390": "IVA · resumen anual",
    "111": "Retenciones del trabajo y profesionales",
    "190": "Retenciones · resumen anual",
    "115": "Retenciones de alquileres",
    "180": "Alquileres · resumen anual",
    "130": "IRPF · pago fraccionado",
    "200": "Impuesto sobre Sociedades",
    "202": "Sociedades · pago fraccionado",
}
RESULT_TYPES = {
    "ingreso": "A ingresar",
    "domiciliacion": "A ingresar (domiciliado)",
    "compensar": "A compensar",
    "devolucion": "A devolver",
    "sin_actividad": "Sin actividad",
    "informativa": "Informativa",
}
FILING_COLUMNS = ["model", "year", "period", "filed", "result_type", "amount", "receipt", "csv", "has_receipt"]
# The 303 view: column -> the boxes it adds up (domain.md §3.2).
VAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "base_4": ("01",),
    "vat_4": ("03",),
    "base_10": ("04",),
    "vat_10": ("06",),
    "base_21": ("07",),
    "vat_21": ("09",),
    "output_vat": ("27",),
    "input_base": ("28", "30"),
    "input_vat": ("45",),
    "result": ("46",),
    "offset_before": ("110",),
    "offset_applied": ("78",),
    "offset_after": ("87",),
    "final_result": ("71",),
}
# The IRPF views per model: column -> boxes (domain.md §3.3).
IRPF_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "111": {
        "recipients": ("01", "04", "07", "10", "13", "16", "19", "22", "25"),
        "base": ("02", "05", "08", "11", "14", "17", "20", "23", "26"),
        "withholding": ("28",),
        "result": ("30",),
    },
    "115": {"recipients": ("01",), "base": ("02",), "withholding": ("03",), "result": ("05",)},
    "130": {
        "income": ("01",),
        "expenses": ("02",),
        "net": ("03",),
        "instalment": ("04",),
        "earlier": ("05",),
        "withheld": ("06",),
        "result": ("19",),
    },
}
IRPF_MODELS = ("111", "115", "130")
ANNUAL_MODELS = {"390": "303", "190": "111", "180": "115"}


@dataclass(frozen=True)
class Reconciliation:
    """An annual summary (390, 190, 180) against the sum of the year's periodic returns."""

    model: str
    year: int
    filed: bool  # the annual summary is in the snapshot
    periods: int  # periodic returns of the year found
    rows: pd.DataFrame  # box, description, annual (None when not filed), periods_sum, difference
    differs: bool  # some box differs from the sum


def has_taxes(snapshot: Snapshot) -> bool:
    """True when the snapshot carries the tax tables."""
    return snapshot.has(FILINGS) and snapshot.has(BOXES)


def _fetch(snapshot: Snapshot, name: str, sql: str, params: list) -> list[tuple]:
    """Rows of ``sql`` over the snapshot file ``name`` (as ``t``), with bound parameters."""
    with duckdb.connect() as con:
        return con.execute(sql.replace("{t}", "read_parquet(?)"), [str(snapshot.file(name)), *params]).fetchall()


def years(snapshot: Snapshot) -> list[int]:
    """Fiscal years with returns, newest first."""
    return [r[0] for r in _fetch(snapshot, FILINGS, "SELECT DISTINCT year FROM {t} ORDER BY year DESC", [])]


def models(snapshot: Snapshot) -> list[str]:
    """The models the company has filed, in catalogue order."""
    found = {r[0] for r in _fetch(snapshot, FILINGS, "SELECT DISTINCT model FROM {t}", [])}
    return [m for m in MODEL_NAMES if m in found]


def filings(snapshot: Snapshot, *, model: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Every return filed (optionally one model and/or year), by year, model and period."""
    rows = _fetch(
        snapshot,
        FILINGS,
        f"SELECT {', '.join(FILING_COLUMNS)} FROM {{t}} WHERE (? IS NULL OR model = ?) AND (? IS NULL OR year = ?)"
        " ORDER BY year, model, period",
        [model, model, year, year],
    )
    return pd.DataFrame(rows, columns=FILING_COLUMNS)


def boxes(snapshot: Snapshot, model: str, year: int, period: str) -> pd.DataFrame:
    """The boxes of one return as filed: box, description, amount, is_count."""
    rows = _fetch(
        snapshot,
        BOXES,
        "SELECT box, description, amount, is_count FROM {t} WHERE model = ? AND year = ? AND period = ?"
        " ORDER BY source_line",
        [model, year, period],
    )
    return pd.DataFrame(rows, columns=["box", "description", "amount", "is_count"])


def _box_map(snapshot: Snapshot, model: str, year: int | None) -> dict[tuple[int, str], dict[str, Decimal]]:
    """(year, period) -> {box: amount} of one model's returns (one year, or all)."""
    values: dict[tuple[int, str], dict[str, Decimal]] = {}
    for y, period, box, amount in _fetch(
        snapshot,
        BOXES,
        "SELECT year, period, box, amount FROM {t} WHERE model = ? AND (? IS NULL OR year = ?)",
        [model, year, year],
    ):
        values.setdefault((y, period), {})[box] = amount
    return values


def _total(values: dict[str, Decimal], numbers: tuple[str, ...]) -> Decimal:
    return sum((values.get(n, ZERO) for n in numbers), ZERO)


def _periodic(snapshot: Snapshot, model: str, year: int, columns: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """One row per return of ``model`` in ``year``: period, filed, result type, amount and the box columns."""
    values = _box_map(snapshot, model, year)
    rows = []
    for f in filings(snapshot, model=model, year=year).itertuples():
        box = values.get((f.year, f.period), {})
        rows.append(
            {
                "period": f.period,
                "filed": f.filed,
                "result_type": f.result_type,
                "amount": f.amount,
                "receipt": f.receipt,
                **{c: _total(box, numbers) for c, numbers in columns.items()},
            }
        )
    return pd.DataFrame(rows, columns=["period", "filed", "result_type", "amount", "receipt", *columns])


def vat_periods(snapshot: Snapshot, year: int) -> pd.DataFrame:
    """The 303s of a year: output VAT base/quota at 4/10/21 %, total output (27), input base and VAT (45), result
    (46), amounts to offset (110 before, 78 applied, 87 left) and the final result (71)."""
    return _periodic(snapshot, "303", year, VAT_COLUMNS)


def irpf_periods(snapshot: Snapshot, model: str, year: int) -> pd.DataFrame:
    """The 111, 115 or 130 returns of a year with their key figures (recipients, base, withholdings, result…)."""
    return _periodic(snapshot, model, year, IRPF_COLUMNS[model])


def reconciliation(snapshot: Snapshot, model: str, year: int) -> Reconciliation:
    """An annual summary (390 / 190 / 180) box by box against the sum of the year's 303 / 111 / 115."""
    periodic, pairs = source.ANNUAL_SUMS[model]
    annual = _box_map(snapshot, model, year).get((year, "0A"))
    parts = _box_map(snapshot, periodic, year)
    labels = dict(
        _fetch(snapshot, BOXES, "SELECT box, any_value(description) FROM {t} WHERE model = ? GROUP BY box", [model])
    )
    rows = []
    for number, summed in pairs.items():
        if annual is not None and number not in annual:
            continue
        total = sum((_total(v, summed) for v in parts.values()), ZERO)
        filed = None if annual is None else annual[number]
        rows.append(
            {
                "box": number,
                "description": labels.get(number, ""),
                "annual": filed,
                "periods_sum": total,
                "difference": None if filed is None else filed - total,
            }
        )
    frame = pd.DataFrame(rows, columns=["box", "description", "annual", "periods_sum", "difference"])
    differs = any(d is not None and d != 0 for d in frame["difference"])
    return Reconciliation(model, year, annual is not None, len(parts), frame, differs)


def vat_vs_journal(snapshot: Snapshot, year: int | None = None) -> pd.DataFrame:
    """Each 303 (one year, or all) against the journal: declared 27 vs booked 477 credits, declared 45 vs booked
    472 debits (normal entries, settlements left out: etl.modules.taxes.BOOKED_VAT_SQL), and the differences.

    Periods outside the journal's dates have no booked figures (None) and are not flagged.
    """
    values = _box_map(snapshot, "303", year)
    with duckdb.connect() as con:
        con.read_parquet(str(snapshot.file("journal.parquet"))).create_view("journal")
        booked = source.booked_vat(con, sorted(values))
    rows = []
    for (y, period), box in sorted(values.items(), key=lambda kv: (kv[0][0], source.period_dates(*kv[0])[0])):
        output, deductible = booked.get((y, period), (None, None))
        declared_out, declared_in = box.get("27", ZERO), box.get("45", ZERO)
        diff_out = None if output is None else output - declared_out
        diff_in = None if deductible is None else deductible - declared_in
        rows.append(
            {
                "year": y,
                "period": period,
                "declared_output": declared_out,
                "booked_output": output,
                "output_difference": diff_out,
                "declared_input": declared_in,
                "booked_input": deductible,
                "input_difference": diff_in,
                "matches": None if output is None else diff_out == 0 and diff_in == 0,
            }
        )
    columns = ["year", "period", "declared_output", "booked_output", "output_difference"]
    columns += ["declared_input", "booked_input", "input_difference", "matches"]
    return pd.DataFrame(rows, columns=columns)


def receipt(snapshot: Snapshot, justificante: str) -> tuple[str, bytes] | None:
    """The receipt PDF of a return: (file name, bytes), or None when the snapshot has none for that number."""
    if not snapshot.has(RECEIPTS):
        return None
    rows = _fetch(snapshot, RECEIPTS, "SELECT file_name, content FROM {t} WHERE receipt = ?", [str(justificante)])
    return (rows[0][0], bytes(rows[0][1])) if rows else None
