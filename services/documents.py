"""Documents of a company: checked uploads (content allow-list), random-name storage, list, «nuevo» marks, reads.

Two sources are merged for the client: the firm's export folder (published by the ETL in the snapshot, key
``etl:<sha256>``) and files staff upload in the portal (table ``documents``, direction 'firm', key ``portal:<id>``).
Files a client sends to the firm go to the company's inbox (direction 'client') that only staff read.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import filetype
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.store import Snapshot, fsync_dir
from portal import audit, clock, fmt
from portal.db import document_reads, documents
from portal.errors import PortalError
from portal.settings import Settings
from reports import documents as published

APP_ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = {
    "fiscal": "Fiscal",
    "laboral": "Laboral",
    "contable": "Contable",
    "societario": "Societario",
    "otros": "Otros",
}
DIRECTIONS = ("firm", "client")
# The allow-list: kind -> (media type, extensions the name may carry, download extension, label).
KINDS = {
    "pdf": ("application/pdf", (".pdf",), ".pdf"),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg"), ".jpg"),
    "png": ("image/png", (".png",), ".png"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",), ".xlsx"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",), ".docx"),
    "csv": ("text/csv", (".csv",), ".csv"),
    "txt": ("text/plain", (".txt",), ".txt"),
}
KIND_OF_EXTENSION = {ext: kind for kind, (_, exts, _) in KINDS.items() for ext in exts}
MEDIA_EXTENSION = {media: ext for media, _, ext in KINDS.values()}
ALLOWED_TEXT = "PDF, JPEG, PNG, Excel (.xlsx), Word (.docx), CSV y texto (.txt)"
ACCEPTED_EXTENSIONS = sorted(e.lstrip(".") for e in KIND_OF_EXTENSION)  # for st.file_uploader(type=...)
HTML_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".xml", ".js", ".mht", ".mhtml", ".hta")
HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<meta")
# Tags refused anywhere in a text file, and in the first KB of a PDF or image (where readers and browsers sniff).
HTML_TAGS = (
    b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe", b"<object", b"<embed",
    b"<img", b"<meta",
)  # fmt: skip
SNIFFED_BYTES = 1024
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024  # a larger Office file is treated as a zip bomb
ZIP_CHUNK = 64 * 1024  # inflated and counted this much at a time
ZIP_UNREADABLE = "el archivo comprimido está dañado, cifrado o usa una compresión no admitida"
MAX_NAME = 200
MAX_TITLE = 200


class UploadRejected(PortalError):
    """A file that is not stored; the message says why, in Spanish, for the person who sent it."""


class ContentRefused(Exception):
    """Content refused for what was found inside it; the Spanish reason completes the message naming the file."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check: its clean name, kind and media type (from the content)."""

    file_name: str
    kind: str
    media_type: str
    size: int
    sha256: str


# --- checks (pure) ------------------------------------------------------------------------------------------------


def megabytes(size: float) -> str:
    """12_345_678 -> '11,8 MB' (Spanish decimals)."""
    return f"{fmt.number(size / (1024 * 1024), 1)} MB"


def clean_name(name: str) -> str:
    """The user's file name, or UploadRejected when it names a folder, is empty, or is an HTML/script file."""
    if any(c in name for c in "/\\") or ".." in name or "\x00" in name:
        raise UploadRejected(
            "El nombre del archivo no puede contener carpetas ni rutas (/, \\ o ..). "
            "Cámbielo y vuelva a enviarlo: no se ha guardado."
        )
    plain = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C").strip()
    plain = plain.strip(". ")
    if not plain:
        raise UploadRejected("El archivo no tiene nombre: no se ha guardado.")
    if Path(plain).suffix.lower() in HTML_EXTENSIONS:
        raise UploadRejected(
            f"No se admiten páginas web ni archivos HTML, SVG o de código («{plain}»). Se admiten: {ALLOWED_TEXT}. "
            "No se ha guardado."
        )
    stem, suffix = Path(plain).stem, Path(plain).suffix
    return stem[: MAX_NAME - len(suffix)] + suffix


def inflated_size(content: bytes, member: zipfile.ZipInfo, budget: int) -> int:
    """The bytes ``member`` really holds, counted while inflating it ZIP_CHUNK at a time; ContentRefused past budget.

    The sizes the zip declares are not trusted: the deflate stream is read from the member's local header until it
    ends by itself, and a member whose real size differs from the declared one is refused.
    """
    too_big = f"descomprimido ocupa más de {megabytes(MAX_ZIP_UNCOMPRESSED)} (posible bomba zip)"
    header = struct.unpack_from("<4s2xHH16xHH", content, member.header_offset)  # the member's local header
    signature, flags, method, name_length, extra_length = header
    if signature != b"PK\x03\x04" or flags & 1 or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ContentRefused(ZIP_UNREADABLE)
    position = member.header_offset + 30 + name_length + extra_length
    if method == zipfile.ZIP_STORED:  # stored bytes lie in the upload itself
        size = member.compress_size
        if position + size > len(content):
            raise ContentRefused(ZIP_UNREADABLE)
    else:
        inflater, size = zlib.decompressobj(-zlib.MAX_WBITS), 0
        while not inflater.eof:
            data = inflater.unconsumed_tail
            if not data:
                data = content[position : position + ZIP_CHUNK]
                position += len(data)
                if not data:
                    raise ContentRefused(ZIP_UNREADABLE)  # the stream is cut short
            size += len(inflater.decompress(data, ZIP_CHUNK))
            if size > budget:
                raise ContentRefused(too_big)
    if size > budget:
        raise ContentRefused(too_big)
    if size != member.file_size:
        raise ContentRefused("declara un tamaño descomprimido que no es el real (posible bomba zip)")
    return size


def office_kind(content: bytes) -> str | None:
    """'xlsx' or 'docx' for an Office Open XML zip, else None; every member is inflated and measured first.

    ContentRefused when the zip has too many members, inflates to more than MAX_ZIP_UNCOMPRESSED in all, lies about
    its sizes or cannot be read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ContentRefused(ZIP_UNREADABLE) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ContentRefused(f"tiene más de {fmt.integer(MAX_ZIP_MEMBERS)} archivos dentro")
    budget = MAX_ZIP_UNCOMPRESSED
    try:
        for member in members:
            budget -= inflated_size(content, member, budget)
    except (zlib.error, struct.error):
        raise ContentRefused(ZIP_UNREADABLE) from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    return None


def html_tag(content: bytes) -> str | None:
    """The first HTML, SVG or script tag found anywhere in ``content`` (any case), e.g. '<script'; None when none."""
    lowered = content.lower()
    return next((tag.decode() for tag in HTML_TAGS if tag in lowered), None)


def text_kind(content: bytes) -> bool:
    """True for plain text: no NUL bytes and decodable as UTF-8 (or Windows-1252).

    ContentRefused when it starts like HTML, SVG or XML, or has an HTML or script tag anywhere in the whole file.
    """
    if b"\x00" in content:
        return False
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    tag = next((start.decode() for start in HTML_STARTS if head.startswith(start)), None) or html_tag(content)
    if tag:
        raise ContentRefused(f"contiene HTML o código de página web («{tag}»)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def content_kind(content: bytes) -> str | None:
    """The allow-listed kind of ``content`` judged by its bytes (magic numbers), never by name; None otherwise.

    ContentRefused, with the reason, for a PDF or image with HTML in its first KB (a file that is also a web page),
    text with HTML anywhere, and a zip over its limits.
    """
    guessed = filetype.guess(content)
    if guessed is None:
        return "txt" if text_kind(content) else None
    if guessed.extension in ("zip", "xlsx", "docx"):
        return office_kind(content)
    kind = {"pdf": "pdf", "jpg": "jpeg", "png": "png"}.get(guessed.extension)
    if kind is None or (kind == "pdf" and not content.startswith(b"%PDF-")):
        return None
    tag = html_tag(content[:SNIFFED_BYTES])
    if tag:
        raise ContentRefused(f"tiene HTML en su primer KB («{tag}»): sería a la vez {kind.upper()} y página web")
    return kind


def validate_upload(name: str, content: bytes, settings: Settings) -> CheckedFile:
    """The checked file, or UploadRejected with a clear Spanish message (size, name, type by content)."""
    limit = int(settings.upload_max_mb * 1024 * 1024)
    file_name = clean_name(name)
    if not content:
        raise UploadRejected(f"El archivo «{file_name}» está vacío: no se ha guardado.")
    if len(content) > limit:
        raise UploadRejected(
            f"El archivo «{file_name}» ocupa {megabytes(len(content))} y el máximo es "
            f"{fmt.number(settings.upload_max_mb, 0)} MB: no se ha guardado."
        )
    claimed = KIND_OF_EXTENSION.get(Path(file_name).suffix.lower())
    if claimed is None:
        raise UploadRejected(f"El tipo del archivo «{file_name}» no está permitido. Se admiten: {ALLOWED_TEXT}.")
    try:
        kind, reason = content_kind(content), ""
    except ContentRefused as exc:
        kind, reason = None, f": {exc}"
    if kind == "txt" and claimed == "csv":
        kind = "csv"
    if kind != claimed:
        what = {"csv": "un CSV", "txt": "un texto"}.get(claimed, f"un {claimed.upper()}")
        raise UploadRejected(
            f"El contenido del archivo «{file_name}» no es {what} aunque su nombre lo diga{reason}. "
            f"No se ha guardado. Se admiten: {ALLOWED_TEXT}."
        )
    return CheckedFile(file_name, kind, KINDS[kind][0], len(content), hashlib.sha256(content).hexdigest())


def download_name(title: str, media_type: str) -> str:
    """A fixed, safe download name: ascii slug of the title plus the extension of the checked media type."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:80] or "documento"
    return slug + MEDIA_EXTENSION.get(media_type, ".bin")


# --- storage ------------------------------------------------------------------------------------------------------


def upload_folder(settings: Settings) -> Path:
    """The upload folder (created 0750); never the application's code folders."""
    folder = settings.uploads.resolve()
    if folder.is_relative_to(APP_ROOT) and not folder.is_relative_to(APP_ROOT / "data"):
        raise PortalError(
            "La carpeta de documentos subidos no puede estar dentro de la aplicación (PORTAL_UPLOAD_DIR)."
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    return folder


def _write(folder: Path, content: bytes) -> str:
    """Write ``content`` under a fresh random name with permissions 0640, durably (file and folder fsynced before
    the database row that names it exists); the name."""
    for _ in range(5):
        stored = secrets.token_hex(16)
        try:
            fd = os.open(folder / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o640)
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(folder)
        return stored
    raise PortalError("No se ha podido guardar el documento. Inténtelo de nuevo.")


def sent_today(engine: Engine, username: str, company: str) -> int:
    """Documents ``username`` sent to the firm today (Madrid day) for ``company``."""
    since = clock.now_utc() - timedelta(days=2)
    with engine.connect() as conn:
        moments = conn.execute(
            sa.select(documents.c.uploaded_at).where(
                documents.c.company_code == company,
                documents.c.direction == "client",
                documents.c.uploaded_by == username,
                documents.c.uploaded_at >= since,
            )
        ).scalars()
        today = clock.today_madrid()
        return sum(1 for m in moments if clock.to_madrid(clock.as_utc(m)).date() == today)


def store(
    engine: Engine,
    settings: Settings,
    *,
    company: str,
    direction: str,
    name: str,
    content: bytes,
    actor: str,
    actor_role: str,
    category: str = "otros",
    year: int | None = None,
    title: str = "",
) -> int:
    """Check and store one upload (file 0640 under a random name, row and audit in one transaction); its id.

    Clients may send at most ``settings.upload_max_files`` documents per day and company.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    if category not in CATEGORIES:
        raise UploadRejected(f"La categoría «{category}» no existe.")
    checked = validate_upload(name, content, settings)
    if direction == "client" and sent_today(engine, actor, company) >= settings.upload_max_files:
        raise UploadRejected(
            f"Ya ha enviado hoy {settings.upload_max_files} documentos para esta empresa, el máximo diario. "
            "Inténtelo mañana o contacte con el despacho. No se ha guardado."
        )
    now = clock.now_utc()
    title = (title.strip() or Path(checked.file_name).stem)[:MAX_TITLE]
    folder = upload_folder(settings)
    stored = _write(folder, content)
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                documents.insert().values(
                    company_code=company,
                    direction=direction,
                    category=category,
                    year=year or clock.to_madrid(now).year,
                    title=title,
                    file_name=checked.file_name,
                    stored_name=stored,
                    media_type=checked.media_type,
                    size=checked.size,
                    sha256=checked.sha256,
                    uploaded_by=actor,
                    uploaded_at=now,
                )
            ).inserted_primary_key[0]
            audit.record(
                conn,
                "document_upload",
                actor=actor,
                actor_role=actor_role,
                company=company,
                target=f"portal:{new_id}",
                detail=f"{'al despacho' if direction == 'client' else 'al cliente'}; tipo={checked.kind}; "
                f"bytes={checked.size}",
            )
    except Exception:
        (folder / stored).unlink(missing_ok=True)
        raise
    return int(new_id)


# --- listing, reads and «nuevo» -----------------------------------------------------------------------------------

LIST_COLUMNS = ["key", "source", "title", "category", "year", "date", "file_name", "media_type", "size", "is_new"]


def uploads(engine: Engine, company: str, direction: str) -> list[dict]:
    """The company's live portal uploads of one direction, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(documents)
            .where(
                documents.c.company_code == company,
                documents.c.direction == direction,
                documents.c.deleted_at.is_(None),
            )
            .order_by(documents.c.uploaded_at.desc(), documents.c.id.desc())
        ).mappings()
        return [dict(r) for r in rows]


def inbox_summary(engine: Engine) -> dict[str, tuple[int, datetime]]:
    """Per company with client-sent documents: how many are in its inbox and when the latest arrived (staff)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(documents.c.company_code, sa.func.count(), sa.func.max(documents.c.uploaded_at))
            .where(documents.c.direction == "client", documents.c.deleted_at.is_(None))
            .group_by(documents.c.company_code)
        ).all()
    return {code: (int(count), latest) for code, count, latest in rows}


def read_keys(engine: Engine, user_id: int, company: str) -> set[str]:
    """The document keys ``user_id`` has opened in ``company``."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.select(document_reads.c.document_key).where(
                    document_reads.c.user_id == user_id, document_reads.c.company_code == company
                )
            ).scalars()
        )


def list_documents(engine: Engine, user: dict, company: str, snapshot: Snapshot | None) -> pd.DataFrame:
    """Every document the firm shares with ``company`` (ETL index + portal uploads), newest first, «nuevo» marked."""
    seen = read_keys(engine, int(user["id"]), company)
    rows = []
    index = published.documents(snapshot) if snapshot is not None and snapshot.company == company else None
    if index is not None:
        for r in index.itertuples(index=False):
            rows.append(
                {
                    "key": f"etl:{r.sha256}",
                    "source": "etl",
                    "title": r.title,
                    "category": r.category,
                    "year": int(r.year),
                    "date": r.doc_date,
                    "file_name": r.file_name,
                    "media_type": "application/pdf",
                    "size": int(r.size),
                }
            )
    for r in uploads(engine, company, "firm"):
        rows.append(
            {
                "key": f"portal:{r['id']}",
                "source": "portal",
                "title": r["title"],
                "category": r["category"],
                "year": int(r["year"]),
                "date": clock.to_madrid(clock.as_utc(r["uploaded_at"])).date(),
                "file_name": r["file_name"],
                "media_type": r["media_type"],
                "size": int(r["size"]),
            }
        )
    for row in rows:
        row["is_new"] = row["key"] not in seen
    rows.sort(key=lambda r: (r["date"], r["title"]), reverse=True)
    return pd.DataFrame(rows, columns=LIST_COLUMNS)


def search(
    frame: pd.DataFrame, *, category: str | None = None, year: int | None = None, text: str = ""
) -> pd.DataFrame:
    """The documents of a category and year whose title or file name holds every word of ``text``."""
    words = text.lower().split()
    keep = [
        (category is None or c == category)
        and (year is None or y == year)
        and all(w in f"{t} {f}".lower() for w in words)
        for c, y, t, f in zip(frame["category"], frame["year"], frame["title"], frame["file_name"], strict=True)
    ]
    return frame[keep].reset_index(drop=True)


def new_count(engine: Engine, settings: Settings, user: dict, company: str, snapshot: Snapshot | None) -> int:
    """How many documents shared with ``company`` the user has not opened yet (the home dashboard's figure)."""
    del settings  # kept in the signature: the home page passes it
    frame = list_documents(engine, user, company, snapshot)
    return int(frame["is_new"].sum()) if not frame.empty else 0


def mark_read(engine: Engine, user_id: int, company: str, key: str) -> None:
    """Remember that ``user_id`` opened document ``key`` of ``company`` (idempotent)."""
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(document_reads.c.document_key).where(
                document_reads.c.user_id == user_id,
                document_reads.c.company_code == company,
                document_reads.c.document_key == key,
            )
        ).first()
        if exists is None:
            conn.execute(
                document_reads.insert().values(
                    user_id=user_id, company_code=company, document_key=key, read_at=clock.now_utc()
                )
            )


@dataclass(frozen=True)
class DocumentFile:
    """The bytes of one document with the safe name and media type to send them with."""

    key: str
    title: str
    download_name: str
    media_type: str
    content: bytes


def _portal_row(engine: Engine, company: str, key: str, direction: str) -> dict | None:
    if not re.fullmatch(r"portal:\d{1,12}", key):
        return None
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(documents).where(
                    documents.c.id == int(key.split(":")[1]),
                    documents.c.company_code == company,
                    documents.c.direction == direction,
                    documents.c.deleted_at.is_(None),
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def read_document(
    engine: Engine,
    settings: Settings,
    company: str,
    key: str,
    snapshot: Snapshot | None = None,
    *,
    direction: str = "firm",
) -> DocumentFile | None:
    """The document ``key`` of ``company`` (None when it is not that company's, is deleted or missing)."""
    if key.startswith("etl:"):
        if direction != "firm" or snapshot is None or snapshot.company != company:
            return None
        sha = key.removeprefix("etl:")
        index = published.documents(snapshot)
        match = index[index["sha256"] == sha]
        data = published.content(snapshot, sha) if re.fullmatch(r"[0-9a-f]{64}", sha) else None
        if match.empty or data is None:
            return None
        title = str(match.iloc[0]["title"])
        return DocumentFile(key, title, download_name(title, "application/pdf"), "application/pdf", data)
    row = _portal_row(engine, company, key, direction)
    if row is None or not re.fullmatch(r"[0-9a-f]{32}", row["stored_name"]):
        return None
    path = upload_folder(settings) / row["stored_name"]
    if not path.is_file():
        return None
    data = path.read_bytes()
    return DocumentFile(key, row["title"], download_name(row["title"], row["media_type"]), row["media_type"], data)


def record_download(
    engine: Engine, user: dict, role: str, company: str, document: DocumentFile, *, mark: bool = True
) -> None:
    """Audit a download (document_download) and, for the user who opened it, mark it read."""
    audit.record(
        engine,
        "document_download",
        actor=str(user.get("username", "")),
        actor_role=role,
        company=company,
        target=document.key,
        detail=f"archivo={document.download_name}",
    )
    if mark:
        mark_read(engine, int(user["id"]), company, document.key)


def delete(engine: Engine, company: str, document_id: int, *, actor: str) -> bool:
    """Withdraw (soft delete) a portal upload of ``company``; audited. False when there was nothing to withdraw."""
    with engine.begin() as conn:
        done = conn.execute(
            documents.update()
            .where(
                documents.c.id == document_id,
                documents.c.company_code == company,
                documents.c.deleted_at.is_(None),
            )
            .values(deleted_at=clock.now_utc())
        ).rowcount
        if done:
            audit.by_staff(
                conn,
                "document_delete",
                actor=actor,
                company=company,
                target=f"portal:{document_id}",
            )
    return bool(done)


def uploaded_at_text(moment: datetime) -> str:
    """A stored upload moment as 'dd/mm/aaaa hh:mm' on the Madrid clock."""
    return fmt.datetime_es(clock.as_utc(moment))
