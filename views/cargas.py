"""Cargas de datos (staff): each company's published and pending data, publishing, loads and their messages."""

from __future__ import annotations

import streamlit as st

from etl import jobs, service
from etl.journal_profiles import PORTAL, format_label
from portal import clock, fmt
from views import _ui

ROLLBACK_KEY = "cargas_confirm_rollback"
STALE_QUEUE_SECONDS = 600
TRIGGERS = {"portal": "despacho", "schedule": "programación", "cli": "línea de órdenes"}


def company_actions(settings, status, actor: str) -> None:
    """Publish mode, «Cargar ahora», «Publicar pendiente» and «Volver a la versión anterior» for one company."""
    modes = list(_ui.PUBLISH_MODES)
    mode = st.radio(
        "Publicación de las nuevas cargas",
        modes,
        index=modes.index(status.publish_mode) if status.publish_mode in modes else 0,
        format_func=_ui.PUBLISH_MODES.get,
        horizontal=True,
        key=f"mode-{status.code}-{status.publish_mode}",
        help="Automático: cada carga válida se publica al terminar. Manual: queda pendiente hasta que la publique.",
    )
    if mode != status.publish_mode:
        service.set_publish_mode(settings, status.code, mode, actor=actor)
        _ui.flash(f"{status.code}: publicación {_ui.PUBLISH_MODES[mode].lower()}.")
        st.rerun()
    load, publish, back = st.columns(3)
    if load.button("Cargar ahora", icon=":material/sync:"):
        waiting = len(jobs.pending_loads(settings))
        job = jobs.enqueue_load(settings, [status.code], trigger="portal", actor=actor)
        again = len(jobs.pending_loads(settings)) == waiting
        _ui.flash(queued_notice(status.code, job, again))
        st.rerun()
    if status.pending is not None and publish.button("Publicar pendiente", icon=":material/publish:"):
        snapshot_id = service.publish_pending(settings, status.code, actor=actor)
        _ui.flash(f"{status.code}: publicada la versión {snapshot_id}.")
        st.rerun()
    can_go_back = status.current is not None and len(status.snapshots) > 1
    if can_go_back and back.button("Volver a la versión anterior", icon=":material/undo:"):
        st.session_state[ROLLBACK_KEY] = status.code
    if st.session_state.get(ROLLBACK_KEY) == status.code:
        confirm_rollback(settings, status, actor)


def journal_formats(status) -> None:
    """What the published load detected in each journal file: format (package), encoding, separators, lines."""
    formats = status.current.manifest.get("formats", []) if status.current is not None else []
    if not formats:
        return
    separators = {";": "punto y coma", ",": "coma", "\t": "tabulador", "|": "barra vertical"}
    rows = [
        {
            "Archivo": f["file"],
            "Formato": format_label(f.get("profile", PORTAL)),
            "Codificación": f["encoding"],
            "Separador": separators.get(f["separator"], f["separator"] or fmt.EMPTY),
            "Decimales": f["decimal"],
            "Fechas": f["date_format"] or fmt.EMPTY,
            "Líneas": fmt.integer(f["rows"]),
        }
        for f in formats
    ]
    st.caption("Archivos del diario de la versión publicada y el formato detectado en cada uno")
    st.dataframe(rows, hide_index=True)


def confirm_rollback(settings, status, actor: str) -> None:
    """The second step of a rollback: clients would stop seeing the current version."""
    st.warning(f"Los clientes dejarán de ver la versión {status.current.snapshot_id} y verán la anterior. ¿Continuar?")
    yes, no = st.columns(2)
    if yes.button("Sí, volver a la versión anterior", type="primary"):
        del st.session_state[ROLLBACK_KEY]
        snapshot_id = service.rollback(settings, status.code, actor=actor)
        _ui.flash(f"{status.code}: vuelve a estar publicada la versión {snapshot_id}.")
        st.rerun()
    if no.button("Cancelar"):
        del st.session_state[ROLLBACK_KEY]
        st.rerun()


def queued_notice(code: str, job: jobs.QueuedLoad, again: bool) -> str:
    """What «Cargar ahora» tells staff: the load is queued (or already was), not done."""
    when = fmt.datetime_es(job.requested_at)
    if again:
        return f"{code}: ya había una carga en cola, pedida el {when}; no se repite."
    return f"{code}: carga en cola ({when}). El proceso de cargas la hará en cuanto quede libre: vea «Cola de cargas»."


def queue_and_running(settings) -> None:
    """Loads waiting for a worker and loads running now (with their last progress message)."""
    st.subheader("Cola de cargas")
    waiting = jobs.pending_loads(settings)
    running = [run for run in service.recent_runs(settings, limit=50) if run["outcome"] == "running"]
    st.button("Actualizar", icon=":material/refresh:")
    if not waiting and not running:
        st.caption("No hay cargas en cola ni en curso.")
        return
    rows = [
        {
            "Estado": "en cola",
            "Empresas": ", ".join(job.companies) if job.companies is not None else "todas",
            "Pedida por": job.actor,
            "Desde": fmt.datetime_es(job.requested_at),
            "Progreso": "",
        }
        for job in waiting
    ]
    rows += [
        {
            "Estado": "en curso",
            "Empresas": run["company"],
            "Pedida por": TRIGGERS.get(run["trigger"], run["trigger"]),
            "Desde": fmt.datetime_es(run["started_at"]),
            "Progreso": run["message"],
        }
        for run in running
    ]
    st.dataframe(rows, hide_index=True)
    oldest = min((job.requested_at for job in waiting), default=None)
    if oldest is not None and (clock.now_utc() - oldest).total_seconds() > STALE_QUEUE_SECONDS:
        st.warning(
            "Hay cargas esperando desde hace más de 10 minutos: compruebe que el proceso de cargas "
            "(`python -m etl worker`, servicio portal-worker) está en marcha."
        )


def runs_and_problems(settings) -> None:
    """The latest runs and every validation message of the chosen one."""
    st.subheader("Últimas cargas")
    runs = service.recent_runs(settings, limit=50)
    if not runs:
        st.info("Todavía no se ha hecho ninguna carga.")
        return
    st.dataframe(_ui.run_rows(runs), hide_index=True)
    by_id = {run["id"]: run for run in runs}
    run_id = st.selectbox(
        "Mensajes de validación de la carga", list(by_id), format_func=lambda i: _ui.run_label(by_id[i])
    )
    problems = service.run_problems(settings, run_id)
    if problems:
        st.dataframe(_ui.problem_rows(problems), hide_index=True)
    else:
        st.success("Esta carga no registró ningún error ni aviso.")


user = _ui.require_user("staff")
settings = _ui.settings()
st.title("Cargas de datos")
_ui.show_flash()
with _ui.errors_shown():
    statuses = {status.code: status for status in service.company_statuses(settings)}
    if not statuses:
        st.info("No hay empresas: la carpeta de origen está vacía y aún no se ha cargado nada.")
    else:
        st.dataframe(_ui.company_rows(list(statuses.values())), hide_index=True)
        code = st.selectbox("Empresa", list(statuses), format_func=lambda c: f"{c} — {statuses[c].name}")
        company_actions(settings, statuses[code], user["username"])
        journal_formats(statuses[code])
with _ui.errors_shown():
    queue_and_running(settings)
with _ui.errors_shown():
    runs_and_problems(settings)
