"""Password policy (security.md test plan 4): length in code points, bcrypt's 72 bytes, blocklist, context words."""

from __future__ import annotations

import pytest

from auth import passwords
from auth.passwords import PasswordError, check_policy

COMPANY = "Suministros Industriales Levante SL"


def test_fourteen_characters_are_refused_and_fifteen_simple_ones_accepted():
    with pytest.raises(PasswordError, match="al menos 15 caracteres \\(tiene 14\\)"):
        check_policy("mesasillalapiz")
    check_policy("mesa silla lapi")  # 15 characters, lower case only, no digit or symbol: no composition rules


def test_length_counts_code_points_after_nfc():
    decomposed = "cafe\u0301 con leche y pan"  # 'é' typed as e + combining accent: 21 code points, 20 after NFC
    assert len(decomposed) == 21
    check_policy(decomposed)
    with pytest.raises(PasswordError, match="tiene 14"):
        check_policy("e\u0301" * 14)  # 28 code points as typed, 14 characters after NFC


def test_inner_spaces_and_unicode_are_accepted():
    check_policy("Ñandú bebe café ☕ en 東京")
    check_policy("una frase con espacios dentro")


def test_sixty_four_emoji_are_refused_with_the_byte_reason_never_truncated():
    # Deviation from test plan 4 ("64 emoji accepted"): bcrypt reads only 72 bytes and the portal never truncates,
    # so 64 emoji (256 bytes) are refused with the reason; 18 different emoji (72 bytes) are accepted.
    with pytest.raises(PasswordError, match=r"ocupa 256 bytes y el máximo es 72.*nunca recorta"):
        check_policy("😀🎉🐢🌍" * 16)
    check_policy("😀🎉🐢🌍🍊🚲🎸📚🌙⚽🍕🐧🌵🎲🔑🧭🪁🦉")


def test_a_password_longer_than_72_bytes_is_refused_not_cut():
    long_one = "esta frase larguísima sigue y sigue más allá de los setenta y dos bytes del límite"
    assert len(long_one.encode()) > 72
    with pytest.raises(PasswordError, match="máximo es 72"):
        passwords.hash_password(long_one)
    first_72 = long_one.encode()[:72].decode("utf-8", "ignore")
    hashed = passwords.hash_password(first_72)
    assert not passwords.check_password(long_one, hashed)  # the longer one never matches a hash of its prefix


def test_129_characters_are_refused():
    with pytest.raises(PasswordError, match="máximo es 72"):
        check_policy("abcdefghij" * 12 + "123456789")


@pytest.mark.parametrize(
    "common",
    [
        "Password1234567",  # the plan's "Password123456" has 14 characters (refused by length); with one more digit
        "123456789012345",
        "qwertyuiopasdfg",
        "contraseña123456",
        "CONTRASENA2025!!",  # case, accents, a year and punctuation at the end do not hide it
        "iloveyouiloveyou",
        "correct horse battery staple",
    ],
)
def test_common_passwords_are_refused_with_the_reason(common):
    with pytest.raises(PasswordError, match="de las más usadas"):
        check_policy(common)


def test_the_blocklist_is_a_few_hundred_folded_entries():
    blocklist = passwords.common_passwords()
    assert len(blocklist) >= 300
    assert "contrasena" in blocklist and "password" in blocklist


def test_a_single_repeated_character_is_refused():
    with pytest.raises(PasswordError, match="mismo carácter repetido"):
        check_policy("x" * 20)


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("levante servicios 2025", "levante"),  # the client's own company name plus a year
        ("LEVANTÉ y sus industriales", "industriales"),  # longest word first, case and accents ignored
        ("mi nif es B12345674 sí", "b12345674"),
        ("soy ana.garcia de verdad", "anagarcia"),
        ("la asesoria de siempre", "asesoria"),
    ],
)
def test_context_words_are_refused_with_the_word(password, word):
    context = [COMPANY, "B12345674", "ana.garcia", "Asesoría Demo"]
    with pytest.raises(PasswordError, match=f"no puede contener «{word}»"):
        check_policy(password, context=context)


def test_context_words_shorter_than_four_characters_do_not_count():
    check_policy("una ana sin sl ni nada", context=["ana", "SL"])


def test_hash_password_applies_the_context():
    with pytest.raises(PasswordError, match="«levante»"):
        passwords.hash_password("levante servicios 2025", context=[COMPANY])
