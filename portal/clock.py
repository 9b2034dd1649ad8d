"""The firm's clock: the current instant in UTC, the Madrid day, and stored moments as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")


def now_utc() -> datetime:
    """The current instant, in UTC (how the portal stores every moment)."""
    return datetime.now(UTC)


def to_madrid(moment: datetime) -> datetime:
    """The same instant on the Madrid clock (naive input is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(MADRID)


def today_madrid() -> date:
    """Today's date on the firm's clock (expiry dates are Madrid days)."""
    return to_madrid(now_utc()).date()


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite gives them back naive)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def madrid_midnight(day: date) -> datetime:
    """The instant (UTC) a Madrid day starts."""
    return datetime.combine(day, time(0), MADRID).astimezone(UTC)
