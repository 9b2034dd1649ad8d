"""The sign-in lockout under real concurrency, on SQLite and PostgreSQL (security.md §4, test 2).

``auth.login.password_step`` counts every attempt with one conditional UPDATE (``auth.users.claim_attempt``)
before any password is checked. Here 50 threads released together by a barrier sign in to one account whose
maximum is 3, through one shared engine built by ``portal.db.get_engine`` as in production. Every bcrypt check
is counted, told apart by the hash it runs against: the user's real hash, or the throw-away hash that keeps a
refusal as costly as a real check. The assertions are on counts and database state, never on wall-clock time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import bcrypt
import pytest
import sqlalchemy as sa

from auth import login, passwords, users
from portal import clock
from portal.db import audit_log, get_engine
from portal.db import users as users_table
from tests.pg import pg_settings

USERNAME = "ana"
PASSWORD = "tortuga ventana azul montaña"
WRONG = "elefante puerta verde lunes"
MAX_ATTEMPTS = 3
BURST = 50
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class CountedBcrypt:
    """``bcrypt.checkpw`` with a thread-safe count of the checks against the user's hash, the dummy hash, or other."""

    def __init__(self, real_hash: str) -> None:
        self.original = bcrypt.checkpw
        self.real_hash = real_hash.encode("ascii")
        self.dummy_hash = passwords._dummy_hash()  # computed now, not inside the burst
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(self, password: bytes, hashed: bytes) -> bool:
        kind = "real" if hashed == self.real_hash else "dummy" if hashed == self.dummy_hash else "other"
        with self.lock:
            self.counts[kind] += 1
        return self.original(password, hashed)

    def take(self) -> Counter[str]:
        """The counts so far, starting again from zero."""
        with self.lock:
            counts, self.counts = self.counts, Counter()
        return counts


class Recorder:
    """Wraps the lockout primitives of ``auth.users`` to see, across threads, what each attempt got.

    ``allowed``: the count each claim that was let through to a real check saw (its own included); ``locks`` and
    ``successes``: a shared sequence number taken after a lock was committed and before a success that then
    committed, so that "no lock before that success" can be checked.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lock = threading.Lock()
        self.next = 0
        self.allowed: list[int] = []
        self.locks: list[int] = []
        self.successes: list[int] = []
        claim, failure, success = users.claim_attempt, users.record_failure, users.record_success

        def claim_attempt(*args, **kwargs):
            user = claim(*args, **kwargs)
            if user is not None:
                with self.lock:
                    self.allowed.append(user["failed_attempts"])
            return user

        def record_failure(*args, **kwargs):
            locked = failure(*args, **kwargs)
            if locked:
                self.locks.append(self.tick())
            return locked

        def record_success(*args, **kwargs):
            started = self.tick()
            done = success(*args, **kwargs)
            if done:
                self.successes.append(started)
            return done

        monkeypatch.setattr(users, "claim_attempt", claim_attempt)
        monkeypatch.setattr(users, "record_failure", record_failure)
        monkeypatch.setattr(users, "record_success", record_success)

    def tick(self) -> int:
        with self.lock:
            self.next += 1
            return self.next


# Bursts run twice: at the production cost, where every check outlasts all the claims and the lock comes after
# them, and at bcrypt's cheapest cost, where the database is the bottleneck and locks, claims and successes
# interleave much more tightly.
COSTS = pytest.mark.parametrize(
    "world",
    [pytest.param(4, id="bcrypt4"), pytest.param(passwords.BCRYPT_ROUNDS, id="bcrypt12", marks=pytest.mark.slow)],
    indirect=True,
)


@pytest.fixture
def world(request, db_url, tmp_path, monkeypatch):
    """Settings and engine on ``db_url``, client user ``ana`` with at most 3 attempts, bcrypt counted.

    ``request.param``, when given, is the bcrypt cost of the user's hash and of the dummy hash alike.
    """
    rounds = getattr(request, "param", passwords.BCRYPT_ROUNDS)
    if rounds != passwords.BCRYPT_ROUNDS:
        monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", rounds)
        passwords._dummy_hash.cache_clear()
        request.addfinalizer(passwords._dummy_hash.cache_clear)  # the next test gets a production-cost one again
    settings = pg_settings(tmp_path, db_url)
    engine = get_engine(settings.db_url)
    user_id = users.create_user(engine, USERNAME, PASSWORD, role="client")
    with engine.begin() as conn:
        conn.execute(sa.update(users_table).where(users_table.c.id == user_id).values(max_attempts=MAX_ATTEMPTS))
    counter = CountedBcrypt(users.get_user(engine, USERNAME)["password_hash"])
    assert bcrypt.checkpw is not counter and counter.dummy_hash.startswith(f"$2b${rounds:02d}$".encode())
    monkeypatch.setattr(bcrypt, "checkpw", counter)
    return settings, engine, counter


def burst(settings, engine, attempts: list[str], *, now: datetime | None = None) -> tuple[list[login.Step], float]:
    """Every password in its own thread, all released at once; the steps in order and the seconds the burst took."""
    steps: list[login.Step | None] = [None] * len(attempts)
    errors: list[BaseException] = []
    released: list[float] = []
    gate = threading.Barrier(len(attempts), action=lambda: released.append(time.perf_counter()), timeout=60)

    def attempt(index: int, password: str) -> None:
        try:
            gate.wait()
            steps[index] = login.password_step(settings, engine, USERNAME, password, now=now)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i, pw)) for i, pw in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    took = time.perf_counter() - released[0]
    if errors:
        raise errors[0]
    assert all(step is not None for step in steps), "an attempt never finished"
    print(f"{engine.dialect.name}: {len(attempts)} concurrent attempts in {took:.2f} s")
    return steps, took  # type: ignore[return-value]


def state(engine) -> dict:
    return users.get_user(engine, USERNAME)


def events(engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.execute(sa.select(audit_log.c.event)).scalars())


@COSTS
def test_a_burst_of_wrong_passwords_is_fully_counted_checks_at_most_the_maximum_and_locks_once(world, monkeypatch):
    settings, engine, counter = world
    seen = Recorder(monkeypatch)
    steps, _ = burst(settings, engine, [WRONG] * BURST)

    assert [step.outcome for step in steps] == ["refused"] * BURST
    checks = counter.take()
    assert checks["real"] <= MAX_ATTEMPTS  # attempts past the maximum never reach the real hash
    assert checks["real"] + checks["dummy"] == BURST and checks["other"] == 0  # every attempt costs one check
    assert sorted(seen.allowed) == list(range(1, MAX_ATTEMPTS + 1)) and checks["real"] == len(seen.allowed)
    assert len(seen.locks) == 1
    user = state(engine)
    assert user["failed_attempts"] == BURST  # no lost update
    assert user["locked_at"] is not None and user["last_login_at"] is None
    audited = events(engine)
    assert audited["account_locked"] == 1
    assert audited["sign_in_failed"] == BURST
    assert audited["sign_in_ok"] == 0


@COSTS
def test_the_right_password_in_a_burst_is_refused_or_accepted_but_never_after_the_lock(world, monkeypatch):
    """Accepted only if its own claim was within the maximum and no lock had been committed before its success.

    Refused: no success reset the counter, so every claim saw a higher count than the one before and at most
    3 checks ran on the real hash, the right password's included. Accepted: its success put the counter back
    to zero (the failures before a success are forgiven), so attempts of the burst claimed after it start a new
    series of 3: each count is then seen by at most two claims, and at most 2 × 3 real checks ran.
    """
    settings, engine, counter = world
    seen = Recorder(monkeypatch)
    attempts = [WRONG] * BURST
    attempts.insert(BURST // 2, PASSWORD)
    steps, _ = burst(settings, engine, attempts)

    right = steps.pop(BURST // 2)
    assert [step.outcome for step in steps] == ["refused"] * BURST
    assert right.outcome in ("refused", "done")
    checks = counter.take()
    assert checks["real"] + checks["dummy"] == BURST + 1 and checks["other"] == 0
    assert checks["real"] == len(seen.allowed) and all(count <= MAX_ATTEMPTS for count in seen.allowed)
    user = state(engine)
    audited = events(engine)
    assert audited["account_locked"] == len(seen.locks) <= 1
    if right.outcome == "done":
        assert right.user["failed_attempts"] <= MAX_ATTEMPTS  # its own claim was within the maximum
        assert len(seen.successes) == 1
        assert all(seen.successes[0] < locked for locked in seen.locks)  # no lock was committed before it
        assert max(Counter(seen.allowed).values()) <= 2 and checks["real"] <= 2 * MAX_ATTEMPTS
        assert user["last_login_at"] is not None and audited["sign_in_ok"] == 1
    else:
        assert seen.successes == []
        assert len(set(seen.allowed)) == len(seen.allowed) and checks["real"] <= MAX_ATTEMPTS
        assert user["last_login_at"] is None and audited["sign_in_ok"] == 0
        assert user["failed_attempts"] == BURST + 1 and user["locked_at"] is not None
        assert audited["account_locked"] == 1


def lock_by_hand(settings, engine, counter, *, now: datetime) -> None:
    """Three wrong passwords in a row: the account locks at ``now``."""
    for _ in range(MAX_ATTEMPTS):
        assert login.password_step(settings, engine, USERNAME, WRONG, now=now).outcome == "refused"
    user = state(engine)
    assert clock.as_utc(user["locked_at"]) == now
    assert counter.take() == Counter(real=MAX_ATTEMPTS)


def test_after_the_lock_the_right_password_is_answered_and_costed_exactly_like_a_wrong_one(world):
    settings, engine, counter = world
    lock_by_hand(settings, engine, counter, now=T0)

    later = T0 + timedelta(minutes=1)
    answers = {}
    for label, username, password in (
        ("right", USERNAME, PASSWORD),
        ("wrong", USERNAME, WRONG),
        ("unknown user", "nadie", PASSWORD),
    ):
        step = login.password_step(settings, engine, username, password, now=later)
        answers[label] = (step, counter.take())
    assert answers["right"] == answers["wrong"] == answers["unknown user"] == (login.Step("refused"), Counter(dummy=1))
    with engine.connect() as conn:
        details = conn.execute(
            sa.select(audit_log.c.event, audit_log.c.detail).where(audit_log.c.at == later).order_by(audit_log.c.id)
        ).all()
    assert [event for event, _ in details] == ["sign_in_failed"] * 3
    assert details[0] == details[1]  # right and wrong password: the same audit record too
    assert state(engine)["last_login_at"] is None


def test_with_lock_minutes_the_lock_lifts_by_itself_only_after_that_time(world, tmp_path, db_url):
    _, engine, counter = world
    settings = pg_settings(tmp_path, db_url, {"PORTAL_LOCK_MINUTES": "15"})
    assert settings.lock_minutes == 15
    lock_by_hand(settings, engine, counter, now=T0)

    assert login.password_step(settings, engine, USERNAME, PASSWORD, now=T0 + timedelta(minutes=14)).outcome == (
        "refused"
    )
    assert counter.take() == Counter(dummy=1)
    step = login.password_step(settings, engine, USERNAME, PASSWORD, now=T0 + timedelta(minutes=16))
    assert step.outcome == "done"
    assert counter.take() == Counter(real=1)
    user = state(engine)
    assert user["locked_at"] is None and user["failed_attempts"] == 0
    assert clock.as_utc(user["last_login_at"]) == T0 + timedelta(minutes=16)


def test_without_lock_minutes_the_lock_stays_until_staff_lift_it(world):
    settings, engine, counter = world
    assert settings.lock_minutes == 0
    lock_by_hand(settings, engine, counter, now=T0)

    for later in (timedelta(minutes=16), timedelta(days=30)):
        assert login.password_step(settings, engine, USERNAME, PASSWORD, now=T0 + later).outcome == "refused"
        assert counter.take() == Counter(dummy=1)
    users.unlock(engine, USERNAME)
    assert login.password_step(settings, engine, USERNAME, PASSWORD, now=T0 + timedelta(days=30)).outcome == "done"
    assert counter.take() == Counter(real=1)
