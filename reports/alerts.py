"""Alerts: the thresholds a client watches, evaluated on one company's published snapshot and a day, pure.

Kinds (``KINDS``; each needs the module its figure comes from):

- ``saldo_bancos``: the bank balance (Norma 43 / camt.053 closing balances, ``reports.treasury.bank_balance``) is
  below the threshold (strictly); no statements, no alert.
- ``cobros_vencidos``: the overdue receivables on the day (``reports.treasury.home_summary``) are above the threshold
  (strictly).
- ``ratio``: a ratio of the fiscal year to date at the last date with data leaves its healthy range (status «Vigilar»
  or «Fuera de rango»: ``reports.ratios``); an undefined ratio or one without a range never fires.
- ``vencimiento``: a tax return of the company is due within the threshold's days (``reports.tax_calendar``),
  pending (not filed yet).

``evaluate`` returns the Spanish sentence shown on Inicio (with the figures) and a short one for the e-mail digest
(no amounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from etl.store import Snapshot
from portal.fmt import date_es, money, number
from reports import periods, ratios, tax_calendar, treasury
from reports.statements import calendar_of, data_range


@dataclass(frozen=True)
class Kind:
    """An alert kind: its Spanish name, the module its figure belongs to and what its threshold is."""

    label: str
    module: str
    unit: str  # 'eur', 'days' or '' (ratio: the ratio's own healthy range)
    short: str  # the e-mail's words for it (no amounts)


KINDS = {
    "saldo_bancos": Kind("Saldo en bancos por debajo de", "tesoreria", "eur", "saldo en bancos bajo el umbral"),
    "cobros_vencidos": Kind("Cobros vencidos por encima de", "tesoreria", "eur", "cobros vencidos sobre el umbral"),
    "ratio": Kind("Ratio fuera de su rango saludable", "contabilidad", "", "un ratio fuera de su rango saludable"),
    "vencimiento": Kind("Vencimiento de un impuesto en los próximos", "impuestos", "days", "un impuesto vence pronto"),
}
MAX_DAYS = 366


class AlertError(ValueError):
    """A threshold the portal cannot watch; the message says why, in Spanish."""


@dataclass(frozen=True)
class Alert:
    """One watched threshold (a row of table ``alerts``)."""

    id: int
    kind: str
    threshold: str  # euros as exact text ('10000.00') or days ('15'); '' for a ratio
    ratio_code: str = ""


@dataclass(frozen=True)
class Fired:
    """An alert that holds: what to show on Inicio and what the e-mail may say."""

    alert_id: int
    kind: str
    message: str
    short: str


def check_threshold(kind: str, threshold: str, ratio_code: str = "") -> tuple[str, str]:
    """The threshold and ratio code as stored ('10000.00', '15', ''), or an AlertError naming what is wrong."""
    if kind not in KINDS:
        raise AlertError(f"Tipo de alerta desconocido: «{kind}».")
    unit = KINDS[kind].unit
    if unit == "":
        if ratio_code not in watchable_ratios():
            raise AlertError(f"Ratio desconocido o sin rango saludable: «{ratio_code}».")
        return "", ratio_code
    text = str(threshold).strip().replace(" ", "")
    if unit == "days":
        if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
            raise AlertError(f"Los días deben ser un número entero entre 1 y {MAX_DAYS}.")
        return str(int(text)), ""
    if "," in text:  # Spanish: 10.000,50
        text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise AlertError(f"«{threshold}» no es un importe (escríbalo como 10.000,00).") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e15"):
        raise AlertError("El importe debe ser positivo y menor de mil billones.")
    return f"{value:f}", ""


def watchable_ratios() -> dict[str, str]:
    """code -> name of the ratios that have a healthy range (the others can never leave it)."""
    return {d.code: d.name for d in ratios.definitions() if d.ok_min is not None or d.ok_max is not None}


def describe(alert: Alert) -> str:
    """«Saldo en bancos por debajo de 10.000,00 €», «Liquidez general fuera de su rango saludable»."""
    kind = KINDS[alert.kind]
    if kind.unit == "eur":
        return f"{kind.label} {money(Decimal(alert.threshold))}"
    if kind.unit == "days":
        return f"{kind.label} {alert.threshold} días"
    names = {d.code: d.name for d in ratios.definitions()}
    return f"{names.get(alert.ratio_code, alert.ratio_code)} fuera de su rango saludable"


def evaluate(alert: Alert, snapshot: Snapshot, today: date) -> Fired | None:
    """The alert if it holds on this snapshot and day (None when it does not, or its figure is not there)."""
    kind = KINDS[alert.kind]
    message = None
    if alert.kind == "saldo_bancos" and treasury.has_treasury(snapshot):
        balance, limit = treasury.bank_balance(snapshot), Decimal(alert.threshold)
        if balance is not None and balance < limit:
            message = f"Saldo en bancos {money(balance)}, por debajo de {money(limit)}"
    elif alert.kind == "cobros_vencidos" and treasury.has_treasury(snapshot):
        overdue, limit = treasury.home_summary(snapshot, today).overdue_receivables, Decimal(alert.threshold)
        if overdue > limit:
            message = f"Cobros vencidos {money(overdue)} a {date_es(today)}, por encima de {money(limit)}"
    elif alert.kind == "ratio":
        message = _ratio_message(alert.ratio_code, snapshot)
    elif alert.kind == "vencimiento":
        days = int(alert.threshold)
        due = [d for d in tax_calendar.deadlines(snapshot, today, days) if d.filed is None]
        if due:
            first = due[0]
            left = (first.date - today).days
            when = "hoy" if left == 0 else f"en {left} día{'s' if left != 1 else ''}"
            message = f"{first.label} vence el {date_es(first.date)} ({when})"
            if len(due) > 1:
                message += f" y {len(due) - 1} más en {days} días"
    return None if message is None else Fired(alert.id, alert.kind, message, kind.short)


def _ratio_message(code: str, snapshot: Snapshot) -> str | None:
    _, last = data_range(snapshot)
    if last is None:
        return None
    table = ratios.ratios(snapshot, periods.year_to_date(calendar_of(snapshot), last))
    row = table[table["code"] == code]
    if row.empty or row.iloc[0]["status"] not in ("aviso", "riesgo"):
        return None
    found = row.iloc[0]
    unit = found["unit"]
    value = money(found["value"]) if unit == "eur" else f"{number(found['value'], 1)} días" if unit == "days" else None
    value = value or number(found["value"], 2)
    return f"{found['name']} {value} a {date_es(last)}: fuera de su rango saludable ({found['range_text']})"
