"""The warmer builds a publication's first P&L and Diario before anyone asks: the first visit then computes nothing
from the snapshot; it follows new publications, the most recent first, and a damaged snapshot never stops it."""

from __future__ import annotations

import pytest
import streamlit as st

from etl import service
from reports import journal, statements
from tests.test_security import (
    ALFA,
    World,
    journal_rows,
    make_world,
    open_page,
    open_tab,
    signed_in,
    write_journal,
)
from tests.test_security import template as template  # the module-scoped world the fixture copies
from views import _warm

COMPUTATIONS = [
    (statements, "profit_and_loss"),
    (statements, "monthly_pnl"),
    (statements, "top_expenses"),
    (journal, "recent_entries"),
    (journal, "count_entries"),
]


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield make_world(template, tmp_path, monkeypatch)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def computed(monkeypatch) -> list[str]:
    """The names of the report computations run from now on (a cached page runs none)."""
    seen: list[str] = []
    for module, name in COMPUTATIONS:
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: seen.append(_name) or _real(*a, **k))
    return seen


def test_after_a_round_the_first_pnl_and_diario_compute_nothing(world, computed):
    warmer = _warm.Warmer(world.settings.stores, companies=20)
    assert sorted(warmer.round()) == ["alfa", "beta"]
    assert warmer.round() == []  # nothing published since
    computed.clear()
    at = open_page(signed_in("ana"), "contabilidad_pyg")
    assert any("Resultado del ejercicio" in m.label for m in at.metric)
    assert len(open_tab(at, "pyg-tab-", "Gráficos").get("plotly_chart")) == 2  # alfa has no expenses: monthly only
    open_page(at, "contabilidad")
    assert journal_rows(at)
    assert computed == []  # every read of both first screens (and the charts) was built, with the pages' arguments


def test_without_a_round_the_first_visit_computes(world, computed):
    """The control of the test above: the same visits on cold caches do compute (so a hit there is the warmer's)."""
    at = open_page(signed_in("ana"), "contabilidad_pyg")
    open_tab(at, "pyg-tab-", "Gráficos")
    open_page(at, "contabilidad")
    assert {"profit_and_loss", "monthly_pnl", "top_expenses", "recent_entries", "count_entries"} <= set(computed)


def test_a_new_publication_is_warmed_first_and_the_number_of_companies_is_kept(world):
    warmer = _warm.Warmer(world.settings.stores, companies=1)
    assert [c for c, _ in warmer.published()] == ["beta", "alfa"]  # beta was published after alfa
    assert warmer.round() == ["beta"]
    write_journal(world.settings, "alfa", ALFA.replace("Venta", "Venta de mercaderías"))
    [result] = service.load_all(world.settings, companies=["alfa"])
    assert result.outcome == "published", result.message
    assert [c for c, _ in warmer.published()] == ["alfa", "beta"]
    assert warmer.round() == ["alfa"]
    assert warmer.warmed["alfa"] == world.store().current("alfa").snapshot_id
    assert warmer.round() == []


def test_a_damaged_snapshot_is_skipped_once_and_the_others_are_warmed(world, caplog):
    damaged = world.store().current("alfa")
    for name in ("journal.parquet", "monthly.parquet"):
        (damaged.path / name).unlink(missing_ok=True)
    warmer = _warm.Warmer(world.settings.stores, companies=20)
    assert warmer.round() == ["beta"]
    assert "alfa" in caplog.text
    assert warmer.warmed["alfa"] == damaged.snapshot_id  # not tried again until its next publication
    assert warmer.round() == []


def test_the_thread_runs_rounds_until_stopped_and_none_with_zero_companies(world):
    assert _warm.Warmer(world.settings.stores, companies=0).start()._thread is None
    warmer = _warm.Warmer(world.settings.stores, companies=20, interval=0.05).start()
    try:
        for _ in range(400):
            if set(warmer.warmed) == {"alfa", "beta"}:
                break
            warmer._stop.wait(0.05)
        assert set(warmer.warmed) == {"alfa", "beta"}
    finally:
        warmer.stop()
    assert not warmer._thread.is_alive()
