"""The firm's case files of one company as a client may see them (shared only, within the grant's scope), pure.

Nothing internal ever leaves this module: a case file with compartido = n, or outside the user's open/closed
scope, is absent from every list, timeline and summary; a milestone or note with compartido = n likewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from etl.store import Snapshot
from portal.fmt import fold

CASES, EVENTS = "cases.parquet", "case_events.parquet"
CLOSED_STATES = ("cerrado", "archivado", "cancelado")  # every other state of domain.md §9 is open
SCOPES = {"open": (True,), "closed": (False,), "both": (True, False)}  # grant option -> which is_open values
STATE_LABELS = {
    "abierto": "Abierto",
    "pendiente_documentacion_cliente": "Pendiente de documentación del cliente",
    "en_tramite": "En trámite",
    "presentado": "Presentado",
    "pendiente_resolucion": "Pendiente de resolución",
    "resuelto_favorable": "Resuelto favorable",
    "resuelto_desfavorable": "Resuelto desfavorable",
    "recurrido": "Recurrido",
    "cerrado": "Cerrado",
    "archivado": "Archivado",
    "cancelado": "Cancelado",
}
KIND_LABELS = {"hito": "Hito", "nota": "Nota", "plazo": "Plazo"}
UPDATE_KINDS = ("hito", "nota")  # a deadline ('plazo') is a date ahead, not an update
CASE_COLUMNS = ["code", "case_type", "title", "opened", "closed", "state", "state_label", "responsible", "is_open"]
EVENT_COLUMNS = ["date", "kind", "kind_label", "state", "state_label", "description", "note"]


@dataclass(frozen=True)
class CaseSummary:
    """The home card: open case files the user sees and the date of the latest shared update."""

    open_count: int
    last_update: date | None


def has_cases(snapshot: Snapshot) -> bool:
    """True when the snapshot carries case files."""
    return snapshot.has(CASES)


def _check(scope: str) -> tuple[bool, ...]:
    if scope not in SCOPES:
        raise ValueError(f"unknown case scope {scope!r}")
    return SCOPES[scope]


def _day(value: object) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def case_files(snapshot: Snapshot, scope: str) -> pd.DataFrame:
    """The shared case files within ``scope`` ('open', 'closed', 'both'), newest opened first."""
    wanted = _check(scope)
    if not has_cases(snapshot):
        return pd.DataFrame(columns=CASE_COLUMNS)
    with duckdb.connect() as con:
        frame = con.execute(
            "SELECT code, case_type, title, opened, closed, state, responsible,"
            " NOT list_contains(?, state) AS is_open FROM read_parquet(?)"
            " WHERE shared AND list_contains(?, NOT list_contains(?, state)) ORDER BY opened DESC, code DESC",
            [list(CLOSED_STATES), str(snapshot.file(CASES)), list(wanted), list(CLOSED_STATES)],
        ).df()
    frame["opened"] = [_day(v) for v in frame["opened"]]
    frame["closed"] = [_day(v) for v in frame["closed"]]
    frame["state_label"] = [STATE_LABELS[s] for s in frame["state"]]
    frame["is_open"] = frame["is_open"].astype(bool)
    return frame[CASE_COLUMNS]


def filter_cases(
    frame: pd.DataFrame, *, case_type: str | None = None, state: str | None = None, text: str = ""
) -> pd.DataFrame:
    """The rows of ``case_files`` of one type, one state and containing ``text`` (code, title or responsible)."""
    keep = pd.Series(True, index=frame.index)
    if case_type:
        keep &= frame["case_type"] == case_type
    if state:
        keep &= frame["state"] == state
    needle = text.strip().casefold()
    if needle:
        haystack = frame["code"] + " " + frame["title"] + " " + frame["responsible"].fillna("")
        keep &= pd.Series([needle in h.casefold() for h in haystack], index=frame.index, dtype=bool)  # literal text
    return frame[keep].reset_index(drop=True)


def _plain(text: str) -> str:
    """Lower case, no accents, no end punctuation or extra spaces: how two labels are compared."""
    return " ".join(fold(text).strip(" .;:-—").split())


def milestone_note(state_label: str, description: str | None) -> str:
    """What a milestone adds to its state: its description, or '' when that only repeats the state
    («Pendiente de resolución» of a milestone in state pendiente_resolucion) or is empty."""
    text = (description or "").strip()
    return "" if not text or (state_label and _plain(text) == _plain(state_label)) else text


def timeline(snapshot: Snapshot, code: str, scope: str) -> pd.DataFrame:
    """The shared milestones of one visible case file, oldest first; empty for a case file the user may not see.

    ``note``: the description, empty when it only repeats the milestone's state (the timeline shows the state once).
    """
    visible = case_files(snapshot, scope)
    if code not in set(visible["code"]) or not snapshot.has(EVENTS):
        return pd.DataFrame(columns=EVENT_COLUMNS)
    with duckdb.connect() as con:
        frame = con.execute(
            "SELECT date, kind, state, description FROM read_parquet(?)"
            " WHERE shared AND case_code = ? ORDER BY date, source_line",
            [str(snapshot.file(EVENTS)), code],
        ).df()
    frame["date"] = [_day(v) for v in frame["date"]]
    frame["state"] = [None if s is None or pd.isna(s) else s for s in frame["state"]]
    frame["kind_label"] = [KIND_LABELS[k] for k in frame["kind"]]
    frame["state_label"] = [STATE_LABELS.get(s, "") if s else "" for s in frame["state"]]
    frame["note"] = [milestone_note(s, d) for s, d in zip(frame["state_label"], frame["description"], strict=True)]
    return frame[EVENT_COLUMNS]


def home_summary(snapshot: Snapshot, scope: str) -> CaseSummary:
    """Open case files the user sees (none with the 'closed' scope) and the latest shared milestone or note date."""
    visible = case_files(snapshot, scope)
    open_count = int(visible["is_open"].sum()) if not visible.empty else 0
    if visible.empty or not snapshot.has(EVENTS):
        return CaseSummary(open_count, None)
    with duckdb.connect() as con:
        (last,) = con.execute(
            "SELECT max(date) FROM read_parquet(?)"
            " WHERE shared AND list_contains(?, kind) AND list_contains(?, case_code)",
            [str(snapshot.file(EVENTS)), list(UPDATE_KINDS), visible["code"].tolist()],
        ).fetchone()
    return CaseSummary(open_count, _day(last))
