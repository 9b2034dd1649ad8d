"""Typed portal settings, read once from ``PORTAL_*`` environment variables."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from portal.errors import PortalError

MFA_POLICIES = ("staff", "labour", "all")


def setting(env: str, help: str, default: object = None) -> object:
    """Declare a setting: its environment variable, its help line and its default."""
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    """Every knob of the portal; defaults are safe for the bundled demo."""

    data_dir: Path = setting(
        "PORTAL_DATA_DIR", "Root of the runtime data (stores, portal database, documents).", Path("data")
    )
    source_dir: Path | None = setting(
        "PORTAL_SOURCE_DIR", "Folder with the firm's exports, one sub-folder per company. Default: <data>/sources."
    )
    store_dir: Path | None = setting(
        "PORTAL_STORE_DIR", "Folder of the per-company snapshot stores. Default: <data>/stores."
    )
    database_url: str | None = setting(
        "PORTAL_DATABASE_URL", "SQLAlchemy URL of the portal database. Default: sqlite:///<data>/portal.db."
    )
    snapshots_kept: int = setting("PORTAL_SNAPSHOTS_KEPT", "Published snapshots kept per company for rollback.", 7)
    lock_timeout: float = setting(
        "PORTAL_LOCK_TIMEOUT", "Seconds a load waits for another load of the same company.", 0.0
    )
    etl_memory_limit: str = setting("PORTAL_ETL_MEMORY_LIMIT", "DuckDB memory limit during loads.", "1536MB")
    schedule_cron: str = setting("PORTAL_SCHEDULE_CRON", "Crontab line (5 fields) of the scheduled load.", "30 6 * * *")
    firm_name: str = setting("PORTAL_FIRM_NAME", "Firm name shown on the sign-in page and exports.", "Asesoría Demo")
    smtp_host: str = setting("PORTAL_SMTP_HOST", "SMTP server of the firm.", "localhost")
    smtp_port: int = setting("PORTAL_SMTP_PORT", "SMTP port.", 25)
    smtp_user: str = setting("PORTAL_SMTP_USER", "SMTP user (empty: no authentication).", "")
    smtp_password: str = setting("PORTAL_SMTP_PASSWORD", "SMTP password.", "")
    smtp_starttls: bool = setting("PORTAL_SMTP_STARTTLS", "Use STARTTLS with the SMTP server.", False)
    smtp_from: str = setting("PORTAL_SMTP_FROM", "Sender address of the portal's e-mails.", "portal@localhost")
    base_url: str = setting(
        "PORTAL_BASE_URL", "Public address of the portal, used in the links sent by e-mail.", "http://127.0.0.1:8501"
    )
    activation_hours: float = setting(
        "PORTAL_ACTIVATION_HOURS", "Hours an activation link (new user) stays valid.", 72.0
    )
    reset_minutes: float = setting("PORTAL_RESET_MINUTES", "Minutes a password-reset link stays valid.", 60.0)
    office_email: str = setting(
        "PORTAL_OFFICE_EMAIL", "Contact address of the office, used when a user has no office e-mail of its own.", ""
    )
    source_url: str = setting(
        "PORTAL_SOURCE_URL",
        "Where users get the source code of the portal as this installation runs it (AGPL-3.0 §13; shown in the"
        " sidebar and on the sign-in page). Required once you run a modified portal for others.",
        "",
    )
    firm_logo: Path | None = setting(
        "PORTAL_FIRM_LOGO", "Optional path to the firm's logo image shown on the sign-in page.", None
    )

    upload_dir: Path | None = setting(
        "PORTAL_UPLOAD_DIR",
        "Folder of documents uploaded in the portal (outside the application folder). Default: <data>/uploads.",
    )
    upload_max_mb: float = setting("PORTAL_UPLOAD_MAX_MB", "Largest document a client may send, in MB.", 10.0)
    upload_max_files: int = setting(
        "PORTAL_UPLOAD_MAX_FILES", "Most documents a client user may send to the firm per day and company.", 20
    )
    session_idle_minutes: float = setting(
        "PORTAL_SESSION_IDLE_MINUTES", "Minutes without a click after which a session ends (sign in again).", 30.0
    )
    session_max_hours: float = setting(
        "PORTAL_SESSION_MAX_HOURS", "Hours after sign-in when a session ends, however active it is.", 12.0
    )
    lock_minutes: float = setting(
        "PORTAL_LOCK_MINUTES",
        "Minutes after which an account locked by failed sign-ins unlocks by itself (0: only staff unlock it).",
        0.0,
    )
    mfa_required: str = setting(
        "PORTAL_MFA_REQUIRED",
        "Who must sign in with a second factor (TOTP): staff (always), labour (also every user holding the "
        "labour module) or all. Users the firm marks one by one need it too.",
        "staff",
    )
    mail_retry_seconds: float = setting(
        "PORTAL_MAIL_RETRY_SECONDS",
        "How often the worker (python -m etl worker) looks for e-mails waiting in the outbox to try them again.",
        60.0,
    )
    warm_companies: int = setting(
        "PORTAL_WARM_COMPANIES",
        "How many companies, the most recently published first, each portal process prepares the first P&L and "
        "Diario of at start-up and after each publication (0: none; each costs memory in the process's caches).",
        20,
    )
    demo_mailbox: Path | None = setting(
        "PORTAL_DEMO_MAILBOX",
        "Folder of the demo's local mail catcher (python -m ops mailbox): staff read its messages on the page Correo. "
        "Empty in production.",
    )
    reset_emails_per_hour: int = setting(
        "PORTAL_RESET_EMAILS_PER_HOUR", "Password-reset e-mails sent to one user per hour at most.", 3
    )
    notify_cron: str = setting(
        "PORTAL_NOTIFY_CRON", "Crontab line (5 fields) of the daily notification digest e-mail.", "0 8 * * *"
    )
    alerts_cron: str = setting(
        "PORTAL_ALERTS_CRON",
        "Crontab line (5 fields) of the check of the clients' alerts (so a publication's alerts are recorded soon).",
        "*/15 * * * *",
    )

    def __post_init__(self) -> None:
        if self.mfa_required not in MFA_POLICIES:
            raise SettingsError(
                f"Valor no válido para PORTAL_MFA_REQUIRED: {self.mfa_required!r} (staff, labour o all)."
            )

    @property
    def https(self) -> bool:
        """Served over HTTPS (the public address says so): session cookies get ``Secure`` and ``__Host-``."""
        return self.base_url.lower().startswith("https://")

    @property
    def sources(self) -> Path:
        """Folder of the firm's exports."""
        return self.source_dir or self.data_dir / "sources"

    @property
    def stores(self) -> Path:
        """Folder of the per-company stores."""
        return self.store_dir or self.data_dir / "stores"

    @property
    def uploads(self) -> Path:
        """Folder of the documents uploaded in the portal."""
        return self.upload_dir or self.data_dir / "uploads"

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the portal database."""
        return self.database_url or f"sqlite:///{_resolved(self.data_dir / 'portal.db')}"


def _resolved(path: Path) -> Path:
    """The absolute path with links followed, resolved once per process (settings are read on every click)."""
    return _resolved_absolute(path.absolute())  # absolute() reads no disk; a relative path keys on today's cwd


@functools.lru_cache(maxsize=64)
def _resolved_absolute(path: Path) -> Path:
    return path.resolve()


class SettingsError(PortalError):
    """A setting has a value the portal refuses."""


def _convert(raw: str, kind: object, env: str) -> object:
    text = str(kind)
    try:
        if "Path" in text:
            return Path(raw)
        if text in ("int", "<class 'int'>"):
            return int(raw)
        if text in ("float", "<class 'float'>"):
            return float(raw)
        if text in ("bool", "<class 'bool'>"):
            if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "si", "sí"):
                raise ValueError(raw)
            return raw.strip().lower() in ("1", "true", "yes", "si", "sí")
    except ValueError as exc:
        raise SettingsError(f"Valor no válido para {env}: {raw!r}") from exc
    return raw


PRIVATE_UMASK = 0o027  # new files 0640 and folders 0750: the portal's data is no one else's business


def restrict_new_files() -> None:
    """Every file the process creates from now on is 0640 (folders 0750) at most; entry points call it first."""
    os.umask(PRIVATE_UMASK)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build the settings from the environment (or the mapping given, for tests)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        name = f.metadata["env"]
        if name in env and env[name] != "":
            values[f.name] = _convert(env[name], f.type, name)
    return Settings(**values)  # type: ignore[arg-type]


def documented_settings() -> list[tuple[str, str, object]]:
    """(environment variable, help, default) for every setting, for the README table."""
    return [(f.metadata["env"], f.metadata["help"], f.default) for f in fields(Settings)]
