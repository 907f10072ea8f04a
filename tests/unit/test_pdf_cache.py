"""The PDF disk cache: atomic writes, least recently served evicted first, never the newest."""

from __future__ import annotations

import os

import pytest

from portal.invoices.pdfs import PdfCache


def test_a_stored_file_is_whole_and_readable(tmp_path):
    cache = PdfCache(tmp_path, cap=10_000)
    cache.store("inv-1", [b"%PDF-", b"1.4", b"\n"])
    with cache.open("inv-1") as handle:
        assert handle.read() == b"%PDF-1.4\n"
    assert [p.name for p in tmp_path.iterdir()] == ["inv-1.pdf"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    cache = PdfCache(tmp_path, cap=10_000)

    def broken():
        yield b"%PDF-1.4"
        raise ConnectionError("Lago went away")

    with pytest.raises(ConnectionError):
        cache.store("inv-1", broken())
    assert list(tmp_path.iterdir()) == []
    assert cache.open("inv-1") is None


def test_the_least_recently_served_go_first(tmp_path):
    cache = PdfCache(tmp_path, cap=250)
    for n, name in enumerate(("a", "b", "c")):
        cache.store(name, [b"x" * 100])
        os.utime(tmp_path / f"{name}.pdf", (1000 + n, 1000 + n))
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["b", "c"]  # a was evicted at c
    cache.open("b").close()  # serving b makes it the most recent
    cache.store("d", [b"x" * 100])
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["b", "d"]


def test_a_file_larger_than_the_cap_is_kept_until_the_next(tmp_path):
    cache = PdfCache(tmp_path, cap=10)
    cache.store("big", [b"x" * 100])
    assert cache.has("big")
    cache.store("next", [b"y" * 100])
    assert not cache.has("big") and cache.has("next")


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "", "x" * 65, "inv.1"])
def test_only_plain_ids_name_files(tmp_path, bad):
    with pytest.raises(ValueError):
        PdfCache(tmp_path, cap=10).path(bad)
