"""The company code rule, one home for every layer: short and plain, so it is safe as a folder name and in a URL."""

from __future__ import annotations

import re

COMPANY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def is_company_code(code: str) -> bool:
    """Company codes are short and plain: letters, digits, '-' and '_' (no dots, no slashes)."""
    return bool(COMPANY_CODE.fullmatch(code))
