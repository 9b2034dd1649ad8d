"""Validation problems: what went wrong, where (file, line, entry) and a Spanish message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of a validation rule; ``error`` rejects the company's load, ``warning`` does not."""

    rule: str
    message: str
    file: str = ""
    line: int | None = None
    entry: str | None = None
    severity: Severity = "error"

    def where(self) -> str:
        """'archivo, línea N, asiento E' for messages and tables."""
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"línea {self.line}")
        if self.entry is not None:
            parts.append(f"asiento {self.entry}")
        return ", ".join(parts)


def has_errors(problems: list[Problem]) -> bool:
    """True when any problem rejects the load."""
    return any(p.severity == "error" for p in problems)
