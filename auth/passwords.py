"""Password policy and bcrypt hashing (12 rounds, compatible with streamlit-authenticator's ``Hasher``)."""

from __future__ import annotations

import functools
import secrets
import unicodedata

import bcrypt

from portal.errors import PortalError

BCRYPT_ROUNDS = 12
MIN_CHARS = 12
MAX_BYTES = 72  # bcrypt reads at most 72 bytes; bcrypt 5 raises ValueError beyond that
GENERATED_BYTES = 18  # 24 URL-safe characters, 144 random bits


class PasswordError(PortalError):
    """A password the policy refuses; the message says why, in Spanish."""


def check_policy(password: str) -> None:
    """Refuse passwords that are too short, too long for bcrypt, padded with spaces or with control characters."""
    if password != password.strip():
        raise PasswordError(
            "La contraseña no puede empezar ni terminar con espacios: el formulario de acceso "
            "los quita al comprobarla y la contraseña no coincidiría."
        )
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise PasswordError("La contraseña no puede contener caracteres de control (saltos de línea, tabuladores…).")
    if len(password) < MIN_CHARS:
        raise PasswordError(f"La contraseña debe tener al menos {MIN_CHARS} caracteres (tiene {len(password)}).")
    size = len(password.encode("utf-8"))
    if size > MAX_BYTES:
        raise PasswordError(
            f"La contraseña ocupa {size} bytes y el máximo es {MAX_BYTES} (las letras con tilde, la ñ y "
            "otros símbolos ocupan más de un byte). Use una contraseña o frase más corta."
        )


def hash_password(password: str) -> str:
    """The bcrypt hash (``$2b$12$…``) of a password that passes the policy."""
    check_policy(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def check_password(password: str, hashed: str | None) -> bool:
    """True when ``password`` matches ``hashed``; a missing hash or an over-long password never matches."""
    candidate = password.encode("utf-8")
    if hashed is None or len(candidate) > MAX_BYTES:
        bcrypt.checkpw(b"-", _dummy_hash())  # same cost either way: no hint that the account is unusable
        return False
    try:
        return bcrypt.checkpw(candidate, hashed.encode("ascii"))
    except ValueError:
        return False


@functools.cache
def _dummy_hash() -> bytes:
    """A valid hash of a throw-away secret: checking against it costs what a real check costs."""
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt(BCRYPT_ROUNDS))


def generate_password() -> str:
    """A strong random password (24 URL-safe characters)."""
    return secrets.token_urlsafe(GENERATED_BYTES)
