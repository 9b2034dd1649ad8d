"""Users and passwords: bcrypt hashing, the password policy, the CLI, the lockout counter and account state."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import bcrypt
import pytest

from auth import passwords, users
from auth.passwords import PasswordError
from auth.users import UserError
from portal import clock
from portal.db import get_engine

ROOT = Path(__file__).resolve().parents[1]
GOOD = "caballo correcto batería grapa"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def engine(data_dir):
    return get_engine(f"sqlite:///{data_dir / 'portal.db'}")


def run_cli(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "auth", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env
    )


# --- hashing and policy -----------------------------------------------------------------------------------------


def test_hash_is_bcrypt_12_rounds():
    hashed = passwords.hash_password(GOOD)
    assert hashed.startswith("$2b$12$")
    assert bcrypt.checkpw(GOOD.encode(), hashed.encode())
    assert not passwords.check_password(GOOD + "x", hashed)


def test_salts_are_unique():
    first, second = passwords.hash_password(GOOD), passwords.hash_password(GOOD)
    assert first != second
    assert passwords.check_password(GOOD, first) and passwords.check_password(GOOD, second)


def test_minimum_is_fifteen_characters():
    with pytest.raises(PasswordError, match="al menos 15 caracteres"):
        passwords.hash_password("mesasillalapiz")
    assert passwords.check_password("mesa silla lapi", passwords.hash_password("mesa silla lapi"))


def test_more_than_72_bytes_is_refused_with_a_spanish_message():
    exactly_72 = "ñá" * 18  # 36 characters, 72 bytes in UTF-8
    assert passwords.check_password(exactly_72, passwords.hash_password(exactly_72))
    with pytest.raises(PasswordError, match="ocupa 74 bytes y el máximo es 72"):
        passwords.hash_password(exactly_72 + "ñ")


def test_an_over_long_candidate_never_matches_and_never_raises():
    hashed = passwords.hash_password(GOOD)
    assert passwords.check_password(GOOD + "ñ" * 60, hashed) is False
    assert passwords.check_password(GOOD, None) is False


def test_unicode_passphrases_work():
    phrase = "Ñandú bebe café ☕ en 東京"
    hashed = passwords.hash_password(phrase)
    assert passwords.check_password(phrase, hashed)
    assert not passwords.check_password("Nandu bebe cafe ☕ en 東京", hashed)


@pytest.mark.parametrize("padded", [" " + GOOD, GOOD + " ", "\t" + GOOD])
def test_leading_or_trailing_spaces_are_refused_and_the_message_says_why(padded):
    with pytest.raises(PasswordError, match="formulario de acceso los quita"):
        passwords.hash_password(padded)


def test_inner_spaces_are_fine_but_control_characters_are_not():
    assert passwords.check_password(GOOD, passwords.hash_password(GOOD))
    with pytest.raises(PasswordError, match="caracteres de control"):
        passwords.hash_password("una línea\ny otra más")


def test_generated_passwords_pass_the_policy_and_differ():
    generated = {passwords.generate_password() for _ in range(20)}
    assert len(generated) == 20
    for password in generated:
        passwords.check_policy(password)


# --- users --------------------------------------------------------------------------------------------------------


@pytest.mark.slow  # subprocesses
def test_a_fresh_database_has_no_account(engine, data_dir):
    assert users.list_users(engine) == []
    assert users.any_staff(engine) is False
    listing = run_cli(data_dir, "list")
    assert listing.returncode == 0
    assert "No hay usuarios." in listing.stdout


def test_create_user_stores_a_hash_and_lowercases_the_username(engine):
    user_id = users.create_user(engine, "Ana.Garcia", GOOD, role="staff", name="Ana García", email="ana@example.es")
    user = users.get_user(engine, "ana.garcia")
    assert user["id"] == user_id
    assert user["role"] == "staff" and user["active"] and user["failed_attempts"] == 0
    assert user["password_hash"].startswith("$2b$12$") and GOOD not in user["password_hash"]
    assert users.verify(engine, "ana.garcia", GOOD)["id"] == user_id
    assert users.verify(engine, "ana.garcia", GOOD + "!") is None
    assert users.verify(engine, "nadie", GOOD) is None


def test_existing_usernames_bad_roles_and_bad_usernames_are_refused(engine):
    users.create_user(engine, "ana", GOOD, role="staff")
    with pytest.raises(UserError, match="Ya existe un usuario «ana»"):
        users.create_user(engine, "ANA", GOOD, role="client")
    with pytest.raises(UserError, match="Rol no válido"):
        users.create_user(engine, "bea", GOOD, role="admin")
    with pytest.raises(UserError, match="Nombre de usuario no válido"):
        users.create_user(engine, "../bea", GOOD, role="staff")
    assert [u["username"] for u in users.list_users(engine)] == ["ana"]


def test_failed_attempts_are_counted_atomically_and_lock_at_the_maximum(engine):
    users.create_user(engine, "ana", GOOD, role="staff")
    threads, per_thread = 8, 5

    def fail_many() -> None:
        for _ in range(per_thread):
            users.record_failed_attempt(engine, "ana")

    workers = [threading.Thread(target=fail_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    user = users.get_user(engine, "ana")
    assert user["failed_attempts"] == threads * per_thread  # no lost update
    assert user["locked_at"] is not None
    assert users.access_problem(user) == "locked"
    assert users.verify(engine, "ana", GOOD) is None  # the right password does not open a locked account
    users.unlock(engine, "ana")
    assert users.access_problem(users.get_user(engine, "ana")) is None
    assert users.record_failed_attempt(engine, "nadie") == 0


def test_the_lock_comes_exactly_at_the_users_maximum(engine):
    users.create_user(engine, "ana", GOOD, role="staff")
    counts = [users.record_failed_attempt(engine, "ana") for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert users.get_user(engine, "ana")["locked_at"] is None
    assert users.record_failed_attempt(engine, "ana") == 5  # max_attempts defaults to 5
    assert users.get_user(engine, "ana")["locked_at"] is not None


def test_a_successful_sign_in_resets_the_counter(engine):
    user_id = users.create_user(engine, "ana", GOOD, role="staff")
    users.record_failed_attempt(engine, "ana")
    assert users.record_success(engine, user_id)
    user = users.get_user(engine, "ana")
    assert user["failed_attempts"] == 0 and user["last_login_at"] is not None


def test_access_state_inactive_expired_and_revoked(engine):
    users.create_user(engine, "ana", GOOD, role="client")
    today = date(2026, 3, 1)
    users.set_active(engine, "ana", False)
    assert users.access_problem(users.get_user(engine, "ana"), today=today) == "inactive"
    users.set_active(engine, "ana", True)
    with engine.begin() as conn:
        conn.execute(users.users.update().values(expires_on=today - timedelta(days=1)))
    assert users.access_problem(users.get_user(engine, "ana"), today=today) == "expired"
    assert users.access_problem(users.get_user(engine, "ana"), today=today - timedelta(days=1)) is None
    signed_in = clock.now_utc()
    users.revoke_sessions(engine, "ana")
    assert users.session_revoked(users.get_user(engine, "ana"), signed_in)
    assert not users.session_revoked(users.get_user(engine, "ana"), clock.now_utc())


def test_demo_staff_is_created_once_with_a_private_credentials_file(engine, tmp_path):
    path = tmp_path / "demo" / "credenciales.txt"
    username, password = users.ensure_demo_staff(engine, path)
    assert username == "despacho"
    assert path.read_text(encoding="utf-8") == f"usuario: despacho\ncontraseña: {password}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users.verify(engine, "despacho", password)["role"] == "staff"
    assert users.ensure_demo_staff(engine, path) is None


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # subprocesses
def test_cli_create_staff_reads_the_password_from_stdin(data_dir, engine):
    result = run_cli(data_dir, "create-staff", "ana", "--name", "Ana García", "--email", "ana@x.es", stdin=GOOD + "\n")
    assert result.returncode == 0, result.stderr
    assert "Usuario «ana» creado" in result.stdout
    assert "$2b$" not in result.stdout + result.stderr and GOOD not in result.stdout
    assert users.verify(engine, "ana", GOOD)["name"] == "Ana García"
    listing = run_cli(data_dir, "list")
    assert "ana" in listing.stdout and "despacho" in listing.stdout
    assert "$2b$" not in listing.stdout


@pytest.mark.slow  # subprocesses
def test_cli_refuses_a_duplicate_and_a_weak_password(data_dir, engine):
    assert run_cli(data_dir, "create-staff", "ana", stdin=GOOD + "\n").returncode == 0
    duplicate = run_cli(data_dir, "create-staff", "ana", stdin="otra contraseña larga\n")
    assert duplicate.returncode == 1
    assert "Ya existe un usuario «ana»" in duplicate.stderr
    short = run_cli(data_dir, "create-staff", "bea", stdin="corta\n")
    assert short.returncode == 1 and "al menos 15 caracteres" in short.stderr
    empty = run_cli(data_dir, "create-staff", "bea", stdin="")
    assert empty.returncode == 1 and "No se ha recibido ninguna contraseña" in empty.stderr
    assert users.get_user(engine, "bea") is None
    assert users.verify(engine, "ana", GOOD) is not None  # the duplicate did not overwrite the password


@pytest.mark.slow  # subprocesses
def test_cli_generate_prints_the_new_password_once(data_dir, engine):
    result = run_cli(data_dir, "create-staff", "ana", "--generate")
    assert result.returncode == 0, result.stderr
    password = result.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    assert users.verify(engine, "ana", password) is not None


@pytest.mark.slow  # subprocesses
def test_cli_unlock_and_deactivate(data_dir, engine):
    users.create_user(engine, "ana", GOOD, role="staff")
    for _ in range(5):
        users.record_failed_attempt(engine, "ana")
    assert run_cli(data_dir, "unlock", "ana").returncode == 0
    assert users.verify(engine, "ana", GOOD) is not None
    assert run_cli(data_dir, "deactivate", "ana").returncode == 0
    assert users.verify(engine, "ana", GOOD) is None
    missing = run_cli(data_dir, "unlock", "nadie")
    assert missing.returncode == 1 and "No existe el usuario «nadie»" in missing.stderr
