"""The portal's exception root: every subclass carries a Spanish message fit for a person."""

from __future__ import annotations


class PortalError(Exception):
    """An expected failure whose ``str()`` is a Spanish sentence that can be shown to staff."""
