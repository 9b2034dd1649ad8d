"""Second-factor widgets (not a page): enrolment, recovery codes, Mi cuenta's section and the staff controls.

Thin: every decision is in ``auth/mfa.py``. A code typed here to renew recovery codes or switch the second
factor off counts as a sign-in attempt (claimed before it is checked, like the sign-in form does).
"""

from __future__ import annotations

import streamlit as st

from auth import mfa, users
from portal import audit, fmt
from portal.errors import PortalError
from views import _ui

CODES_KEY = "mfa_codes_{user_id}"  # recovery codes just created, shown until the user says they are saved
RESET_KEY = "mfa_confirm_reset_{username}"
CODE_LABEL = "Código de 6 cifras"
CODE_HELP = "El código que muestra ahora la aplicación de autenticación de su móvil."
APPS = "Google Authenticator, Microsoft Authenticator, FreeOTP, Aegis o la de su gestor de contraseñas"


def _pending_key(key: str, user_id: int) -> str:
    return f"mfa_pending_{key}_{user_id}"


def grouped(secret: str) -> str:
    """'ABCDEFGHIJKL…' -> 'ABCD EFGH IJKL …' (easier to type into an app by hand)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- enrolment and recovery codes -----------------------------------------------------------------------------


def enrolment(settings, engine, user: dict, *, key: str) -> list[str] | None:
    """QR code, the key for manual entry and the confirmation form; the recovery codes once it is switched on.

    The secret waits in this browser session (server side) until a code of it is confirmed; the caller shows
    the returned codes (``recovery_codes_panel``).
    """
    pending = _pending_key(key, user["id"])
    secret = st.session_state.get(pending)
    if not secret:
        secret = st.session_state[pending] = mfa.new_secret()
    uri = mfa.provisioning_uri(settings, user, secret)
    st.markdown(_ui.plain(f"1. Abra en su móvil una aplicación de autenticación ({APPS}) y escanee este código QR."))
    st.image(mfa.qr_svg(uri), width=220)  # an SVG string goes inline as a data: URL: no file in /media to fetch
    st.caption("Si no puede escanearlo, añada la cuenta a mano con esta clave (tipo «basada en el tiempo»):")
    st.code(grouped(secret), language=None)
    st.markdown("2. Escriba el código de 6 cifras que le muestra la aplicación y pulse «Activar».")
    with st.form(f"mfa_enrol_{key}_{user['id']}", clear_on_submit=True):
        code = st.text_input(CODE_LABEL, max_chars=12, autocomplete="one-time-code", help=CODE_HELP)
        submitted = st.form_submit_button("Activar", type="primary", icon=":material/verified_user:")
    if not submitted:
        return None
    try:
        codes = mfa.confirm_enrolment(engine, user["id"], secret, code or "")
    except PortalError as exc:
        st.error(_ui.plain(str(exc)))
        return None
    except Exception as exc:
        _ui.show_error(exc)
        return None
    st.session_state.pop(pending, None)
    return codes


def recovery_codes_panel(codes: list[str]) -> None:
    """The recovery codes, shown this once, with how to keep them and a plain-text download."""
    st.warning(
        "Guarde estos códigos de recuperación en un lugar seguro (impresos o en su gestor de contraseñas). "
        "Cada uno sirve una sola vez para entrar si no tiene el móvil a mano. No se volverán a mostrar."
    )
    st.code("\n".join(codes), language=None)
    text = "Códigos de recuperación del Portal del Cliente (cada uno sirve una sola vez):\n\n" + "\n".join(codes)
    st.download_button(
        "Descargar los códigos (.txt)",
        data=(text + "\n").encode("utf-8"),
        file_name="codigos-recuperacion.txt",
        mime="text/plain",
        icon=":material/download:",
        on_click="ignore",
    )


# --- Mi cuenta --------------------------------------------------------------------------------------------------


def account_section(settings, engine, user: dict) -> None:
    """Mi cuenta: state of the second factor, enrolment, new recovery codes and (when optional) switching it off."""
    current = users.get_user(engine, user["username"])  # the session's copy may be stale
    if current is None:
        return
    st.subheader("Segundo factor de autenticación")
    _ui.show_flash()
    codes_key = CODES_KEY.format(user_id=current["id"])
    fresh = st.session_state.get(codes_key)
    if fresh:
        message, codes = fresh
        st.success(message)
        recovery_codes_panel(codes)
        if st.button("Ya he guardado los códigos", key=f"mfa_saved_{current['id']}"):
            st.session_state.pop(codes_key, None)
            st.rerun()
        return
    needed = mfa.required(settings, engine, current)
    if not mfa.enrolled(current):
        st.markdown("Estado: **no activado**.")
        if needed:
            st.warning("El despacho exige el segundo factor para su usuario: actívelo ahora.")
        else:
            st.caption("Recomendado: protege su cuenta aunque alguien llegue a conocer su contraseña.")
        codes = enrolment(settings, engine, current, key="cuenta")
        if codes:
            st.session_state[codes_key] = ("Segundo factor activado.", codes)
            st.rerun()
        return
    st.markdown(_ui.plain(f"Estado: activado el {fmt.date_es(current['mfa_enabled_at'])}."))
    st.caption("Obligatorio para su usuario." if needed else "Opcional para su usuario.")
    left = mfa.remaining_recovery_codes(engine, current["id"])
    st.markdown(_ui.plain(f"Códigos de recuperación sin usar: {left}."))
    if left <= 3:
        st.warning("Le quedan pocos códigos de recuperación: genere otros nuevos.")
    with st.form(f"mfa_new_codes_{current['id']}", clear_on_submit=True):
        code = st.text_input(CODE_LABEL, max_chars=12, autocomplete="one-time-code", help=CODE_HELP)
        st.caption("Los códigos anteriores dejarán de servir.")
        renew = st.form_submit_button("Generar nuevos códigos de recuperación", icon=":material/key:")
    where = "al generar códigos de recuperación"
    if renew and _totp_only(code) and _checked(settings, engine, current, code, where):
        with _ui.errors_shown():
            codes = mfa.regenerate_recovery_codes(engine, current["id"], actor=current["username"])
            st.session_state[codes_key] = ("Códigos de recuperación nuevos; los anteriores ya no sirven.", codes)
            st.rerun()
    if needed:
        return
    with st.form(f"mfa_disable_{current['id']}", clear_on_submit=True):
        code = st.text_input("Código de 6 cifras o código de recuperación", max_chars=20, autocomplete="one-time-code")
        off = st.form_submit_button("Desactivar", icon=":material/remove_moderator:")
    if off and _checked(settings, engine, current, code, "al desactivar el segundo factor"):
        with _ui.errors_shown():
            mfa.disable(settings, engine, current["id"])
            _ui.flash("Segundo factor desactivado.")
            st.rerun()


def _totp_only(code: str | None) -> bool:
    digits = "".join((code or "").split())
    if len(digits) == 6 and digits.isascii() and digits.isdigit():
        return True
    st.error("Escriba el código de 6 cifras que muestra ahora la aplicación.")
    return False


def _checked(settings, engine, user: dict, code: str | None, where: str) -> bool:
    """One attempt at a code: counted toward the lockout first, checked, then counted back or as a failure."""
    claimed = users.claim_attempt(engine, user["username"], lock_minutes=settings.lock_minutes)
    if claimed is None:
        st.error("Demasiados intentos fallidos: la cuenta está bloqueada.")
        return False
    if mfa.verify(engine, user["id"], code or ""):
        users.record_success(engine, user["id"], last_login=False)
        return True
    detail = f"código del segundo factor incorrecto {where}"
    audit.record(engine, "sign_in_failed", actor=user["username"], actor_role=user["role"], detail=detail)
    if users.record_failure(engine, user["id"]):
        audit.record(engine, "account_locked", actor=user["username"], actor_role=user["role"], detail=detail)
    st.error(mfa.WRONG_CODE)
    return False


# --- «Usuarios del portal» ----------------------------------------------------------------------------------------


def staff_controls(settings, engine, target_user: dict, *, actor: str) -> None:
    """State of a user's second factor, «Exigir segundo factor» and «Restablecer segundo factor» (confirmed)."""
    login = target_user["username"]
    current = users.get_user(engine, login) or target_user
    if mfa.enrolled(current):
        st.markdown(_ui.plain(f"Segundo factor: activado el {fmt.date_es(current['mfa_enabled_at'])}."))
    else:
        st.markdown("Segundo factor: no activado.")
    staff = current["role"] == "staff"
    wanted = st.checkbox(
        "Exigir segundo factor",
        value=bool(current["mfa_required"]) or staff,
        disabled=staff,
        key=f"mfa_exigir_{login}",
        help="El personal del despacho siempre lo necesita."
        if staff
        else "Al exigirlo, el usuario tendrá que activarlo en su próximo inicio de sesión.",
    )
    if not staff and wanted != bool(current["mfa_required"]):
        with _ui.errors_shown():
            mfa.set_required(engine, login, wanted, actor=actor)
            _ui.flash(f"Segundo factor {'exigido' if wanted else 'no exigido'} a {login}.")
            st.rerun()
    if not staff and not wanted and mfa.required(settings, engine, current):
        st.caption("Lo necesita de todos modos por la política del despacho (PORTAL_MFA_REQUIRED).")
    confirm_key = RESET_KEY.format(username=login)
    if st.button("Restablecer segundo factor", icon=":material/restart_alt:", key=f"mfa_reset_{login}"):
        st.session_state[confirm_key] = True
    if st.session_state.get(confirm_key):
        st.warning(
            f"Se borrarán la clave y los códigos de recuperación de {login} y se cerrarán todas sus sesiones. "
            "Tendrá que activarlo de nuevo. ¿Continuar?"
        )
        yes, no = st.columns(2)
        if yes.button("Sí, restablecer", type="primary", key=f"mfa_reset_yes_{login}"):
            st.session_state.pop(confirm_key, None)
            with _ui.errors_shown():
                mfa.reset(engine, login, actor=actor)
                _ui.flash(f"Segundo factor de {login} restablecido; sus sesiones se han cerrado.")
                st.rerun()
        if no.button("Cancelar", key=f"mfa_reset_no_{login}"):
            st.session_state.pop(confirm_key, None)
            st.rerun()
