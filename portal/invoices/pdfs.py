"""Invoice PDFs through Pier: asked of Lago, kept in a size-capped disk cache, streamed out.

Lago makes a PDF on request: `download` answers an empty 200 while it generates one, then
`invoice.generated` arrives and `file_url` is set. Pier fetches that file server-side in
chunks into its cache (atomic writes, least recently served evicted first), so customers only
ever see Pier's own link; Lago's file URL and API key never reach the browser. The calls to
Lago keep the request's deadline; the file's bytes then get `FETCH_SECONDS`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from portal.billing.connection import lago_client
from portal.models import InvoiceMirror

FETCH_SECONDS = 120.0
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SUFFIX = ".pdf"


class PdfCache:
    """PDF files named by invoice id in one folder, held under `cap` bytes in total."""

    def __init__(self, folder: str | os.PathLike[str], cap: int) -> None:
        self.folder = Path(folder)
        self.cap = cap

    def path(self, lago_id: str) -> Path:
        if not SAFE_ID.fullmatch(lago_id):
            raise ValueError("not an invoice id")
        return self.folder / f"{lago_id}{SUFFIX}"

    def open(self, lago_id: str) -> BinaryIO | None:
        """The cached file, opened for reading (it stays readable even if evicted meanwhile),
        and marked as just used; None when it is not cached."""
        path = self.path(lago_id)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)
        return handle

    def has(self, lago_id: str) -> bool:
        return self.path(lago_id).is_file()

    def store(self, lago_id: str, chunks: Iterable[bytes]) -> Path:
        """Write the chunks to a temporary file beside the target, then rename it into place
        (readers see the whole file or none), then evict down to the cap."""
        target = self.path(lago_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".incoming-", suffix=SUFFIX)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.evict(keep=target)
        return target

    def evict(self, keep: Path | None = None) -> list[str]:
        """Remove the least recently used files until the total fits the cap (never `keep`)."""
        entries = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            if path.name.startswith("."):
                continue
            try:
                status = path.stat()
            except FileNotFoundError:
                continue
            entries.append((status.st_mtime, status.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in sorted(entries, key=lambda entry: entry[0]):
            if total <= self.cap:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            removed.append(path.stem)
        return removed


def cache() -> PdfCache:
    """This Pier's PDF cache (PIER_PDF_CACHE_DIR, PIER_PDF_CACHE_BYTES)."""
    config = current_app.config
    return PdfCache(config["PDF_CACHE_DIR"], config["PDF_CACHE_BYTES"])


def fetch(invoice: InvoiceMirror) -> bool:
    """Make sure the invoice's PDF is cached: True when it is, False while Lago makes it.

    A PDF Lago already announced (`file_available`) or a first request goes through `download`
    (which starts the generation when there is no file yet); later polls only read the invoice,
    so they never queue another generation. Raises `NotConnected` or `LagoError`.
    """
    pdfs = cache()
    if pdfs.has(invoice.lago_id):
        return True
    lago = lago_client()
    found = lago.download_invoice(invoice.lago_id)
    if found is None or not found.file_url:
        return False
    with lago.open_file(found.file_url, within=FETCH_SECONDS) as chunks:
        pdfs.store(invoice.lago_id, chunks)
    invoice.file_available = True
    return True


def check(invoice: InvoiceMirror) -> bool:
    """While Lago generates the PDF: is it there yet? Reads the invoice (never asks for another
    generation) unless the mirror already heard `invoice.generated`."""
    if cache().has(invoice.lago_id):
        return True
    if not invoice.file_available and not lago_client().get_invoice(invoice.lago_id).file_url:
        return False
    return fetch(invoice)
