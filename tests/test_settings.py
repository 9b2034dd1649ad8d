"""Settings: environment parsing, defaults, refused values, and every setting documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import SettingsError, documented_settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_live_under_the_data_dir():
    s = load_settings({"PORTAL_DATA_DIR": "/srv/portal"})
    assert s.sources == Path("/srv/portal/sources")
    assert s.stores == Path("/srv/portal/stores")
    assert s.db_url == "sqlite:////srv/portal/portal.db"
    assert s.snapshots_kept == 7


def test_values_are_typed():
    s = load_settings(
        {
            "PORTAL_SNAPSHOTS_KEPT": "3",
            "PORTAL_SMTP_STARTTLS": "true",
            "PORTAL_SMTP_PORT": "2525",
            "PORTAL_STORE_DIR": "/x/stores",
            "PORTAL_DATABASE_URL": "postgresql+psycopg://u@h/db",
        }
    )
    assert (s.snapshots_kept, s.smtp_starttls, s.smtp_port) == (3, True, 2525)
    assert s.stores == Path("/x/stores")
    assert s.db_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("env", "value"), [("PORTAL_SNAPSHOTS_KEPT", "siete"), ("PORTAL_SMTP_STARTTLS", "quizá")])
def test_bad_values_are_refused_in_spanish(env, value):
    with pytest.raises(SettingsError, match=f"Valor no válido para {env}"):
        load_settings({env: value})


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env for env, _help, _default in documented_settings() if f"`{env}`" not in readme]
    assert missing == []
