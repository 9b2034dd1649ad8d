"""The firm's shared documents of one company as published in its snapshot (index and PDF bytes), pure."""

from __future__ import annotations

import duckdb
import pandas as pd

from etl.store import Snapshot

INDEX, FILES = "documents.parquet", "document_files.parquet"
COLUMNS = ["title", "category", "doc_date", "year", "file_name", "size", "sha256"]


def has_documents(snapshot: Snapshot | None) -> bool:
    """True when the snapshot carries the document index."""
    return snapshot is not None and snapshot.has(INDEX)


def documents(snapshot: Snapshot | None) -> pd.DataFrame:
    """The published index (newest first): title, category, doc_date, year, file_name, size, sha256."""
    if not has_documents(snapshot):
        return pd.DataFrame(columns=COLUMNS)
    with duckdb.connect() as con:
        frame = con.execute(
            "SELECT title, category, doc_date, year, file_name, size, sha256 FROM read_parquet(?)"
            " ORDER BY doc_date DESC, category, title",
            [str(snapshot.file(INDEX))],
        ).df()
    frame["doc_date"] = [pd.Timestamp(v).date() for v in frame["doc_date"]]
    return frame[COLUMNS]


def content(snapshot: Snapshot | None, sha256: str) -> bytes | None:
    """The bytes of one published document by its sha256; None when the snapshot has no such document."""
    if not has_documents(snapshot) or not snapshot.has(FILES):
        return None
    with duckdb.connect() as con:
        row = con.execute("SELECT content FROM read_parquet(?) WHERE sha256 = ?", [str(snapshot.file(FILES)), sha256])
        found = row.fetchone()
    return None if found is None else bytes(found[0])
