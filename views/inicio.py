"""Inicio (client): one card per module the user holds on the company, with its key figure and a link to its page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import streamlit as st

from auth import access, labour_blocks
from etl.store import Snapshot, Store
from portal import clock, fmt
from reports import alerts as alert_rules
from reports import cases, changes, invoices, labour, periods, statements, tax_calendar, treasury
from services import alerts, documents, requests
from views import _accounting, _client, _ui

log = logging.getLogger(__name__)

# The page each card links to (app.py PAGES), in the order the cards are drawn.
PAGES = {
    "contabilidad": "views/contabilidad.py",
    "tesoreria": "views/tesoreria.py",
    "impuestos": "views/impuestos_calendario.py",
    "expedientes": "views/expedientes.py",
    "facturas": "views/facturas.py",
    "documentos": "views/documentos.py",
    "laboral": "views/laboral.py",
}
SOON = "Sin datos publicados todavía"  # granted, but nothing of the module is published for the company yet
NO_MODULES = "Su despacho aún no ha activado módulos para su usuario."
FAILED = "No se ha podido calcular este resumen ahora mismo."
COLUMNS = 3


# --- cached figures (store, company and snapshot id are hashed arguments: a new publication never hits) -----------


def _snap(store_root: str, company: str, snapshot_id: str) -> Snapshot:
    return _accounting._snapshot(store_root, company, snapshot_id)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_last_date(store_root: str, company: str, snapshot_id: str) -> date | None:
    """The last date of the company's journal (None: no journal lines)."""
    return statements.data_range(_snap(store_root, company, snapshot_id))[1]


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_treasury(store_root: str, company: str, snapshot_id: str, today: date) -> treasury.TreasurySummary | None:
    """Bank balance and overdue receivables on ``today`` (None: no treasury data)."""
    snapshot = _snap(store_root, company, snapshot_id)
    return treasury.home_summary(snapshot, today) if treasury.has_treasury(snapshot) else None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_deadline(store_root: str, company: str, snapshot_id: str, today: date) -> tax_calendar.Deadline | None:
    """The next pending tax deadline from ``today`` (None: the company files nothing)."""
    return tax_calendar.next_deadline(_snap(store_root, company, snapshot_id), today)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_cases(store_root: str, company: str, snapshot_id: str, scope: str) -> cases.CaseSummary | None:
    """Open case files within the user's scope and the latest shared update (None: no case files)."""
    snapshot = _snap(store_root, company, snapshot_id)
    return cases.home_summary(snapshot, scope) if cases.has_cases(snapshot) else None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_invoices(store_root: str, company: str, snapshot_id: str, today: date) -> invoices.InvoiceSummary | None:
    """The firm's unpaid invoices on ``today`` (None: no invoices)."""
    snapshot = _snap(store_root, company, snapshot_id)
    return invoices.home_summary(snapshot, today) if invoices.has_invoices(snapshot) else None


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def cached_changes(store_root: str, company: str, snapshot_id: str, previous_id: str) -> changes.Changes:
    """What the published snapshot changes over the one published before it (cached per pair of snapshots)."""
    return changes.compare(_snap(store_root, company, snapshot_id), _snap(store_root, company, previous_id))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_alert(
    store_root: str, company: str, snapshot_id: str, alert: alert_rules.Alert, today: date
) -> alert_rules.Fired | None:
    """One alert evaluated on a snapshot and day (cached: the alert, with its threshold, is part of the key)."""
    return alert_rules.evaluate(alert, _snap(store_root, company, snapshot_id), today)


# --- the cards ------------------------------------------------------------------------------------------------------


def counted(n: int, one: str, many: str) -> str:
    """'1 factura', '3 facturas'."""
    return f"{fmt.integer(n)} {one if n == 1 else many}"


def accounting_card(books: _accounting.Books, today: date) -> bool:
    """Result of the fiscal year so far against the same stretch of the previous year."""
    last = cached_last_date(*books.key)
    if last is None:
        return False
    statement = _accounting.pnl(*books.key, ("ytd", last))
    result, prior = statement.amount(statements.PNL_RESULT), statement.prior(statements.PNL_RESULT)
    st.metric(
        "Resultado del ejercicio",
        fmt.money(result),
        delta=None if prior is None else fmt.money(result - prior),
        help=None if prior is None else f"{statement.prior_label}: {fmt.money(prior)}",
    )
    compared = "" if prior is None else f" · {statement.prior_label}: {fmt.money(prior)}"
    st.caption(_ui.plain(f"{statement.label}{compared}"))
    return True


def treasury_card(books: _accounting.Books, today: date) -> bool:
    summary = cached_treasury(*books.key, today)
    if summary is None:
        return False
    st.metric("Saldo en bancos", fmt.money(summary.bank_balance))  # stacked: side by side they get cut on a card
    st.metric("Cobros vencidos", fmt.money(summary.overdue_receivables))
    st.caption(f"{counted(summary.overdue_count, 'cobro vencido', 'cobros vencidos')} a {fmt.date_es(today)}")
    return True


def taxes_card(books: _accounting.Books, today: date) -> bool:
    deadline = cached_deadline(*books.key, today)
    if deadline is None:
        return False
    st.metric("Próximo vencimiento", fmt.date_es(deadline.date))
    st.caption(_ui.plain(deadline.label))
    return True


def cases_card(books: _accounting.Books, today: date) -> bool:
    scope = (books.grant.options if books.grant else {}).get("cases", "both")
    summary = cached_cases(*books.key, scope)
    if summary is None:
        return False
    st.metric("Expedientes abiertos", fmt.integer(summary.open_count))
    if summary.last_update is not None:
        st.caption(f"Última novedad: {fmt.date_es(summary.last_update)}")
    return True


def invoices_card(books: _accounting.Books, today: date) -> bool:
    summary = cached_invoices(*books.key, today)
    if summary is None:
        return False
    st.metric("Facturas pendientes", fmt.integer(summary.pending_count))
    st.metric("Importe pendiente", fmt.money(summary.pending_amount))
    st.caption(f"{counted(summary.overdue_count, 'vencida', 'vencidas')} a {fmt.date_es(today)}")
    return True


def documents_card(books: _accounting.Books, today: date) -> bool:
    count = documents.new_count(books.engine, books.settings, books.user, books.company, books.snapshot)
    st.metric("Documentos nuevos", fmt.integer(count))
    return True


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_staff(
    store_root: str, company: str, snapshot_id: str, today: date, blocked: frozenset[str]
) -> tuple[int, int] | None:
    """Employees on ``today`` and contracts ending within 30 days, blocked employees left out (None: no data)."""
    snapshot = _snap(store_root, company, snapshot_id)
    if not labour.has_labour(snapshot):
        return None
    ending = labour.contracts_ending(snapshot, blocked, today=today, days=30)
    return labour.headcount_on(snapshot, blocked, today), len(ending)


def labour_card(books: _accounting.Books, today: date) -> bool:
    """Headcount and contracts ending soon, each only when the firm shares the table it comes from."""
    tables = set((books.grant.options if books.grant else {}).get("tables", []))
    wants_staff, wants_ending = bool(tables & {"plantilla_media", "altas_bajas"}), "fin_contratos" in tables
    if not (wants_staff or wants_ending):
        return True  # shared tables without a headline figure: the link alone
    figures = cached_staff(*books.key, today, labour_blocks.blocked(books.engine, books.company))
    if figures is None:
        return False
    staff, ending = figures
    if wants_staff:
        st.metric("Personas en plantilla", fmt.integer(staff))
    if wants_ending:
        st.metric("Contratos que terminan en 30 días", fmt.integer(ending))
    st.caption(f"A {fmt.date_es(today)}")
    return True


CARDS: dict[str, Callable[[_accounting.Books, date], bool]] = {
    "contabilidad": accounting_card,
    "tesoreria": treasury_card,
    "impuestos": taxes_card,
    "expedientes": cases_card,
    "facturas": invoices_card,
    "documentos": documents_card,
    "laboral": labour_card,
}


def card(module: str, books: _accounting.Books | None, today: date) -> None:
    """One module's card: its link and figures, «Sin datos publicados todavía» with no data; never breaks the page."""
    label = access.MODULE_LABELS[module]
    with st.container(border=True):
        if books is None:
            st.markdown(_ui.plain(f"{label} · {SOON}"))
            return
        holder = st.empty()
        try:
            with st.container():
                shown = CARDS[module](books, today)
        except Exception:
            log.exception("home card %s of %s failed", module, books.company)
            shown = None
        if shown is False:
            st.markdown(_ui.plain(f"{label} · {SOON}"))
            return
        holder.page_link(PAGES[module], label=label, icon=":material/arrow_forward:")
        if shown is None:
            st.caption(FAILED)


# --- qué ha cambiado ---------------------------------------------------------------------------------------------


def line_rows(lines) -> list[dict]:
    """The statement lines that changed, in Spanish."""
    return [
        {
            "Partida": row.label,
            "Estado": row.statement,
            "Periodo": row.period,
            "Antes": fmt.money(row.before),
            "Ahora": fmt.money(row.after),
            "Diferencia": fmt.money(row.difference),
            "Corrección": "Sí" if row.correction else "",
        }
        for row in lines.itertuples()
    ]


def entry_rows(entries) -> list[dict]:
    """Entries added, changed and removed per month, in Spanish."""
    return [
        {
            "Mes": periods.month_label(row.month.year, row.month.month),
            "Nuevos": fmt.integer(row.added),
            "Modificados": fmt.integer(row.changed),
            "Eliminados": fmt.integer(row.removed),
        }
        for row in entries.itertuples()
    ]


ITEM_ROWS = {
    "invoices": lambda r: {
        "Número": r.number,
        "Fecha": fmt.date_es(r.issue_date),
        "Concepto": r.concept,
        "Total": fmt.money(r.total),
    },
    "returns": lambda r: {
        "Modelo": r.model,
        "Ejercicio": str(r.year),
        "Periodo": r.period,
        "Importe": fmt.money(r.amount),
    },
    "documents": lambda r: {"Documento": r.title, "Categoría": r.category, "Fecha": fmt.date_es(r.doc_date)},
}


def what_changed(store: Store, company: str, snapshot: Snapshot, modules: dict) -> None:
    """«Qué ha cambiado» since the previous publication, only for the modules the user holds."""
    previous = changes.previous_published(store, company, snapshot.snapshot_id)
    if previous is None:
        return
    found = cached_changes(str(store.root), company, snapshot.snapshot_id, previous.snapshot_id)
    st.subheader("Qué ha cambiado")
    st.caption(
        f"Desde la publicación anterior: datos a fecha {fmt.date_es(found.old_until)}, ahora a "
        f"{fmt.date_es(found.new_until)}."
    )
    parts = changes.summary(found.counts(), modules)
    if not parts:
        st.markdown("Nada nuevo en sus módulos.")
        return
    st.markdown(_ui.plain("; ".join(parts).capitalize() + "."))
    if "contabilidad" in modules and len(found.lines):
        with st.expander("Partidas de los estados que han cambiado"):
            _accounting.show_table(line_rows(found.lines))
    if "contabilidad" in modules and len(found.entries):
        with st.expander("Asientos por mes"):
            _accounting.show_table(entry_rows(found.entries), amounts=("Nuevos", "Modificados", "Eliminados"))
    for kind, (module, _one, many) in changes.ITEM_WORDS.items():
        if module in modules and len(found.items[kind]):
            with st.expander(many.capitalize()):
                _accounting.show_table([ITEM_ROWS[kind](row) for row in found.items[kind].itertuples()])


user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Portal del Cliente")
st.markdown(_ui.plain(f"Hola, {user['name'] or user['username']}."))
with _ui.errors_shown():
    company = _client.current_company(engine, user)
    modules = access.modules_of(engine, user, company) if company is not None else {}
    if company is None or not modules:
        st.info(NO_MODULES)
        st.stop()
    snapshot = Store(settings.stores).current(company)  # what clients see: the published snapshot only
    _client.show_stamp(settings, engine, user, company, snapshot)
    name = _client.company_name(engine, user, company)
    today = clock.today_madrid()
    if snapshot is not None:  # the user's alerts that hold now, first
        for alert in alerts.watched(engine, user, company):
            fired = cached_alert(str(settings.stores), company, snapshot.snapshot_id, alert, today)
            if fired is not None:
                st.warning(_ui.plain(fired.message), icon=":material/notifications_active:")
    if "documentos" in modules:  # then what the firm asked for and is still to send
        asked = requests.to_deliver(engine, company)
        if asked:
            late = sum(1 for i in asked if i.due_date < today)
            first = f"la primera fecha límite es el {fmt.date_es(asked[0].due_date)}"
            st.info(
                f"Su despacho le pide {counted(len(asked), 'documento', 'documentos')}: {first}"
                + (f"; {counted(late, 'está fuera de plazo', 'están fuera de plazo')}." if late else "."),
                icon=":material/checklist:",
            )
            st.page_link("views/solicitudes.py", label="Entregar la documentación", icon=":material/upload:")
    shown = [m for m in PAGES if m in modules]
    for index, module in enumerate(shown):
        if index % COLUMNS == 0:  # a new row of cards: reading order is row by row
            columns = st.columns(COLUMNS)
        books = None
        if snapshot is not None:
            grant = access.Grant(company, module, modules[module])
            books = _accounting.Books(settings, engine, user, company, name, snapshot, grant)
        with columns[index % COLUMNS]:
            card(module, books, today)
    if snapshot is not None:
        what_changed(Store(settings.stores), company, snapshot, modules)
