"""Attack 1 / security.md §4 test 14: re-attaching to a signed-in browser's Streamlit session by its id gets nothing.

Two walls: the edge (web/middleware.py) lets a websocket re-attach only with the cookies that opened the session,
and the gate (auth/signin.py) wipes any state the connection's own cookie does not prove (tested in
tests/test_sessions.py with AppTest, where there is no edge).

A real server (``python server.py``) and a raw websocket client speaking Streamlit's protocol: the victim signs
in (a session cookie), opens the Diario, and leaves; the attacker, without the victim's cookie, opens a websocket
naming the victim's Streamlit session id (as seen in an upload URL) and asks for the Diario again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.portal_browser import running_portal
from tests.test_web_edge import Portal, portal_data
from tests.ws_client import StreamlitClient

pytestmark = pytest.mark.slow

SECRET_LINE = "Últimos asientos"  # the Diario's table heading: drawn only for a signed-in user of acme


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("takeover") / "data"
    settings, engine = portal_data(data)
    with running_portal(data) as url:
        yield Portal(url, settings, engine)


def victim_session(portal: Portal) -> tuple[str, dict]:
    """The victim signs in and reads its Diario; (its Streamlit session id, its cookies). The tab is then closed."""
    cookies = {"portal_session": portal.session("lola"), "portal_pre": "x" * 43, "_streamlit_xsrf": portal.xsrf()}
    with StreamlitClient(portal.url, cookies=cookies) as victim:
        run = victim.rerun("contabilidad")
        assert SECRET_LINE in run.text(), run.text()[:500]
        return victim.session_id, cookies


@pytest.mark.parametrize("attacker_cookies", ["none", "own_pre_cookie", "own_session"])
def test_14_a_websocket_naming_another_browsers_session_gets_only_the_sign_in_form(portal, attacker_cookies):
    session_id, _ = victim_session(portal)
    cookies = {"_streamlit_xsrf": portal.xsrf()}
    if attacker_cookies == "own_pre_cookie":
        cookies["portal_pre"] = "y" * 43
    elif attacker_cookies == "own_session":
        cookies["portal_session"] = portal.session("ana")  # a signed-in user of its own, trying to read lola's
    with StreamlitClient(portal.url, cookies=cookies, session_id=session_id) as attacker:
        run = attacker.rerun("contabilidad")
        everything = run.text() + "".join(str(m) for m in attacker.quiet(1.0))
        assert attacker.session_id != session_id  # the edge gave it a fresh session (the gate is the second wall)
    assert SECRET_LINE not in everything
    assert "lola" not in everything and "Lola Pérez" not in everything
    if attacker_cookies == "own_session":
        assert "No tiene acceso a esta página." in everything  # ana is staff: the client page is not hers
    else:
        assert "Iniciar sesión" in everything


def test_14_the_victims_own_tab_reconnecting_gets_its_own_session_back(portal):
    session_id, cookies = victim_session(portal)
    with StreamlitClient(portal.url, cookies=cookies, session_id=session_id) as victim:
        run = victim.rerun("contabilidad")
        assert victim.session_id == session_id and SECRET_LINE in run.text()


def test_14_the_victims_own_cookie_still_works_after_the_attempt(portal):
    session_id, cookies = victim_session(portal)
    with StreamlitClient(portal.url, cookies={"_streamlit_xsrf": cookies["_streamlit_xsrf"]}, session_id=session_id):
        pass
    with StreamlitClient(portal.url, cookies=cookies) as victim:
        assert SECRET_LINE in victim.rerun("contabilidad").text()
