"""Payroll privacy: any text of the books or the treasury naming a hidden employee is replaced whole by a label.

One rule (:func:`naming`) for every text a client reads: journal descriptions, account names of the chart (a
sub-account per employee), bank movement concepts and the counterparties of the bills portfolio.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from etl.store import Snapshot
from reports import labour

BLOCKED = "Empleado bloqueado"
HIDDEN = "Nómina (empleado oculto)"
NIF_LENGTH = 9  # a compact DNI (8 digits + letter) or NIE (letter + 7 digits + letter)
WORD = re.compile(r"[^\W_]+")
ACCENTS = re.compile("[\u0300-\u036f]")  # combining marks left by NFKD (á -> a + ´)

Person = tuple[str, str]  # (NIF/NIE, full name as «Apellidos, Nombre»; empty when unknown)


def _compact(nif: str) -> str:
    """A NIF/NIE without separators, lower case («12.345.678-Z» -> 12345678z)."""
    return "".join(_words(nif))


def _words(text: str) -> tuple[str, ...]:
    """The words of a text in lower case without accents («Núñez-Peña, Íñigo» -> nunez, pena, inigo)."""
    return tuple(WORD.findall(ACCENTS.sub("", unicodedata.normalize("NFKD", text.casefold()))))


@dataclass(frozen=True)
class _Matcher:
    names: dict[str, tuple[tuple[str, ...], ...]]  # first word -> word sequences of names starting with it
    nifs: frozenset[str]  # compact, lower case
    prefixes: frozenset[str]  # every leading part of those

    def names_someone(self, description: str) -> bool:
        words = _words(description)
        for i, word in enumerate(words):
            if any(words[i : i + len(seq)] == seq for seq in self.names.get(word, ())):
                return True
            joined = ""
            for part in words[i : i + NIF_LENGTH]:  # a NIF/NIE written with separators spans several words
                joined += part
                if joined not in self.prefixes:
                    break
                if joined in self.nifs:
                    return True
        return False


@lru_cache(maxsize=64)
def _matcher(people: tuple[Person, ...]) -> _Matcher:
    names: dict[str, set[tuple[str, ...]]] = {}
    for _, name in people:
        surnames, _, given = (name or "").partition(",")
        for seq in {_words(surnames) + _words(given), _words(given) + _words(surnames)}:
            if seq:
                names.setdefault(seq[0], set()).add(seq)
    nifs = frozenset(_compact(nif) for nif, _ in people if nif)
    prefixes = frozenset(nif[:n] for nif in nifs for n in range(1, len(nif) + 1))
    return _Matcher({k: tuple(v) for k, v in names.items()}, nifs, prefixes)


def naming(texts: Iterable[str | None], people: Iterable[Person]) -> list[bool]:
    """For each text, whether it names one of ``people`` (each distinct text tested once).

    A text names a person when it holds, as whole words and ignoring case and accents, the full name from
    ``laboral/empleados.csv`` («Apellidos, Nombre») with the surnames first as the file gives them or with the first
    name first (the comma and any punctuation between the words optional), or the NIF/NIE in any case, with or
    without separators («12345678Z», «12.345.678-z», «X-1234567-L»).
    """
    texts = list(texts)
    matcher = _matcher(tuple(sorted(set(people))))
    if not matcher.names and not matcher.nifs:
        return [False] * len(texts)
    verdict = {t: matcher.names_someone(t) for t in set(texts) if isinstance(t, str)}
    return [verdict.get(t, False) if isinstance(t, str) else False for t in texts]


def redact(descriptions: Iterable[str | None], people: Iterable[Person], label: str = BLOCKED) -> list[str | None]:
    """The descriptions, each one naming one of ``people`` (see :func:`naming`) replaced whole by ``label``.

    Amounts are never touched, so every total still adds up.
    """
    texts = list(descriptions)
    return [label if named else t for t, named in zip(texts, naming(texts, people), strict=True)]


@dataclass(frozen=True)
class Redaction:
    """Who to hide from one user's view of a company's books and treasury, and the label that replaces them
    (hashable: a cache key)."""

    people: tuple[Person, ...] = ()
    label: str = BLOCKED

    def __bool__(self) -> bool:
        return bool(self.people)

    def hides(self, texts: Iterable[str | None]) -> list[bool]:
        """For each text, whether the user may not read it (it names a hidden employee)."""
        return naming(texts, self.people) if self.people else [False for _ in texts]

    def apply(self, descriptions: Iterable[str | None]) -> list[str | None]:
        return redact(descriptions, self.people, self.label) if self.people else list(descriptions)

    def frame(self, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        """A copy of ``frame`` with ``columns`` (``description`` when none is given) redacted, each text as a whole
        (the frame itself when nobody is hidden)."""
        if not self.people or frame.empty:
            return frame
        out = frame.copy()
        for column in columns or ("description",):
            out[column] = self.apply(out[column])
        return out

    def names(self, names: Mapping[str, str]) -> dict[str, str]:
        """Account names by code, a name naming a hidden employee replaced whole by the label (the code kept, so the
        account is still found by its code and every figure still adds up)."""
        return dict(zip(names, self.apply(names.values()), strict=True)) if self.people else dict(names)

    def parties(self, frame: pd.DataFrame, *texts: str, name: str = "counterparty", nif: str = "nif") -> pd.DataFrame:
        """A copy of a table of counterparties (bills portfolio) for the user.

        A row whose counterparty ``name`` or ``nif`` names a hidden employee reads the label as the counterparty and
        no NIF; the free ``texts`` columns (document…) are redacted one by one. Amounts are never touched.
        """
        if not self.people or frame.empty:
            return frame
        out = self.frame(frame, *texts) if texts else frame.copy()
        hidden = [a or b for a, b in zip(self.hides(out[name]), self.hides(out[nif]), strict=True)]
        out[name] = [self.label if h else v for h, v in zip(hidden, out[name], strict=True)]
        out[nif] = ["" if h else v for h, v in zip(hidden, out[nif], strict=True)]
        return out


def redaction_for(snapshot: Snapshot, blocked: Iterable[str], *, hide_all: bool) -> Redaction:
    """What one user may not read in a company's books: every employee (``hide_all``) or only the blocked ones.

    Blocked employees read «Empleado bloqueado». When the firm hides payroll names from a user (no labour module),
    every employee, blocked ones included (nobody is singled out), reads «Nómina (empleado oculto)».

    Names come from the snapshot's ``laboral/empleados.csv``; a blocked NIF missing from it is still hidden by NIF.
    """
    known: dict[str, Person] = {}
    if labour.has_labour(snapshot):
        frame = labour.employees(snapshot, frozenset())
        for nif, name in zip(frame["nif"].astype(str), frame["name"].fillna("").astype(str), strict=True):
            known[_compact(nif)] = (nif, name)
    chosen = {_compact(n) for n in blocked if n} | (set(known) if hide_all else set())
    people = tuple(sorted(known.get(n, (n.upper(), "")) for n in chosen))
    return Redaction(people, HIDDEN if hide_all else BLOCKED)
