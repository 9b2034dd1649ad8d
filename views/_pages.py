"""The description of a portal page (app.py's table of pages), defined once per process rather than on every run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """A page of the portal and who may open it."""

    path: str
    title: str
    url_path: str
    icon: str
    roles: tuple[str, ...]
    module: str | None = None  # a client module (access.MODULES): the page exists only for users holding it
    section: str = ""  # the sidebar heading the page is listed under ("" : none)
