"""Invoice PDFs as lago-api's ActiveStorage serves them: real files on disk behind a signed blob
path (`/rails/active_storage/blobs/redirect/<signed id>/<filename>`), which redirects to the
disk service's own signed URL that sends the bytes. Neither needs the API key.

A file is a minimal valid PDF (one page naming the invoice), padded with a comment block in its
content stream up to `pdf_bytes` when a test or a benchmark wants a large one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHUNK = 64 * 1024
PADDING_LINE = b"%" + b"P" * 78 + b"\n"  # a PDF comment: 80 bytes a line


class PdfFiles:
    """The stand-in's stored files and the signatures of the links to them."""

    def __init__(self, folder: str | None, secret: bytes) -> None:
        if folder:
            self.folder = Path(folder)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._owned = False
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="lago-standin-files-"))
            self._owned = True
        self._secret = secret

    def write(self, title: str, size: int = 0) -> str:
        """Store a new PDF (of about `size` bytes) and return its blob key."""
        key = secrets.token_hex(12)
        temporary = self.folder / f".{key}"
        with temporary.open("wb") as out:
            for part in pdf_parts(title, size):
                out.write(part)
        temporary.replace(self.folder / key)
        return key

    def path(self, key: str) -> Path | None:
        if not (len(key) == 24 and all(c in "0123456789abcdef" for c in key)):
            return None
        path = self.folder / key
        return path if path.is_file() else None

    def sign(self, purpose: str, key: str) -> str:
        """`<key>--<signature>`, as Rails' signed ids look."""
        digest = hmac.new(self._secret, f"{purpose}:{key}".encode(), hashlib.sha256)
        return f"{key}--{digest.hexdigest()[:32]}"

    def verify(self, purpose: str, signed: str) -> str | None:
        """The key a signed id names, or None when the signature does not match."""
        key, _, _ = signed.partition("--")
        return key if hmac.compare_digest(self.sign(purpose, key), signed) else None

    def clear(self) -> None:
        for path in self.folder.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)


def pdf_parts(title: str, size: int = 0) -> Iterator[bytes]:
    """A one-page PDF 1.4 with a correct cross-reference table, padded to about `size` bytes,
    in parts (never all at once)."""
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    drawing = f"BT /F1 18 Tf 72 770 Td ({text}) Tj ET\n".encode("latin-1", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        None,  # the content stream, padded
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    small = sum(len(o) + 20 for o in objects if o) + len(drawing) + 400
    lines = max(0, (size - small) // len(PADDING_LINE))
    stream_length = len(drawing) + lines * len(PADDING_LINE)
    offsets = []
    position = 0

    def emit(data: bytes) -> bytes:
        nonlocal position
        position += len(data)
        return data

    yield emit(header)
    for number, body in enumerate(objects, start=1):
        offsets.append(position)
        if body is not None:
            yield emit(b"%d 0 obj\n" % number + body + b"\nendobj\n")
            continue
        yield emit(b"%d 0 obj\n<</Length %d>>\nstream\n" % (number, stream_length) + drawing)
        block = PADDING_LINE * (CHUNK // len(PADDING_LINE))
        left = lines
        while left:
            take = min(left, CHUNK // len(PADDING_LINE))
            yield emit(block if take * len(PADDING_LINE) == len(block) else PADDING_LINE * take)
            left -= take
        yield emit(b"\nendstream\nendobj\n")
    xref = position
    table = b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    table += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    yield emit(table + trailer)
