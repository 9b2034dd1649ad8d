"""One-time tokens: only the SHA-256 is stored; valid once; they expire; a new one replaces the old; purposes apart.

Every test runs on SQLite and on PostgreSQL (``db_url``); the races with real threads on both.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth import tokens, users
from portal import clock
from portal.db import get_engine, one_time_tokens

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def engine(db_url):
    """The portal database, once on SQLite and once on PostgreSQL (``tests/pg.py``)."""
    return get_engine(db_url)


@pytest.fixture
def user_id(engine):
    return users.create_user(engine, "ana", "tortuga ventana azul montaña", role="client")


def stored(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(one_time_tokens).order_by(one_time_tokens.c.id))]


def test_only_the_sha256_is_stored_and_the_token_is_long_and_url_safe(engine, user_id):
    token = tokens.issue(engine, user_id, "activation", ttl=HOUR, now=T0)
    assert len(token) >= 43 and all(c.isalnum() or c in "-_" for c in token)
    (row,) = stored(engine)
    assert row["token_hash"] == tokens.digest(token) and len(row["token_hash"]) == 64
    assert token not in str(row)
    assert clock.as_utc(row["expires_at"]) == T0 + HOUR  # PostgreSQL answers in its own time zone


def test_peek_does_not_use_the_token_and_redeem_works_exactly_once(engine, user_id):
    token = tokens.issue(engine, user_id, "activation", ttl=HOUR, now=T0)
    assert tokens.peek(engine, token, "activation", now=T0) == user_id
    assert tokens.peek(engine, token, "activation", now=T0) == user_id
    assert tokens.redeem(engine, token, "activation", now=T0 + timedelta(minutes=5)) == user_id
    assert tokens.redeem(engine, token, "activation", now=T0 + timedelta(minutes=6)) is None
    assert tokens.peek(engine, token, "activation", now=T0 + timedelta(minutes=6)) is None


def test_a_token_expires(engine, user_id):
    token = tokens.issue(engine, user_id, "reset", ttl=HOUR, now=T0)
    assert tokens.peek(engine, token, "reset", now=T0 + HOUR - timedelta(seconds=1)) == user_id
    assert tokens.peek(engine, token, "reset", now=T0 + HOUR) is None
    assert tokens.redeem(engine, token, "reset", now=T0 + HOUR) is None


def test_purposes_do_not_mix_and_unknown_strings_are_refused(engine, user_id):
    token = tokens.issue(engine, user_id, "reset", ttl=HOUR, now=T0)
    assert tokens.peek(engine, token, "activation", now=T0) is None
    assert tokens.redeem(engine, token, "activation", now=T0) is None
    for bad in ("", "x", token + "x", "' OR 1=1 --", "a" * 10_000):
        assert tokens.redeem(engine, bad, "reset", now=T0) is None
    with pytest.raises(ValueError):
        tokens.issue(engine, user_id, "login", ttl=HOUR)


def test_a_new_token_replaces_the_earlier_unused_one_of_that_purpose_only(engine, user_id):
    first = tokens.issue(engine, user_id, "activation", ttl=HOUR, now=T0)
    reset = tokens.issue(engine, user_id, "reset", ttl=HOUR, now=T0)
    second = tokens.issue(engine, user_id, "activation", ttl=HOUR, now=T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=2)
    assert tokens.peek(engine, first, "activation", now=later) is None
    assert tokens.peek(engine, second, "activation", now=later) == user_id
    assert tokens.peek(engine, reset, "reset", now=later) == user_id


def test_concurrent_redeems_let_exactly_one_win(engine, user_id):
    token = tokens.issue(engine, user_id, "reset", ttl=HOUR)
    results: list[int | None] = []
    start = threading.Barrier(8)

    def redeem() -> None:
        start.wait()
        results.append(tokens.redeem(engine, token, "reset"))

    workers = [threading.Thread(target=redeem) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results, key=str) == [user_id] + [None] * 7
