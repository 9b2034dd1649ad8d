"""The Diario page's cached reads (a page of the newest lines, their count): importable, so the process can read a
published snapshot's first page before anyone asks (views/_warm.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from etl.store import Store
from reports import journal
from reports.redaction import Redaction


def _source(store_root: str, company: str, snapshot_id: str, people: tuple, label: str) -> tuple:
    """The snapshot a cached read works on and the user's redaction (None when nobody is hidden)."""
    return Store(Path(store_root)).snapshot(company, snapshot_id), Redaction(people, label) if people else None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def latest_entries(
    store_root: str,
    company: str,
    snapshot_id: str,
    text: str,
    date_from: date | None,
    date_to: date | None,
    people: tuple = (),
    label: str = "",
    page: int = 1,
    page_size: int = journal.PAGE_SIZE,
) -> pd.DataFrame:
    """One page of the filtered lines, newest first; cached per store, company, snapshot id, filters, page and the
    user's hidden employees (all hashed: a new publication, another company or another user's redaction never
    hits)."""
    snapshot, hide = _source(store_root, company, snapshot_id, people, label)
    return journal.recent_entries(
        snapshot,
        limit=page_size,
        offset=(page - 1) * page_size,
        text=text or None,
        date_from=date_from,
        date_to=date_to,
        hide=hide,
    )


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def entry_count(
    store_root: str,
    company: str,
    snapshot_id: str,
    text: str,
    date_from: date | None,
    date_to: date | None,
    people: tuple = (),
    label: str = "",
) -> int:
    """How many lines pass the filters (what the user may read of them), cached like ``latest_entries``."""
    snapshot, hide = _source(store_root, company, snapshot_id, people, label)
    return journal.count_entries(snapshot, text=text or None, date_from=date_from, date_to=date_to, hide=hide)
