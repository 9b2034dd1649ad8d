"""Second factor (auth/mfa.py): enrolment, one use per code (threads too), the ±1 step window, recovery codes,
staff reset, who must use it under each policy, and ``python -m auth mfa-*``. Real TOTP codes from pyotp."""

from __future__ import annotations

import getpass
import hashlib
import math
import threading
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from auth import access, mfa, sessions, users
from auth.__main__ import main
from auth.mfa import MfaError
from portal import audit, clock
from portal.db import companies, get_engine, mfa_recovery_codes
from portal.db import sessions as sessions_table
from portal.settings import load_settings

PASSWORD = "una frase de acceso bastante larga"
NOW = datetime(2026, 3, 2, 10, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step
STEP = timedelta(seconds=30)


@pytest.fixture
def settings(tmp_path):
    return load_settings({"PORTAL_DATA_DIR": str(tmp_path)})


@pytest.fixture
def engine(settings):
    engine = get_engine(settings.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(companies).values([dict(code="acme", name="Acme SL"), dict(code="beta", name="Beta SL")])
        )
    return engine


@pytest.fixture
def ana(engine) -> dict:
    """A client user with a password and no second factor."""
    users.create_user(engine, "ana", PASSWORD, role="client", name="Ana Pérez", email="ana@cliente.es")
    return users.get_user(engine, "ana")


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrol(engine, user: dict, *, now: datetime = NOW) -> tuple[str, list[str]]:
    """Enrol with a fresh secret, confirmed with the code of the step before ``now`` (kept free for the tests)."""
    secret = mfa.new_secret()
    codes = mfa.confirm_enrolment(engine, user["id"], secret, code_at(secret, now - STEP), now=now)
    return secret, codes


def row(engine, username: str) -> dict:
    return users.get_user(engine, username)


# --- enrolment ------------------------------------------------------------------------------------------------


def test_enrolment_refuses_a_wrong_code_then_accepts_the_right_one(engine, ana):
    secret = mfa.new_secret()
    right = code_at(secret, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(MfaError, match="no es correcto"):
        mfa.confirm_enrolment(engine, ana["id"], secret, wrong, now=NOW)
    with pytest.raises(MfaError, match="no es correcto"):
        mfa.confirm_enrolment(engine, ana["id"], secret, "abc", now=NOW)
    assert not mfa.enrolled(row(engine, "ana"))
    assert audit.entries(engine, event="mfa_enrolled") == []

    codes = mfa.confirm_enrolment(engine, ana["id"], secret, f"{right[:3]} {right[3:]}", now=NOW)
    user = row(engine, "ana")
    assert mfa.enrolled(user) and user["mfa_secret"] == secret
    assert clock.as_utc(user["mfa_enabled_at"]) == NOW
    assert user["mfa_last_step"] == pyotp.TOTP(secret).timecode(NOW)
    assert len(codes) == 10
    assert not mfa.verify(engine, ana["id"], right, now=NOW)  # the confirming code is spent
    (entry,) = audit.entries(engine, event="mfa_enrolled")
    assert entry["actor"] == "ana" and entry["actor_role"] == "client"


def test_enrolment_over_an_existing_factor_is_refused(engine, ana):
    secret, _ = enrol(engine, ana)
    other = mfa.new_secret()
    with pytest.raises(MfaError, match="Ya tiene"):
        mfa.confirm_enrolment(engine, ana["id"], other, code_at(other, NOW), now=NOW)
    assert row(engine, "ana")["mfa_secret"] == secret


def test_provisioning_uri_and_qr_drawn_locally(settings, ana):
    secret = mfa.new_secret()
    uri = mfa.provisioning_uri(settings, ana, secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "ana" in uri
    assert "issuer=" in uri
    assert mfa.qr_svg(uri).lstrip().startswith("<svg")


# --- TOTP checks ------------------------------------------------------------------------------------------------


def test_a_code_is_accepted_once_in_its_window(engine, ana):
    secret, _ = enrol(engine, ana)
    code = code_at(secret, NOW)
    assert mfa.verify(engine, ana["id"], code, now=NOW)
    assert not mfa.verify(engine, ana["id"], code, now=NOW)
    assert not mfa.verify(engine, ana["id"], code, now=NOW + timedelta(seconds=15))  # same step, later
    assert mfa.verify(engine, ana["id"], code_at(secret, NOW + STEP), now=NOW + STEP)  # the next step's code


def test_one_code_from_two_threads_at_once_wins_once(engine, ana):
    secret, _ = enrol(engine, ana)
    for attempt in range(5):
        moment = NOW + attempt * STEP
        code = code_at(secret, moment)
        barrier = threading.Barrier(2)
        results: list[bool] = []

        def use(code=code, moment=moment, barrier=barrier, results=results):
            barrier.wait()
            results.append(mfa.verify(engine, ana["id"], code, now=moment))

        threads = [threading.Thread(target=use) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, True], attempt


def test_previous_step_accepted_two_steps_back_refused(engine, ana):
    secret, _ = enrol(engine, ana, now=NOW - 5 * STEP)
    assert not mfa.verify(engine, ana["id"], code_at(secret, NOW - 2 * STEP), now=NOW)
    assert mfa.verify(engine, ana["id"], code_at(secret, NOW - STEP), now=NOW)
    assert mfa.verify(engine, ana["id"], code_at(secret, NOW + STEP), now=NOW)  # a clock a step ahead
    assert not mfa.verify(engine, ana["id"], code_at(secret, NOW), now=NOW)  # older than the last one used
    assert not mfa.verify(engine, ana["id"], code_at(secret, NOW + 2 * STEP), now=NOW)


def test_codes_of_a_user_without_a_factor_or_malformed_are_refused(engine, ana):
    secret = mfa.new_secret()
    assert not mfa.verify(engine, ana["id"], code_at(secret, NOW), now=NOW)
    enrol(engine, ana)
    for bad in ("", "12345", "1234567", "١٢٣٤٥٦", "abcd-efgh", None):
        assert not mfa.verify(engine, ana["id"], bad, now=NOW)
    assert not mfa.verify(engine, 999_999, "123456", now=NOW)


# --- recovery codes -----------------------------------------------------------------------------------------------


def test_recovery_codes_ten_distinct_hashed_each_works_once(engine, ana):
    _, codes = enrol(engine, ana)
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4] and all(c in mfa.RECOVERY_ALPHABET for c in "".join(groups))
    assert 12 * math.log2(len(mfa.RECOVERY_ALPHABET)) >= 50
    with engine.connect() as conn:
        stored = conn.execute(sa.select(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == ana["id"])).all()
        dump = "\n".join(conn.connection.driver_connection.iterdump())
    assert {r.code_hash for r in stored} == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    for code in codes:
        assert code not in dump and code.replace("-", "") not in dump
    assert mfa.remaining_recovery_codes(engine, ana["id"]) == 10

    first, second = codes[0], codes[1]
    assert mfa.verify(engine, ana["id"], first.upper().replace("-", " "), now=NOW)  # case, spaces, hyphens
    assert not mfa.verify(engine, ana["id"], first, now=NOW)
    assert mfa.verify(engine, ana["id"], f"  {second.replace('-', '')} ", now=NOW)
    assert not mfa.verify(engine, ana["id"], second, now=NOW)
    for code in codes[2:]:
        assert mfa.verify(engine, ana["id"], code, now=NOW)
        assert not mfa.verify(engine, ana["id"], code, now=NOW)
    assert mfa.remaining_recovery_codes(engine, ana["id"]) == 0
    used = audit.entries(engine, event="mfa_recovery_used")
    assert len(used) == 10 and used[0]["detail"] == "quedan 0 códigos de recuperación"


def test_one_recovery_code_from_two_threads_wins_once(engine, ana):
    _, codes = enrol(engine, ana)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def use():
        barrier.wait()
        results.append(mfa.verify(engine, ana["id"], codes[0], now=NOW))

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]


def test_regenerated_codes_replace_the_old_ones(engine, ana):
    _, old = enrol(engine, ana)
    assert mfa.verify(engine, ana["id"], old[0], now=NOW)
    new = mfa.regenerate_recovery_codes(engine, ana["id"], actor="ana")
    assert len(new) == 10 and not set(new) & set(old)
    assert mfa.remaining_recovery_codes(engine, ana["id"]) == 10
    assert not mfa.verify(engine, ana["id"], old[1], now=NOW)
    assert mfa.verify(engine, ana["id"], new[0], now=NOW)
    (entry,) = audit.entries(engine, event="mfa_recovery_codes")
    assert entry["actor"] == "ana" and entry["actor_role"] == "client"
    users.create_user(engine, "eva", PASSWORD, role="client")
    with pytest.raises(MfaError, match="no está activado"):
        mfa.regenerate_recovery_codes(engine, row(engine, "eva")["id"], actor="eva")


# --- reset, disable, required by the firm -------------------------------------------------------------------------


def test_reset_clears_everything_and_revokes_sessions(settings, engine, ana):
    secret, codes = enrol(engine, ana)
    sessions.create(settings, engine, ana["id"], mfa=True, now=NOW)
    mfa.reset(engine, "ana", actor="despacho", now=NOW + STEP)
    user = row(engine, "ana")
    assert user["mfa_secret"] is None and user["mfa_enabled_at"] is None and user["mfa_last_step"] is None
    assert not mfa.enrolled(user)
    assert mfa.remaining_recovery_codes(engine, ana["id"]) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(mfa_recovery_codes)).scalar_one() == 0
        (session,) = conn.execute(sa.select(sessions_table).where(sessions_table.c.user_id == ana["id"])).all()
    assert session.revoked_at is not None and session.revoked_reason == "mfa"
    assert not mfa.verify(engine, ana["id"], code_at(secret, NOW + STEP), now=NOW + STEP)
    assert not mfa.verify(engine, ana["id"], codes[0], now=NOW + STEP)
    (entry,) = audit.entries(engine, event="mfa_reset")
    assert entry["actor"] == "despacho" and entry["actor_role"] == "staff" and entry["target"] == "ana"
    with pytest.raises(MfaError, match="No existe"):
        mfa.reset(engine, "nadie", actor="despacho")
    enrol(engine, user, now=NOW + 3 * STEP)  # enrols again with a new secret
    assert mfa.enrolled(row(engine, "ana"))


def test_disable_only_when_not_required(settings, engine, ana):
    enrol(engine, ana)
    mfa.set_required(engine, "ana", True, actor="despacho")
    with pytest.raises(MfaError, match="exige"):
        mfa.disable(settings, engine, ana["id"])
    assert mfa.enrolled(row(engine, "ana"))
    mfa.set_required(engine, "ana", False, actor="despacho")
    mfa.disable(settings, engine, ana["id"])
    assert not mfa.enrolled(row(engine, "ana")) and mfa.remaining_recovery_codes(engine, ana["id"]) == 0
    assert [e["actor"] for e in audit.entries(engine, event="mfa_disabled")] == ["ana"]


def test_set_required_is_audited(settings, engine, ana):
    mfa.set_required(engine, "ana", True, actor="despacho")
    assert row(engine, "ana")["mfa_required"] is True
    mfa.set_required(engine, "ana", False, actor="cli:root")
    assert row(engine, "ana")["mfa_required"] is False
    entries = audit.entries(engine, event="mfa_requirement")
    assert [(e["actor"], e["actor_role"], e["target"], e["detail"]) for e in entries] == [
        ("cli:root", "system", "ana", "no exigido"),
        ("despacho", "staff", "ana", "exigido"),
    ]
    with pytest.raises(MfaError, match="No existe"):
        mfa.set_required(engine, "nadie", True, actor="despacho")


# --- who must use it ----------------------------------------------------------------------------------------------


def test_required_under_each_policy(tmp_path, engine):
    users.create_user(engine, "jefa", PASSWORD, role="staff")
    for login in ("nominas", "fiscal", "marcado"):
        access.create_client_user(engine, login, client_code=None, email=f"{login}@cliente.es", actor="test")
    access.grant(engine, "nominas", "beta", "laboral", actor="test")
    access.grant(engine, "nominas", "acme", "impuestos", actor="test")
    access.grant(engine, "fiscal", "acme", "impuestos", actor="test")
    mfa.set_required(engine, "marcado", True, actor="test")
    expected = {
        "staff": {"jefa": True, "nominas": False, "fiscal": False, "marcado": True},
        "labour": {"jefa": True, "nominas": True, "fiscal": False, "marcado": True},
        "all": {"jefa": True, "nominas": True, "fiscal": True, "marcado": True},
    }
    for policy, wanted in expected.items():
        settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_MFA_REQUIRED": policy})
        got = {login: mfa.required(settings, engine, row(engine, login)) for login in wanted}
        assert got == wanted, policy
    labour = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_MFA_REQUIRED": "labour"})
    access.revoke(engine, "nominas", "beta", "laboral", actor="test")
    assert not mfa.required(labour, engine, row(engine, "nominas"))
    partial = {key: row(engine, "marcado")[key] for key in ("id", "username")}  # e.g. a session's public copy
    assert mfa.required(labour, engine, partial)


def test_sessions_without_a_second_factor_end_when_it_becomes_required(settings, engine, ana):
    token = sessions.create(settings, engine, ana["id"], mfa=False)
    assert sessions.check(settings, engine, token) is not None
    mfa.set_required(engine, "ana", True, actor="despacho")
    assert sessions.check(settings, engine, token) is None
    with_mfa = sessions.create(settings, engine, ana["id"], mfa=True)
    assert sessions.check(settings, engine, with_mfa) is not None


# --- python -m auth mfa-* -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch, engine):
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTAL_MFA_REQUIRED", raising=False)

    def run(capsys, *args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_mfa_verbs(cli, capsys, settings, engine, ana):
    actor = f"cli:{getpass.getuser()}"
    code, out, _ = cli(capsys, "mfa-status", "ana")
    assert code == 0 and "no activado" in out and "Obligatorio: no." in out

    code, out, _ = cli(capsys, "mfa-require", "ana")
    assert code == 0 and "exige" in out and row(engine, "ana")["mfa_required"] is True
    enrol(engine, ana)
    code, out, _ = cli(capsys, "mfa-status", "ana")
    assert code == 0 and "activado el 02/03/2026" in out and "sin usar: 10" in out
    assert "despacho para este usuario" in out

    code, out, _ = cli(capsys, "mfa-optional", "ana")
    assert code == 0 and row(engine, "ana")["mfa_required"] is False
    code, out, _ = cli(capsys, "mfa-status", "ana")
    assert "Obligatorio: no." in out

    token = sessions.create(settings, engine, ana["id"], mfa=True)
    code, out, _ = cli(capsys, "mfa-reset", "ana")
    assert code == 0 and "restablecido" in out
    assert not mfa.enrolled(row(engine, "ana")) and sessions.check(settings, engine, token) is None

    code, _, err = cli(capsys, "mfa-reset", "nadie")
    assert code == 1 and "No existe el usuario «nadie»" in err
    code, _, err = cli(capsys, "mfa-status", "nadie")
    assert code == 1 and "No existe" in err

    logged = [(e["event"], e["actor"], e["actor_role"], e["target"], e["detail"]) for e in audit.entries(engine)]
    assert sorted(entry for entry in logged if entry[0].startswith("mfa_")) == [
        ("mfa_enrolled", "ana", "client", None, ""),
        ("mfa_requirement", actor, "system", "ana", "exigido"),
        ("mfa_requirement", actor, "system", "ana", "no exigido"),
        ("mfa_reset", actor, "system", "ana", ""),
    ]


def test_cli_status_says_when_the_policy_requires_it(cli, capsys, engine, monkeypatch):
    users.create_user(engine, "jefa", PASSWORD, role="staff")
    code, out, _ = cli(capsys, "mfa-status", "jefa")
    assert code == 0 and "Obligatorio: sí (personal del despacho" in out
    code, out, _ = cli(capsys, "mfa-optional", "jefa")
    assert code == 0 and "Aun así lo necesita" in out
    access.create_client_user(engine, "luis", client_code=None, email="luis@cliente.es", actor="test")
    monkeypatch.setenv("PORTAL_MFA_REQUIRED", "all")
    code, out, _ = cli(capsys, "mfa-status", "luis")
    assert code == 0 and "Obligatorio: sí (política PORTAL_MFA_REQUIRED=all)" in out


# --- the widgets (views/_mfa.py) through AppTest, with codes of the real clock ----------------------------------


def mfa_page(data_dir: str, username: str, staff_actor: str = "") -> None:
    from auth import users
    from portal.db import get_engine
    from portal.settings import load_settings
    from views import _mfa

    settings = load_settings({"PORTAL_DATA_DIR": data_dir})
    engine = get_engine(settings.db_url)
    user = users.get_user(engine, username)
    if staff_actor:
        _mfa.staff_controls(settings, engine, user, actor=staff_actor)
    else:
        _mfa.account_section(settings, engine, user)


def page(tmp_path, username: str, staff_actor: str = ""):
    from streamlit.testing.v1 import AppTest

    kwargs = dict(data_dir=str(tmp_path), username=username, staff_actor=staff_actor)
    at = AppTest.from_function(mfa_page, kwargs=kwargs, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def shown(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "success", "warning", "error", "code") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "").replace("**", "")


def click(at, label: str):
    (button,) = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, at.exception
    return at


def test_account_section_enrol_renew_codes_and_disable(tmp_path, engine, ana):
    at = page(tmp_path, "ana")
    assert "Estado: no activado" in shown(at) and at.get("image")
    secret = at.session_state[f"mfa_pending_cuenta_{ana['id']}"]
    assert at.code[0].value.replace(" ", "") == secret  # the key in groups, for manual entry
    right = pyotp.TOTP(secret).now()
    at.text_input[0].input(f"{(int(right) + 500_000) % 1_000_000:06d}")
    click(at, "Activar")
    assert "no es correcto" in shown(at) and not mfa.enrolled(row(engine, "ana"))

    at.text_input[0].input(pyotp.TOTP(secret).now())
    click(at, "Activar")
    assert "Segundo factor activado." in shown(at)
    codes = at.code[0].value.splitlines()
    assert len(codes) == 10 and mfa.enrolled(row(engine, "ana"))
    assert at.get("download_button")
    click(at, "Ya he guardado los códigos")
    assert "activado el" in shown(at) and "sin usar: 10" in shown(at)

    at.text_input[0].input("999 999")  # a wrong current code counts as a failed attempt
    click(at, "Generar nuevos códigos de recuperación")
    assert "no es correcto" in shown(at) and row(engine, "ana")["failed_attempts"] == 1
    assert audit.entries(engine, event="sign_in_failed")[0]["actor"] == "ana"
    ahead = pyotp.TOTP(secret).at(datetime.now(UTC) + STEP)  # the next step's code: newer than the one used
    at.text_input[0].input(ahead)
    click(at, "Generar nuevos códigos de recuperación")
    new = at.code[0].value.splitlines()
    assert len(new) == 10 and not set(new) & set(codes) and row(engine, "ana")["failed_attempts"] == 0
    click(at, "Ya he guardado los códigos")

    at.text_input[1].input(new[0])  # optional for this user: «Desactivar» with a current (recovery) code
    click(at, "Desactivar")
    assert "Segundo factor desactivado." in shown(at) and "Estado: no activado" in shown(at)
    assert not mfa.enrolled(row(engine, "ana"))


def test_account_section_offers_no_switch_off_when_required(tmp_path, engine, ana):
    enrol(engine, ana)
    mfa.set_required(engine, "ana", True, actor="despacho")
    at = page(tmp_path, "ana")
    assert "Obligatorio para su usuario." in shown(at)
    assert "Desactivar" not in [b.label for b in at.button]


def test_staff_controls_require_and_reset(tmp_path, settings, engine, ana):
    enrol(engine, ana)
    token = sessions.create(settings, engine, ana["id"], mfa=True)
    at = page(tmp_path, "ana", staff_actor="jefa")
    assert "Segundo factor: activado el" in shown(at)
    at.checkbox[0].check().run()
    assert row(engine, "ana")["mfa_required"] is True
    click(at, "Restablecer segundo factor")
    assert "¿Continuar?" in shown(at) and mfa.enrolled(row(engine, "ana"))
    click(at, "Cancelar")
    assert mfa.enrolled(row(engine, "ana"))
    click(at, "Restablecer segundo factor")
    click(at, "Sí, restablecer")
    assert not mfa.enrolled(row(engine, "ana")) and sessions.check(settings, engine, token) is None
    assert "Segundo factor: no activado." in shown(at)
    assert audit.entries(engine, event="mfa_reset")[0]["actor"] == "jefa"
