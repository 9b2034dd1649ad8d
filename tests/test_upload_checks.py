"""Upload checks on crafted files: HTML anywhere in text, HTML/PDF polyglots, zip bombs that lie about their sizes."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from types import SimpleNamespace

import openpyxl
import pytest

from portal.settings import load_settings
from services import documents as docs

TEXT_LINE = b"fecha;concepto;importe\n01/02/2025;Factura 12 < 100 EUR;12,50\n"
DOCX_MEMBERS = ("[Content_Types].xml", "_rels/.rels", "word/document.xml")
BOMB_SIZE = 200 * 1024 * 1024  # real bytes of the bomb's big member: twice MAX_ZIP_UNCOMPRESSED


@pytest.fixture
def settings(tmp_path):
    return load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_UPLOAD_DIR": str(tmp_path / "up")})


def refused(settings, name: str, content: bytes) -> str:
    with pytest.raises(docs.UploadRejected) as caught:
        docs.validate_upload(name, content, settings)
    message = str(caught.value)
    assert f"«{name}»" in message and "No se ha guardado" in message
    return message


def text_with(tail: bytes, size: int) -> bytes:
    """``size`` bytes of plain CSV lines, then ``tail``."""
    return (TEXT_LINE * (size // len(TEXT_LINE) + 1))[:size] + tail


def office_zip(names: tuple[str, ...], *, big: str | None = None, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An Office-like zip; ``big`` names a member written with BOMB_SIZE zero bytes, streamed 1 MB at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, compresslevel=1) as archive:
        for name in names:
            archive.writestr(name, "<x/>")
        if big:
            with archive.open(big, "w") as member:
                for _ in range(BOMB_SIZE // (1024 * 1024)):
                    member.write(bytes(1024 * 1024))
    return buffer.getvalue()


def lie_about_sizes(content: bytes, declared: int, member: str | None = None) -> bytes:
    """The zip with the uncompressed size of ``member`` (all when None) patched to ``declared`` in its local header
    and in the central directory."""
    data = bytearray(content)
    end = data.rindex(b"PK\x05\x06")
    entries, _, directory = struct.unpack_from("<HII", data, end + 10)
    position = directory
    for _ in range(entries):
        assert data[position : position + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        (local,) = struct.unpack_from("<I", data, position + 42)
        if member is None or data[position + 46 : position + 46 + name_length].decode() == member:
            struct.pack_into("<I", data, position + 24, declared)  # central directory: uncompressed size
            struct.pack_into("<I", data, local + 22, declared)  # local header: uncompressed size
        position += 46 + name_length + extra_length + comment_length
    return bytes(data)


@pytest.fixture
def inflated(monkeypatch) -> list[int]:
    """The bytes each inflate call of the upload checks produced (zlib seen by services.documents only)."""
    produced: list[int] = []

    class Counting:
        def __init__(self, wbits: int) -> None:
            self.inner = zlib.decompressobj(wbits)

        def decompress(self, data: bytes, max_length: int) -> bytes:
            out = self.inner.decompress(data, max_length)
            produced.append(len(out))
            return out

        @property
        def eof(self) -> bool:
            return self.inner.eof

        @property
        def unconsumed_tail(self) -> bytes:
            return self.inner.unconsumed_tail

    counting = SimpleNamespace(decompressobj=Counting, MAX_WBITS=zlib.MAX_WBITS, error=zlib.error)
    monkeypatch.setattr(docs, "zlib", counting)
    return produced


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """An .xlsx-looking zip whose 200 MB of zeros compress to a few hundred KB."""
    return office_zip(("[Content_Types].xml", "xl/workbook.xml"), big="xl/worksheets/sheet1.xml")


# --- text: the whole file is checked -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [2048 + 10, 1024 * 1024 + 7])
@pytest.mark.parametrize("name", ["notas.txt", "datos.csv"])
def test_a_script_after_the_first_2_kb_or_1_mb_of_text_is_refused(settings, name, offset):
    message = refused(settings, name, text_with(b"\n<script>alert(1)</script>\n", offset))
    assert "aunque su nombre lo diga: contiene HTML o código de página web («<script»)" in message


@pytest.mark.parametrize("tag", [b"<SCRIPT src=x>", b"<iframe srcdoc=x>", b"<img src=x onerror=alert(1)>", b"<svg>"])
def test_any_html_tag_anywhere_in_text_is_refused_in_any_case(settings, tag):
    message = refused(settings, "notas.txt", text_with(tag, 5000))
    assert f"«{tag.split()[0].decode().rstrip('>').lower()}»" in message


def test_plain_text_with_angle_brackets_and_big_csvs_are_still_accepted(settings):
    assert docs.validate_upload("notas.txt", TEXT_LINE + b"3 < 4 y 5 > 2\n", settings).kind == "txt"
    assert docs.validate_upload("datos.csv", text_with(b"", 2 * 1024 * 1024), settings).kind == "csv"
    assert docs.validate_upload("euros.csv", "importe;€\n1,00;€\n".encode("cp1252"), settings).kind == "csv"


# --- PDF: no HTML in its first KB ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.4\n<html><script>alert(1)</script></html>\n",
        b"%PDF-1.7\n<!DOCTYPE html>\n",
        b"%PDF-1.4\n% comentario\n<body onload=alert(1)>\n",
        b"%PDF-1.4\n" + b"%" * 900 + b"\n<SVG onload=alert(1)>",
        b"%PDF-1.4\n<iframe src=javascript:alert(1)>\n",
        b"%PDF-1.4\n<Script>alert(1)</Script>\n",
    ],
)
def test_an_html_pdf_polyglot_is_refused(settings, head):
    content = head + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
    message = refused(settings, "factura.pdf", content)
    assert "no es un PDF aunque su nombre lo diga: tiene HTML en su primer KB" in message
    assert "a la vez PDF y página web" in message


def test_pdfs_are_still_accepted_html_beyond_the_first_kb_included(settings):
    plain = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF\n"
    assert docs.validate_upload("factura.pdf", plain, settings).kind == "pdf"
    later = b"%PDF-1.4\n" + b"0" * 1100 + b"<html>dentro de un flujo comprimido</html>\n%%EOF\n"
    assert docs.validate_upload("factura.pdf", later, settings).kind == "pdf"


def test_an_image_with_html_in_its_first_kb_is_refused_too(settings):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xfe\x00\x20<script>x</script>"
    assert "a la vez JPEG y página web" in refused(settings, "foto.jpg", jpeg + b"\xff\xd9")
    assert docs.validate_upload("foto.jpg", jpeg.replace(b"script", b"nota.."), settings).kind == "jpeg"


# --- zip files: measured while inflating ---------------------------------------------------------------------------


def test_a_zip_bomb_that_declares_small_sizes_is_refused_without_inflating_past_the_limit(settings, bomb, inflated):
    liar = lie_about_sizes(bomb, 1000, "xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:  # the directory really says the big member is small
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
        assert sum(m.file_size for m in archive.infolist()) < 2000
    assert len(liar) < 1024 * 1024
    message = refused(settings, "libro.xlsx", liar)
    assert "no es un XLSX aunque su nombre lo diga: descomprimido ocupa más de 100,0 MB (posible bomba zip)" in message
    assert sum(inflated) <= docs.MAX_ZIP_UNCOMPRESSED + docs.ZIP_CHUNK
    assert max(inflated) <= docs.ZIP_CHUNK  # never more than one chunk at a time


def test_an_honest_zip_bomb_is_stopped_by_the_running_total(settings, bomb, inflated):
    message = refused(settings, "libro.xlsx", bomb)
    assert "descomprimido ocupa más de 100,0 MB (posible bomba zip)" in message
    assert sum(inflated) <= docs.MAX_ZIP_UNCOMPRESSED + docs.ZIP_CHUNK


def test_a_zip_that_lies_about_sizes_under_the_limit_is_refused(settings):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in DOCX_MEMBERS:
            archive.writestr(name, "<x/>" * 5000)
    content = lie_about_sizes(buffer.getvalue(), 4)
    message = refused(settings, "carta.docx", content)
    assert "declara un tamaño descomprimido que no es el real (posible bomba zip)" in message


def test_a_zip_with_too_many_members_is_refused(settings):
    names = ("[Content_Types].xml", "xl/workbook.xml", *(f"xl/m{n}.xml" for n in range(docs.MAX_ZIP_MEMBERS)))
    message = refused(settings, "libro.xlsx", office_zip(names))
    assert "tiene más de 1.000 archivos dentro" in message  # thousands separated, as everywhere on screen


def test_unreadable_zips_are_refused_with_the_reason(settings):
    bzip2 = office_zip(("[Content_Types].xml", "xl/workbook.xml"), method=zipfile.ZIP_BZIP2)
    assert "usa una compresión no admitida" in refused(settings, "libro.xlsx", bzip2)
    whole = office_zip(("[Content_Types].xml", "xl/workbook.xml"))
    cut = whole[:40] + whole[60:]  # a damaged deflate stream, the directory intact
    assert "no es un XLSX" in refused(settings, "libro.xlsx", cut)


def test_real_office_files_are_still_accepted(settings):
    book = openpyxl.Workbook()
    book.active.append(["concepto", "importe"])
    book.active.append(["Factura 12", 12.5])
    buffer = io.BytesIO()
    book.save(buffer)
    assert docs.validate_upload("libro.xlsx", buffer.getvalue(), settings).kind == "xlsx"
    assert docs.validate_upload("carta.docx", office_zip(DOCX_MEMBERS), settings).kind == "docx"
    stored = office_zip(DOCX_MEMBERS, method=zipfile.ZIP_STORED)
    assert docs.validate_upload("carta.docx", stored, settings).kind == "docx"
