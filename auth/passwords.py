"""Password policy and bcrypt hashing (12 rounds)."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import bcrypt

from portal.errors import PortalError

BCRYPT_ROUNDS = 12
MIN_CHARS = 15  # NIST 800-63B rev 4 for a password that is the only factor
MIN_CONTEXT_WORD = 4
TRAILING_NOISE = "0123456789!¡?¿.,;:*#@$%&+-_"
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MAX_BYTES = 72  # bcrypt reads at most 72 bytes; bcrypt 5 raises ValueError beyond that
GENERATED_BYTES = 18  # 24 URL-safe characters, 144 random bits


class PasswordError(PortalError):
    """A password the policy refuses; the message says why, in Spanish."""


def fold(text: str) -> str:
    """Text compared without case, accents or spaces: 'Contraseña Nueva' -> 'contrasenanueva'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(bare.casefold().split())


@functools.cache
def common_passwords() -> frozenset[str]:
    """The offline blocklist (``auth/common_passwords.txt``), folded."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line) for line in lines if line.strip() and not line.startswith("#"))


def context_words(context: Iterable[str]) -> set[str]:
    """The folded words of 4+ characters in the context (names, NIF, username, e-mail), and each item joined up."""
    words = set()
    for item in context:
        for part in [*re.split(r"[^\w]+|_", item or ""), re.sub(r"[^\w]+|_", "", item or "")]:
            folded = fold(part)
            if len(folded) >= MIN_CONTEXT_WORD:
                words.add(folded)
    return words


def check_policy(password: str, *, context: Iterable[str] = ()) -> None:
    """Refuse, with the reason in Spanish, a password the policy does not allow (security.md §1.1).

    At least 15 characters (Unicode code points after NFC), at most 72 bytes (bcrypt's limit: nothing is
    ever truncated), no composition rules, inner spaces allowed; refused: leading or trailing spaces, control
    characters, a single repeated character, the common-password list (also with digits, a year or
    punctuation added at the end) and any context word of 4+ characters (firm, companies, NIF, username, e-mail).
    """
    if password != password.strip():
        raise PasswordError(
            "La contraseña no puede empezar ni terminar con espacios: el formulario de acceso "
            "los quita al comprobarla y la contraseña no coincidiría."
        )
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise PasswordError("La contraseña no puede contener caracteres de control (saltos de línea, tabuladores…).")
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_CHARS:
        raise PasswordError(f"La contraseña debe tener al menos {MIN_CHARS} caracteres (tiene {length}).")
    size = len(password.encode("utf-8"))
    if size > MAX_BYTES:
        raise PasswordError(
            f"La contraseña ocupa {size} bytes y el máximo es {MAX_BYTES}: el sistema de cifrado de contraseñas "
            "(bcrypt) solo admite 72 bytes y el portal nunca recorta una contraseña. Las letras con tilde, la ñ y "
            "otros símbolos ocupan más de un byte (un emoji, 4). Use una contraseña o frase más corta."
        )
    folded = fold(password)
    if len(set(folded)) <= 1:
        raise PasswordError("La contraseña no puede ser un mismo carácter repetido.")
    if folded in common_passwords() or folded.rstrip(TRAILING_NOISE) in common_passwords():
        raise PasswordError(
            "Esa contraseña es de las más usadas (o lo es quitando las cifras o símbolos del final) y se adivina "
            "enseguida. Elija otra; una frase de varias palabras es fácil de recordar y difícil de adivinar."
        )
    compact = re.sub(r"[^\w]+|_", "", folded)
    for word in sorted(context_words(context), key=len, reverse=True):
        if word in folded or word in compact:
            raise PasswordError(
                f"La contraseña no puede contener «{word}»: es un dato de su cuenta o de su empresa (nombre, "
                "usuario, correo, NIF o nombre del despacho) y sería fácil de adivinar."
            )


def hash_password(password: str, *, context: Iterable[str] = ()) -> str:
    """The bcrypt hash (``$2b$12$…``) of a password that passes the policy (hashed exactly as typed)."""
    check_policy(password, context=context)
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
