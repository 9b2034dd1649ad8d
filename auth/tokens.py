"""One-time tokens for activation and password-reset links: random, stored only as SHA-256, single use, expiring."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from portal.db import one_time_tokens

PURPOSES = ("activation", "reset", "session", "session_mfa")  # session*: the sign-in hand-off
TOKEN_BYTES = 32  # 256 random bits, 43 URL-safe characters
MAX_TOKEN_CHARS = 128  # anything longer cannot be one of ours


def digest(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")


def issue(
    bind: Engine | Connection,
    user_id: int,
    purpose: str,
    *,
    ttl: timedelta,
    now: datetime | None = None,
    binding: str | None = None,
) -> str:
    """A new token for the user, valid for ``ttl``; the user's earlier unused tokens of that purpose stop working.

    ``binding`` (a digest) ties the token to something only its rightful holder presents along with it.
    """
    _check_purpose(purpose)
    moment = _utc(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with _transaction(bind) as conn:
        conn.execute(
            sa.update(one_time_tokens)
            .where(
                one_time_tokens.c.user_id == user_id,
                one_time_tokens.c.purpose == purpose,
                one_time_tokens.c.used_at.is_(None),
                one_time_tokens.c.expires_at > moment,
            )
            .values(expires_at=moment)
        )
        conn.execute(
            sa.insert(one_time_tokens).values(
                user_id=user_id,
                purpose=purpose,
                token_hash=digest(token),
                binding=binding,
                created_at=moment,
                expires_at=moment + ttl,
            )
        )
    return token


def _valid(token: str, purpose: str, moment: datetime) -> list:
    return [
        one_time_tokens.c.token_hash == digest(token),
        one_time_tokens.c.purpose == purpose,
        one_time_tokens.c.used_at.is_(None),
        one_time_tokens.c.expires_at > moment,
    ]


def peek(bind: Engine | Connection, token: str, purpose: str, *, now: datetime | None = None) -> int | None:
    """The user id when the token is valid (right purpose, unused, unexpired), without using it; else None."""
    _check_purpose(purpose)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    with _transaction(bind) as conn:
        return conn.execute(sa.select(one_time_tokens.c.user_id).where(*_valid(token, purpose, _utc(now)))).scalar()


def redeem(
    bind: Engine | Connection, token: str, purpose: str, *, now: datetime | None = None, binding: str | None = None
) -> int | None:
    """Use the token once (atomically: of two concurrent redeems only one wins); the user id, or None.

    A token issued with a binding is redeemed only with the same binding.
    """
    _check_purpose(purpose)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    moment = _utc(now)
    bound = one_time_tokens.c.binding.is_(None) if binding is None else one_time_tokens.c.binding == binding
    statement = (
        sa.update(one_time_tokens)
        .where(*_valid(token, purpose, moment), bound)
        .values(used_at=moment)
        .returning(one_time_tokens.c.user_id)
    )
    with _transaction(bind) as conn:
        return conn.execute(statement).scalar()


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """``engine.begin()`` for an Engine; the caller's own transaction for a Connection (the token commits with it)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.begin() as conn:
            yield conn
