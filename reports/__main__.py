"""Command line of the reports: ``python -m reports pyg|balance|trial-balance|ledger|ratios``, for staff and scripts."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

from etl.store import Snapshot, Store, StoreError
from portal.fmt import date_es, money, number
from portal.settings import load_settings
from reports import export, periods
from reports.ledger import find_accounts, ledger
from reports.ratios import ratios_of_year
from reports.statements import balance_sheet, calendar_of, data_range, profit_and_loss
from reports.trial_balance import trial_balance

FORMATS = ("table", "csv", "json", "xlsx")


class CliError(Exception):
    """A problem to tell the user (in Spanish) before exiting with status 1."""


def _date(text: str) -> date:
    for parse in (date.fromisoformat, lambda t: date(int(t[6:10]), int(t[3:5]), int(t[0:2]))):
        try:
            return parse(text)
        except (ValueError, IndexError):
            continue
    raise argparse.ArgumentTypeError(f"fecha no válida: {text!r} (use AAAA-MM-DD o DD/MM/AAAA)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description="Informes contables de una empresa.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--company", required=True, help="código de la empresa")
        cmd.add_argument("--store", help="carpeta del almacén (por defecto, la configurada)")
        cmd.add_argument("--format", choices=FORMATS[1:], help="csv, json o xlsx (por defecto, una tabla legible)")
        cmd.add_argument("--output", "-o", help="archivo de salida (obligatorio para xlsx si la salida es la terminal)")
        return cmd

    pyg = common("pyg", "cuenta de pérdidas y ganancias")
    pyg.add_argument("--year", type=int, help="ejercicio (por defecto, el último)")
    pyg.add_argument("--from", dest="start", type=_date, help="desde (AAAA-MM-DD)")
    pyg.add_argument("--to", dest="end", type=_date, help="hasta (AAAA-MM-DD)")
    pyg.add_argument("--no-compare", action="store_true", help="sin la columna del año anterior")
    bal = common("balance", "balance de situación")
    bal.add_argument("--date", type=_date, help="fecha (por defecto, la última con datos)")
    bal.add_argument("--no-compare", action="store_true", help="sin la columna del cierre anterior")
    tb = common("trial-balance", "balance de sumas y saldos")
    tb.add_argument("--date", type=_date, help="fecha (por defecto, la última con datos)")
    tb.add_argument("--level", choices=("3", "4", "full"), default="full", help="nivel de cuentas (3, 4 o full)")
    led = common("ledger", "ficha de mayor de una cuenta")
    led.add_argument("--account", required=True, help="código de la cuenta (o parte de su nombre)")
    led.add_argument("--from", dest="start", type=_date, help="desde (por defecto, inicio del ejercicio)")
    led.add_argument("--to", dest="end", type=_date, help="hasta (por defecto, la última fecha con datos)")
    led.add_argument("--page", type=int, default=1)
    led.add_argument("--page-size", type=int, default=1000)
    rat = common("ratios", "ratios financieros")
    rat.add_argument("--year", type=int, help="ejercicio (por defecto, el último)")
    return parser


def _snapshot(store_dir: str | None, company: str) -> Snapshot:
    store = Store(Path(store_dir) if store_dir else load_settings().stores)
    try:
        if not store.company_dir(company).is_dir():
            raise CliError(f"La empresa «{company}» no existe en el almacén {store.root}")
        snapshot = store.current(company)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    if snapshot is None:
        raise CliError(f"La empresa «{company}» no tiene datos publicados")
    return snapshot


def _last_date(snapshot: Snapshot) -> date:
    _, last = data_range(snapshot)
    if last is None:
        raise CliError(f"La empresa «{snapshot.company}» no tiene apuntes")
    return last


def _year(snapshot: Snapshot, year: int | None) -> int:
    years = [int(y) for y in snapshot.manifest.get("fiscal_years") or []]
    if year is None:
        if not years:
            raise CliError(f"La empresa «{snapshot.company}» no tiene ejercicios con datos")
        return max(years)
    if years and year not in years:
        raise CliError(f"El ejercicio {year} no tiene datos (ejercicios: {', '.join(map(str, years))})")
    return year


def _text_table(table: pd.DataFrame, title: str) -> str:
    """A readable fixed-width table with Spanish numbers."""

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "—"
        if isinstance(value, Decimal):
            return money(value) if value.as_tuple().exponent == -2 else number(value, -value.as_tuple().exponent)
        if isinstance(value, date):
            return date_es(value)
        return str(value)

    cells = [[cell(v) for v in row] for row in table.itertuples(index=False)]
    heads = [str(c) for c in table.columns]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in cells])) for i, h in enumerate(heads)]
    numeric = [all(isinstance(v, Decimal) or v is None for v in table.iloc[:, i]) for i in range(len(heads))]

    def fmt(values: list[str]) -> str:
        return "  ".join(
            (v[: widths[i]].rjust(widths[i]) if numeric[i] else v[: widths[i]].ljust(widths[i]))
            for i, v in enumerate(values)
        ).rstrip()

    lines = [title, "", fmt(heads), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells]
    return "\n".join(lines) + "\n"


def _emit(args: argparse.Namespace, table: pd.DataFrame, title: str, sheet: str, meta: dict) -> None:
    fmt = args.format or "table"
    if fmt == "xlsx":
        data = export.to_xlsx({sheet: table}, title=title, stamp=str(meta.get("datos_a_fecha", "")), spanish=False)
        if args.output:
            Path(args.output).write_bytes(data)
        elif sys.stdout.isatty():
            raise CliError("Para --format xlsx indique un archivo con --output o redirija la salida")
        else:
            sys.stdout.buffer.write(data)
        return
    text = {"csv": export.to_csv, "json": lambda t: export.to_json(t, meta)}.get(fmt, lambda t: _text_table(t, title))(
        table
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    """Run one command; CliError for anything the user must fix."""
    snapshot = _snapshot(args.store, args.company)
    calendar = calendar_of(snapshot)
    meta = {
        "empresa": snapshot.company,
        "instantanea": snapshot.snapshot_id,
        "datos_a_fecha": export.stamp_of(snapshot.manifest),
    }
    name = snapshot.manifest.get("company_name") or snapshot.company
    if args.command == "pyg":
        if args.start or args.end:
            if not (args.start and args.end):
                raise CliError("Indique --from y --to juntos")
            try:
                period = periods.date_range(calendar, args.start, args.end)
            except ValueError as exc:
                raise CliError(str(exc)) from exc
        else:
            period = periods.fiscal_year(calendar, _year(snapshot, args.year))
        statement = profit_and_loss(snapshot, period, compare=not args.no_compare)
        meta.update(periodo=statement.label, comparado_con=statement.prior_label)
        _emit(args, export.statement_table(statement), f"{statement.title} · {name} · {statement.label}", "PyG", meta)
        return 0
    if args.command == "balance":
        as_of = args.date or _last_date(snapshot)
        statement = balance_sheet(snapshot, as_of, compare=not args.no_compare)
        meta.update(fecha=as_of.isoformat(), comparado_con=statement.prior_label, descuadre=f"{statement.check:f}")
        _emit(
            args, export.statement_table(statement), f"{statement.title} · {name} · {statement.label}", "Balance", meta
        )
        if statement.check != 0 or (statement.prior_check or 0) != 0:
            print(f"ERROR: el balance no cuadra (activo − PN y pasivo = {money(statement.check)})", file=sys.stderr)
            return 1
        return 0
    if args.command == "trial-balance":
        as_of = args.date or _last_date(snapshot)
        trial = trial_balance(snapshot, as_of, level=args.level)
        meta.update(fecha=as_of.isoformat(), nivel=args.level)
        title = (
            f"Sumas y saldos · {name} · a {date_es(as_of)} · "
            f"debe {money(trial.total_debit)} · haber {money(trial.total_credit)}"
        )
        _emit(args, export.trial_balance_table(trial), title, "Sumas y saldos", meta)
        return 0
    if args.command == "ledger":
        account = _account(snapshot, args.account)
        end = args.end or _last_date(snapshot)
        start = args.start or calendar.start(calendar.year_of(end))
        try:
            card = ledger(snapshot, account, start, end, page=args.page, page_size=args.page_size)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        meta.update(
            cuenta=account, nombre=card.name, saldo_inicial=f"{card.opening:f}", saldo_final=f"{card.closing:f}"
        )
        title = (
            f"Mayor {account} {card.name} · del {date_es(start)} al {date_es(end)} · saldo inicial "
            f"{money(card.opening)} · saldo final {money(card.closing)} · página {card.page} de {card.pages}"
        )
        _emit(args, export.ledger_table(card), title, "Mayor", meta)
        return 0
    if args.command == "ratios":
        year = _year(snapshot, args.year)
        table = ratios_of_year(snapshot, year, until=_last_date(snapshot))
        meta.update(ejercicio=year)
        out = export.ratios_table(table) if args.format else table[["name", "value", "range_text", "status"]]
        _emit(args, out, f"Ratios · {name} · ejercicio {year}", "Ratios", meta)
        return 0
    raise CliError(f"Orden desconocida: {args.command}")


def _account(snapshot: Snapshot, text: str) -> str:
    found = find_accounts(snapshot, text)
    exact = found[found.account == text]
    if not exact.empty:
        return text
    if len(found) == 1:
        return str(found.account.iloc[0])
    if found.empty:
        raise CliError(f"No hay ninguna cuenta que coincida con «{text}»")
    options = ", ".join(f"{r.account} {r.name}" for r in found.head(10).itertuples())
    raise CliError(f"«{text}» coincide con varias cuentas: {options}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 fine, 1 a problem explained on standard error)."""
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
