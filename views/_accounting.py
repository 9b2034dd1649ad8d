"""Helpers of the accounting pages (not a page): guarded snapshot, cached reports, tables, downloads, drill-down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from auth import access, labour_blocks
from etl.store import Snapshot, Store
from portal import fmt
from portal.settings import Settings
from reports import export, journal, ledger, periods, ratios, statements
from reports.redaction import Redaction, redaction_for
from views import _client, _tables, _ui

MODULE = "contabilidad"
DENIED = "No tiene acceso a estos datos."
NO_DATA = "Todavía no hay datos contables publicados de esta empresa."
NO_ENTRIES = (
    "La contabilidad de esta empresa se ha cargado desde balances de sumas y saldos, sin asientos: "
    "no hay mayor ni diario."
)
PERIOD_KINDS = {"year": "Año completo", "quarter": "Trimestre", "month": "Mes", "ytd": "Año hasta la fecha"}
LEVELS = {"3": "3 dígitos", "4": "4 dígitos", "full": "Cuentas"}
LEDGER_PAGE_SIZE = 100
ENTRY_TYPES = {"apertura": "Apertura", "regularizacion": "Regularización", "cierre": "Cierre", "normal": ""}


@dataclass(frozen=True)
class Books:
    """What a page may read once the guard has let the user through: one company's published snapshot."""

    settings: Settings
    engine: Engine
    user: dict
    company: str
    name: str
    snapshot: Snapshot
    grant: access.Grant | None = None  # the guard's grant: the module's options

    @property
    def key(self) -> tuple[str, str, str]:
        """The hashed arguments of every cached read: store, company and snapshot id."""
        return str(self.settings.stores), self.company, self.snapshot.snapshot_id

    @property
    def stamp(self) -> str:
        return _client.stamp_text(self.snapshot)

    @property
    def calendar(self) -> periods.FiscalCalendar:
        return statements.calendar_of(self.snapshot)

    def widget_key(self, name: str) -> str:
        """A widget key private to this company and snapshot (a stale choice never leaks into another company)."""
        return f"{name}-{self.company}-{self.snapshot.snapshot_id}"

    @cached_property
    def redaction(self) -> Redaction:
        """The employees this user may not read in the company's journal (read once per run, when first needed)."""
        return redaction_of(self.settings, self.engine, self.user, self.company, self.snapshot)


def open_books(title: str, module: str = MODULE, *, no_data: str = NO_DATA) -> Books:
    """The page's title, then the guard FIRST for ``module``, then the published snapshot and the «datos a fecha» stamp.

    Stops the run with a notice when the user may not read the company's module or nothing is published. Every
    client module page opens this way (``module`` is one of ``access.MODULES``); ``Books.grant`` carries the
    module's options (case scope, labour tables).
    """
    user = _client.require_client()
    settings = _ui.settings()
    engine = _client.engine_of(settings)
    st.title(title)
    company = _client.current_company(engine, user)
    try:
        grant = access.guard(engine, user, company or "", module)  # before anything of the company is read
    except access.AccessDenied:
        st.warning(DENIED)
        st.stop()
    snapshot = Store(settings.stores).current(company)
    _client.show_stamp(settings, engine, user, company, snapshot)
    if snapshot is None:
        st.info(no_data)
        st.stop()
    name = _client.company_name(engine, user, company)
    return Books(settings, engine, user, company, name, snapshot, grant)


# --- cached reads (store, company and snapshot id are hashed arguments: a new publication never hits) -------------


def _snapshot(store_root: str, company: str, snapshot_id: str) -> Snapshot:
    return Store(Path(store_root)).snapshot(company, snapshot_id)


def period_of(calendar: periods.FiscalCalendar, spec: tuple) -> periods.Period:
    """A Period from its plain description: ('year', fy), ('quarter', fy, n), ('month', y, m), ('ytd', date)."""
    kind = spec[0]
    if kind == "year":
        return periods.fiscal_year(calendar, spec[1])
    if kind == "quarter":
        return periods.quarter(calendar, spec[1], spec[2])
    if kind == "month":
        return periods.month(calendar, spec[1], spec[2])
    if kind == "ytd":
        return periods.year_to_date(calendar, spec[1])
    return periods.date_range(calendar, spec[1], spec[2])


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def pnl(store_root: str, company: str, snapshot_id: str, spec: tuple) -> statements.Statement:
    """P&L of a period with the prior-year comparison."""
    snapshot = _snapshot(store_root, company, snapshot_id)
    return statements.profit_and_loss(snapshot, period_of(statements.calendar_of(snapshot), spec))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def pnl_rows(store_root: str, company: str, snapshot_id: str, spec: tuple) -> pd.DataFrame:
    """The P&L of a period in Spanish (``statement_rows``), formatted once per snapshot and period."""
    return statement_rows(pnl(store_root, company, snapshot_id, spec))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def balance(store_root: str, company: str, snapshot_id: str, as_of: date) -> statements.Statement:
    """Balance sheet at a date with the prior year-end."""
    return statements.balance_sheet(_snapshot(store_root, company, snapshot_id), as_of)


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def trend(store_root: str, company: str, snapshot_id: str, fiscal_year: int, until: date | None) -> pd.DataFrame:
    """Every ratio at each month end of a fiscal year."""
    return ratios.ratio_trend(_snapshot(store_root, company, snapshot_id), fiscal_year, until=until)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def hidden_people(store_root: str, company: str, snapshot_id: str, blocked: frozenset[str], hide_all: bool) -> tuple:
    """(people, label) of a Redaction: the snapshot's employees to hide, every one or only the blocked ones."""
    found = redaction_for(_snapshot(store_root, company, snapshot_id), blocked, hide_all=hide_all)
    return found.people, found.label


def redaction_of(settings: Settings, engine: Engine, user: dict, company: str, snapshot: Snapshot) -> Redaction:
    """Who a user may not read in a company's journal, ledgers and entries, from the database as it is now.

    Staff-blocked employees are always hidden («Empleado bloqueado»); when the firm hides payroll names of the
    company (``companies.hide_payroll_names``) a user without the labour module reads no employee's name at all
    («Nómina (empleado oculto)»).
    """
    hides_names, blocked = labour_blocks.payroll_privacy(engine, company)
    hide_all = hides_names and "laboral" not in access.modules_of(engine, user, company)
    if not blocked and not hide_all:
        return Redaction()
    people, label = hidden_people(str(settings.stores), company, snapshot.snapshot_id, blocked, hide_all)
    return Redaction(people, label)


# --- widgets ------------------------------------------------------------------------------------------------------


def snapshot_dates(snapshot: Snapshot) -> tuple[date, date]:
    """First and last date of the company's journal (today when it is empty)."""
    first, last = statements.data_range(snapshot)
    today = date.today()
    return first or today, last or first or today


def data_dates(books: Books) -> tuple[date, date]:
    """First and last date of the company's journal (today when it is empty)."""
    return snapshot_dates(books.snapshot)


def fiscal_years(books: Books) -> list[int]:
    """The fiscal years with data, newest first."""
    first, last = data_dates(books)
    calendar = books.calendar
    return list(range(calendar.year_of(last), calendar.year_of(first) - 1, -1))


def opens_to_date(calendar: periods.FiscalCalendar, year: int, last: date) -> bool:
    """Whether a period picker on ``year`` opens on «Año hasta la fecha»: the year is still open at the last date."""
    return calendar.start(year) <= last < calendar.end(year)


def to_date_default(calendar: periods.FiscalCalendar, year: int, last: date) -> date:
    """The «Hasta el día» a period picker on ``year`` opens with: the last date, within the year."""
    return min(max(last, calendar.start(year)), calendar.end(year))


def first_period_spec(snapshot: Snapshot) -> tuple:
    """The period (``spec_of``) a period picker opens on for this snapshot: its newest fiscal year, to date while it is
    open; what views/_warm.py builds ahead of the first visit."""
    calendar = statements.calendar_of(snapshot)
    _, last = snapshot_dates(snapshot)
    year = calendar.year_of(last)
    opening = ("ytd", to_date_default(calendar, year, last)) if opens_to_date(calendar, year, last) else ("year", year)
    return spec_of(period_of(calendar, opening))


def period_picker(books: Books, name: str) -> periods.Period:
    """Fiscal year and kind of period (year, quarter, month, year to date), fiscal-year aware."""
    calendar = books.calendar
    _, last = data_dates(books)
    left, middle, right = st.columns(3)
    year = left.selectbox(
        "Ejercicio", fiscal_years(books), format_func=calendar.year_label, key=books.widget_key(f"{name}-year")
    )
    still_open = opens_to_date(calendar, fiscal_years(books)[0], last)  # compare like with like by default
    kinds = list(PERIOD_KINDS)
    kind = middle.selectbox(
        "Periodo",
        kinds,
        index=kinds.index("ytd") if still_open else 0,
        format_func=PERIOD_KINDS.get,
        key=books.widget_key(f"{name}-kind"),
    )
    start, end = calendar.start(year), calendar.end(year)
    if kind == "quarter":
        number = right.selectbox(
            "Trimestre",
            [1, 2, 3, 4],
            format_func=lambda n: f"{periods.QUARTERS[n - 1]} trimestre",
            key=books.widget_key(f"{name}-quarter"),
        )
        return period_of(calendar, ("quarter", year, number))
    if kind == "month":
        months = [periods.add_months(start.replace(day=1), i) for i in range(12 + (start.day != 1))]
        chosen = right.selectbox(
            "Mes",
            months,
            format_func=lambda d: periods.month_label(d.year, d.month),
            key=books.widget_key(f"{name}-month"),
        )
        return period_of(calendar, ("month", chosen.year, chosen.month))
    if kind == "ytd":
        as_of = right.date_input(
            "Hasta el día",
            value=to_date_default(calendar, year, last),
            min_value=start,
            max_value=end,
            format="DD/MM/YYYY",
            key=books.widget_key(f"{name}-ytd-{year}"),
        )
        return period_of(calendar, ("ytd", as_of))
    return period_of(calendar, ("year", year))


def spec_of(period: periods.Period) -> tuple:
    """The plain (hashable) description of a Period, the inverse of ``period_of``."""
    if period.kind == "year":
        return ("year", period.fiscal_year)
    if period.kind == "quarter":
        return (
            "quarter",
            period.fiscal_year,
            periods._months_between(period.calendar.start(period.fiscal_year), period.start) // 3 + 1,
        )
    if period.kind == "month":
        return ("month", period.start.year, period.start.month)
    if period.kind == "ytd":
        return ("ytd", period.end)
    return ("range", period.start, period.end)


# --- tables -------------------------------------------------------------------------------------------------------


def amount_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of formatted amounts ('1.234,56 €', '12,5 %'), told by their first filled cell."""
    found = []
    for column in frame.columns:
        filled = frame[column].iloc[:20]
        first = next((v for v in filled if isinstance(v, str) and v not in ("", "—")), None)
        if first is not None and first.endswith(("€", "%")):
            found.append(column)
    return found


def show_table(
    frame: pd.DataFrame | list[dict], *, hidden: tuple[str, ...] = (), amounts: tuple[str, ...] | None = None, **kwargs
):
    """A read-only table, amounts aligned right; returns the selection event when ``on_select`` is given.

    No pandas Styler: styling a 60-line statement cost about 20 ms of every click (40 times the table itself);
    negative amounts keep their minus sign. On a phone the same rows show as cards (``views/_tables.py``).
    ``amounts`` names the amount columns when they carry no «€» (the Diario's Debe and Haber).
    """
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    amounts = list(amounts) if amounts is not None else amount_columns(frame)
    config: dict = {column: st.column_config.TextColumn(alignment="right") for column in amounts}
    config |= {column: None for column in hidden}  # kept in the data (selection, tests), not drawn
    dropped = [c for c in hidden if c in frame.columns]
    cards = frame.drop(columns=dropped) if dropped else frame  # drop() copies the frame even for no column
    return _tables.show(cards, amounts, data=frame, hide_index=True, column_config=config or None, **kwargs)


def statement_options(books: Books, name: str) -> tuple[bool, bool]:
    """The switches over a statement: show the lines with no amount, show the line codes (both off by default)."""
    left, right = st.columns(2)
    zeros = left.toggle("Mostrar partidas sin importe", key=books.widget_key(f"{name}-zeros"))
    codes = right.toggle("Mostrar códigos de partida", key=books.widget_key(f"{name}-codes"))
    return zeros, codes


def without_empty_lines(rows: pd.DataFrame, statement: statements.Statement) -> pd.DataFrame:
    """The statement's rows less the lines with nothing in either column (totals always stay)."""
    lines = statement.lines
    kept = [
        position
        for position, (kind, amount, prior) in enumerate(
            zip(lines["kind"].tolist(), lines["amount"].tolist(), lines["prior_amount"].tolist(), strict=True)
        )
        if kind == "total" or amount != 0 or not (prior is None or pd.isna(prior) or prior == 0)
    ]  # plain lists: pandas masks over the string columns cost most of a statement click
    return rows.take(kept).reset_index(drop=True)


def show_statement(books: Books, name: str, rows: pd.DataFrame, statement: statements.Statement, **kwargs):
    """A whole statement (no inner scroll), its empty lines and codes only on request; the table's return value."""
    zeros, codes = statement_options(books, name)
    shown = rows if zeros else without_empty_lines(rows, statement)
    return shown, show_table(shown, hidden=() if codes else ("Código",), height="content", **kwargs)


def statement_rows(statement: statements.Statement) -> pd.DataFrame:
    """The lines of a statement in Spanish: code, indented label, amount, prior, difference and % ('—' when none)."""
    compare = statement.prior_label is not None
    rows = []
    for line in statement.lines.itertuples():
        indent = "\u2003" * (0 if line.kind == "total" and line.depth == 0 else int(line.depth))
        row = {"Código": line.line_code, "Partida": indent + line.label, statement.label: fmt.money(line.amount)}
        if compare:
            prior = None if line.prior_amount is None or pd.isna(line.prior_amount) else line.prior_amount
            row[statement.prior_label] = fmt.money(prior)
            row["Diferencia"] = fmt.money(None if prior is None else line.difference)
            row["%"] = fmt.percent(None if prior is None else line.difference_ratio)
        rows.append(row)
    return pd.DataFrame(rows)


def monthly_wide(table: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Monthly breakdown (Decimal): one row per P&L line, one column per month, plus the total."""
    wide = table.pivot(index="line_code", columns="month_start", values="amount")
    wide = wide.reindex(lines["line_code"])
    out = pd.DataFrame({"line_code": lines["line_code"].tolist(), "label": lines["label"].tolist()})
    for month_start in wide.columns:
        out[periods.month_label(month_start.year, month_start.month)] = wide[month_start].tolist()
    out["Total"] = [sum(row, Decimal("0.00")) for row in wide.itertuples(index=False)]
    return out


def money_frame(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every Decimal cell as '1.234,56 €' (other columns kept)."""
    out = frame.copy()
    for column in out.columns:
        if column not in text_columns:
            out[column] = [fmt.money(v) if isinstance(v, Decimal) or v is None else v for v in out[column]]
    return out


# --- downloads ----------------------------------------------------------------------------------------------------


def downloads(
    books: Books,
    name: str,
    csv_table: pd.DataFrame,
    sheets: dict[str, pd.DataFrame],
    *,
    title: str,
    statement: statements.Statement | None = None,
) -> None:
    """CSV (the main table) and Excel (one sheet per report) buttons; a PDF too for a statement.

    Deferred downloads: each button holds a closure over the tables the page already read (of ``books``' company and
    snapshot, with its redaction applied) and the texts of the file; the bytes are built only when it is clicked,
    outside the script run (no ``st`` call, no session state), and nothing reaches the media store before.
    """
    company, snapshot_id = books.company, books.snapshot.snapshot_id
    stem = f"{name}-{company}-{snapshot_id[:8]}"
    heading, stamp = f"{books.name} · {title}", books.stamp
    columns = st.columns(3 if statement is not None else 2)
    columns[0].download_button(
        "Descargar CSV",
        lambda: export.to_csv_es(csv_table),
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"csv-{name}",
    )
    columns[1].download_button(
        "Descargar Excel",
        lambda: export.to_xlsx(sheets, title=heading, stamp=stamp),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="ignore",
        key=f"xlsx-{name}",
    )
    if statement is not None:
        firm, holder = books.settings.firm_name, f"{books.name} ({company})"
        columns[2].download_button(
            "Descargar PDF",
            lambda: export.statement_pdf(statement, firm=firm, company=holder, stamp=stamp),
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            key=f"pdf-{name}",
        )


# --- ledger cards and entries (shared by the P&L drill-down and the Mayor page) -----------------------------------


def ledger_rows(card: ledger.Ledger) -> pd.DataFrame:
    """A ledger page in Spanish."""
    return pd.DataFrame(
        {
            "Fecha": [fmt.date_es(d) for d in card.rows["date"]],
            "Asiento": [str(e) for e in card.rows["entry"]],
            "Concepto": card.rows["description"].tolist(),
            "Debe": [fmt.money(v) if v else "" for v in card.rows["debit"]],
            "Haber": [fmt.money(v) if v else "" for v in card.rows["credit"]],
            "Saldo": [fmt.money(v) for v in card.rows["balance"]],
            "Tipo": [ENTRY_TYPES.get(t, t) for t in card.rows["entry_type"]],
        },
        columns=["Fecha", "Asiento", "Concepto", "Debe", "Haber", "Saldo", "Tipo"],
    )


def entry_rows(lines: pd.DataFrame) -> pd.DataFrame:
    """An entry's lines in Spanish."""
    return pd.DataFrame(
        {
            "Fecha": [fmt.date_es(d) for d in lines["date"]],
            "Cuenta": lines["account"].tolist(),
            "Nombre": lines["name"].tolist(),
            "Concepto": lines["description"].tolist(),
            "Debe": [fmt.money(v) if v else "" for v in lines["debit"]],
            "Haber": [fmt.money(v) if v else "" for v in lines["credit"]],
        },
        columns=["Fecha", "Cuenta", "Nombre", "Concepto", "Debe", "Haber"],
    )


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def ledger_page(
    store_root: str,
    company: str,
    snapshot_id: str,
    account: str,
    start: date,
    end: date,
    page: int,
    people: tuple = (),
    label: str = "",
) -> tuple[ledger.Ledger, pd.DataFrame]:
    """A page of an account's ledger card and its lines in Spanish, read and formatted once per snapshot (store,
    company, snapshot id, account, dates, page and the user's hidden employees are all hashed)."""
    snapshot = _snapshot(store_root, company, snapshot_id)
    card = ledger.ledger(
        snapshot, account, start, end, page=page, page_size=LEDGER_PAGE_SIZE, hide=Redaction(people, label)
    )
    return card, ledger_rows(card)


def ledger_card(books: Books, account: str, start: date, end: date, *, name: str) -> None:
    """One account's ledger card (opening, totals, closing, a page of lines) and the whole entry when one is chosen."""
    if not journal.has_entries(books.snapshot):  # loaded from sumas y saldos: no entries to show
        st.info(NO_ENTRIES)
        return
    page_key = books.widget_key(f"{name}-page-{account}-{start}-{end}")
    page = int(st.session_state.get(page_key, 1))
    hidden = books.redaction
    card, rows = ledger_page(*books.key, account, start, end, page, hidden.people, hidden.label)
    st.markdown(_ui.plain(f"{account} · {card.name} · del {fmt.date_es(start)} al {fmt.date_es(end)}"))
    if card.pages > 1:
        st.number_input(
            f"Página (de {fmt.integer(card.pages)})", min_value=1, max_value=card.pages, value=1, step=1, key=page_key
        )
    pages = card.pages
    cols = st.columns(4)
    cols[0].metric("Saldo inicial", fmt.money(card.opening))
    cols[1].metric("Total debe", fmt.money(card.total_debit))
    cols[2].metric("Total haber", fmt.money(card.total_credit))
    cols[3].metric("Saldo final", fmt.money(card.closing))
    st.caption(
        f"Saldo inicial: {fmt.money(card.opening)} · Saldo final: {fmt.money(card.closing)} · "
        f"{fmt.integer(card.line_count)} apuntes"
        + (f" · página {int(page)} de {fmt.integer(pages)}" if pages > 1 else "")
    )
    if card.apertura is not None:  # the range starts the fiscal year: its apertura is the opening, not a line
        st.caption(f"El saldo inicial incluye el asiento de apertura del ejercicio ({fmt.money(card.apertura)}).")
    if card.rows.empty:
        st.info("La cuenta no tiene apuntes en estas fechas.")
        return
    show_table(rows)
    page_table = export.ledger_table(card)  # the page's lines, descriptions already redacted
    downloads(books, f"mayor-{account}", page_table, {"Mayor": page_table}, title=f"Mayor {account} {card.name}")
    entries = list(dict.fromkeys(zip(card.rows["fiscal_year"], card.rows["entry"], card.rows["date"], strict=True)))
    chosen = st.selectbox(
        "Ver el asiento completo",
        entries,
        index=None,
        placeholder="Elija un asiento",
        format_func=lambda e: f"Asiento {e[1]} · {fmt.date_es(e[2])}",
        key=books.widget_key(f"{name}-entry-{account}-{start}-{end}-{page}"),
    )
    if chosen is not None:
        lines = ledger.entry_lines(books.snapshot, int(chosen[0]), int(chosen[1]), hide=books.redaction)
        st.markdown(_ui.plain(f"Asiento {chosen[1]} del {fmt.date_es(chosen[2])}"))
        show_table(entry_rows(lines))


def coded_choice(label: str, names: dict, *, placeholder: str, key: str) -> str | None:
    """A drill-down selectbox over codes shown as «code · name»; the chosen code, or None."""
    return st.selectbox(
        label, list(names), index=None, placeholder=placeholder, format_func=lambda c: f"{c} · {names[c]}", key=key
    )
