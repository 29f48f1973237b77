"""The WARC archive, end to end on real files with real warcio (and its ``warcio`` CLI).

What matters to a journalist citing a copy: every file passes ``warcio check``, every
pointer reads back the exact bytes (through revisits, across runs, after a crash), and the
index never points at something that is not there.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nianbao.archive import (
    ArchiveIntegrityError,
    WarcArchive,
    WarcPointer,
    read_payload,
    read_record_headers,
)
from nianbao.archive.cdxj import INDEX_NAME, CdxjEntry
from nianbao.archive.files import OPEN_SUFFIX
from nianbao.archive.surt import surt

ROOT = Path(__file__).resolve().parents[1]
FETCHED_AT = datetime(2026, 3, 1, 8, 30, 15, 250000, tzinfo=UTC)
HTML_UTF8 = (
    "<!doctype html><html><head><meta charset=utf-8><title>2025年政府信息公开工作年度报告"
    "</title></head><body><table><tr><td>主动公开</td><td>1,024</td></tr></table></body></html>"
).encode()
HTML_GBK = (
    "<html><head><meta charset=gb2312></head><body>某市人民政府2025年政府信息公开工作年度报告"
    "</body></html>"
).encode("gbk")
PDF_LIKE = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\r\n" + bytes(range(256)) * 40 + b"\r\n\r\n%%EOF\n"


def warcio_cli() -> str:
    """The ``warcio`` script installed next to the running interpreter (the project venv)."""
    script = Path(sys.executable).with_name("warcio")
    return str(script) if script.exists() else shutil.which("warcio") or "warcio"


def warcio_check(path: Path) -> None:
    result = subprocess.run(
        [warcio_cli(), "check", "-v", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines()[1:] if "fail" in line.lower()]
    assert not problems, result.stdout


def warcio_index(path: Path) -> list[dict]:
    fields = "warc-type,offset,length,warc-record-id,warc-concurrent-to,warc-target-uri"
    result = subprocess.run(
        [warcio_cli(), "index", "-f", fields, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def index_lines(directory: Path) -> list[CdxjEntry]:
    text = (directory / INDEX_NAME).read_text(encoding="utf-8")
    entries = [CdxjEntry.from_line(line) for line in text.splitlines(keepends=True)]
    assert all(entries), text
    return entries


def warc_fields(path: Path) -> list[dict[str, str]]:
    """The metadata records of a WARC file: what they are concurrent to, and their text."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with path.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "metadata":
                out.append({"concurrent_to": record.rec_headers.get_header(
                    "WARC-Concurrent-To"), "content": record.content_stream().read().decode()})
    return out


def warc_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.warc.gz"))


def assert_archive_consistent(directory: Path) -> None:
    """No file left open, every file valid, and index.cdxj == the files' response/revisit
    records exactly (nothing dangling, nothing missing)."""
    assert not list(directory.glob("*.open"))
    indexed = {(e.filename, e.offset, e.length) for e in index_lines(directory)}
    assert len(indexed) == len(index_lines(directory))
    in_files = set()
    for path in warc_files(directory):
        warcio_check(path)
        records = warcio_index(path)
        assert records[0]["warc-type"] == "warcinfo"
        in_files |= {
            (path.name, int(r["offset"]), int(r["length"]))
            for r in records
            if r["warc-type"] in ("response", "revisit")
        }
    assert indexed == in_files


def write(archive: WarcArchive, url: str, body: bytes, **overrides) -> WarcPointer:
    exchange = {
        "url": url,
        "method": "GET",
        "request_headers": [("User-Agent", "nianbao-test"), ("Accept-Encoding", "gzip, deflate")],
        "status": 200,
        "reason": "OK",
        "response_headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": body,
        "fetched_at": FETCHED_AT,
    }
    return archive.write_exchange(**(exchange | overrides))


def test_exchanges_are_valid_warc_and_read_back_exactly(tmp_path: Path) -> None:
    gbk_filename = "年报.pdf".encode("gbk").decode("latin-1")  # header octets, as Scrapy gives
    with WarcArchive(tmp_path, 50_000_000, operator="nianbao test suite") as archive:
        utf8 = write(
            archive,
            "https://www.example.gov.cn/zwgk/ndbg/2025.html",
            HTML_UTF8,
            response_headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Length", "311"),
            ],
            ip="203.0.113.7",
        )
        gbk = write(
            archive,
            "http://www.example.gov.cn/art/2025/1/20/art_1_2.html",
            HTML_GBK,
            response_headers=[
                ("Content-Type", "text/html; charset=gb2312"),
                ("Content-Disposition", f'inline; filename="{gbk_filename}"'),
            ],
            reason="",
        )
        pdf = write(
            archive,
            "http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename=a.pdf",
            PDF_LIKE,
            response_headers=[("Content-Type", "application/pdf")],
            protocol="HTTP/2",
        )
        not_modified = write(
            archive,
            "https://www.example.gov.cn/zwgk/ndbg/2025.html",
            b"",
            status=304,
            reason="Not Modified",
            response_headers=[("ETag", '"abc"'), ("Content-Length", "311")],
        )
        rendered = write(
            archive,
            "https://www.example.gov.cn/spa/ndbg",
            HTML_UTF8.replace(b"1,024", b"2,048"),
            rendered_by="chromium 156 via playwright",
        )
        assert list(tmp_path.glob("*.warc.gz.open"))  # still being written
    [path] = warc_files(tmp_path)
    assert re.fullmatch(rf"nianbao-\d{{14}}-{os.getpid()}-\d{{5}}\.warc\.gz", path.name)
    assert_archive_consistent(tmp_path)

    expected = {
        utf8: HTML_UTF8,
        gbk: HTML_GBK,
        pdf: PDF_LIKE,
        rendered: HTML_UTF8.replace(b"1,024", b"2,048"),
    }
    for pointer, body in expected.items():
        assert not pointer.revisit
        assert pointer.file == path.name
        assert read_payload(tmp_path, pointer) == body
    # The 304 confirms the page archived before it: replayed, it is that page's body.
    assert not_modified.revisit and not_modified.refers_to == (utf8.file, utf8.offset)
    assert read_payload(tmp_path, not_modified) == HTML_UTF8

    # Stored heads are consistent with the decoded body; the server's framing is kept renamed.
    warc, http = read_record_headers(tmp_path, utf8.file, utf8.offset)
    assert warc.get_header("WARC-Date") == "2026-03-01T08:30:15.250000Z"
    assert warc.get_header("WARC-IP-Address") == "203.0.113.7"
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("Content-Length") == str(len(HTML_UTF8))
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert http.get_header("X-Archive-Orig-Content-Length") == "311"
    # Header octets survive (GBK filename), and a missing reason gets the standard phrase.
    _, http = read_record_headers(tmp_path, gbk.file, gbk.offset)
    assert http.get_header("Content-Disposition") == f'inline; filename="{gbk_filename}"'
    assert http.protocol == "HTTP/1.1" and http.statusline == "200 OK"
    warc, http = read_record_headers(tmp_path, pdf.file, pdf.offset)
    assert warc.get_header("WARC-Protocol") == "h2" and http.protocol == "HTTP/1.1"
    # A 304 is a server-not-modified revisit of the 200 it confirms, with its own small head.
    warc, http = read_record_headers(tmp_path, not_modified.file, not_modified.offset)
    assert warc.get_header("WARC-Type") == "revisit"
    assert warc.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified")
    assert warc.get_header("WARC-Refers-To-Target-URI") == (
        "https://www.example.gov.cn/zwgk/ndbg/2025.html")
    assert warc.get_header("WARC-Payload-Digest") == utf8.payload_digest
    assert http is None  # no head: replay takes the 200's head and body, not an empty 304
    assert not_modified.length < 1000
    # … the 304's own head is kept in a metadata record concurrent to it.
    fields = "".join(r["content"] for r in warc_fields(path)
                     if r["concurrent_to"] == not_modified.record_id)
    assert "http-status-line: HTTP/1.1 304 Not Modified" in fields
    assert "http-header: Content-Length: 311" in fields
    # A 304 with nothing archived before it for its URL stays a plain response.
    with WarcArchive(tmp_path / "fresh", 50_000_000) as archive:
        alone = write(archive, "http://www.example.gov.cn/new.html", b"", status=304,
                      reason="Not Modified")
    warc, http = read_record_headers(tmp_path / "fresh", alone.file, alone.offset)
    assert warc.get_header("WARC-Type") == "response" and http.get_statuscode() == "304"
    assert not alone.revisit and read_payload(tmp_path / "fresh", alone) == b""

    records = warcio_index(path)
    requests = {r["warc-concurrent-to"] for r in records if r["warc-type"] == "request"}
    assert requests == {pointer.record_id for pointer in [*expected, not_modified]}
    # The rendered DOM is flagged in its own record and explained by a metadata record.
    warc, _ = read_record_headers(tmp_path, rendered.file, rendered.offset)
    assert warc.get_header("Nianbao-Rendered-By") == "chromium 156 via playwright"
    [metadata] = [r for r in records if r["warc-type"] == "metadata"
                  and r["warc-concurrent-to"] != not_modified.record_id]
    assert metadata["warc-concurrent-to"] == rendered.record_id
    assert metadata["warc-target-uri"] == "https://www.example.gov.cn/spa/ndbg"


def test_identical_payload_becomes_a_revisit(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as archive:
        first = write(archive, "http://www.example.gov.cn/a.pdf", PDF_LIKE)
        again = write(archive, "http://www.example.gov.cn/a.pdf", PDF_LIKE)
        elsewhere = write(archive, "http://mirror.example.gov.cn/b.pdf", PDF_LIKE)
        error_page = write(archive, "http://www.example.gov.cn/c", PDF_LIKE, status=404)
        rendered = write(archive, "http://www.example.gov.cn/d", PDF_LIKE, rendered_by="chromium")
    for revisit in (again, elsewhere):
        assert revisit.revisit and revisit.refers_to == (first.file, first.offset)
        assert revisit.payload_digest == first.payload_digest
        assert revisit.sha256 == first.sha256
        assert revisit.length < 1000
        assert read_payload(tmp_path, revisit) == PDF_LIKE
    assert not error_page.revisit and not rendered.revisit

    original, _ = read_record_headers(tmp_path, first.file, first.offset)
    warc, http = read_record_headers(tmp_path, elsewhere.file, elsewhere.offset)
    assert warc.get_header("WARC-Type") == "revisit"
    assert warc.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert warc.get_header("WARC-Refers-To") == first.record_id
    assert warc.get_header("WARC-Refers-To-Target-URI") == "http://www.example.gov.cn/a.pdf"
    assert warc.get_header("WARC-Refers-To-Date") == original.get_header("WARC-Date")
    assert warc.get_header("WARC-Payload-Digest") == first.payload_digest
    assert http.get_header("Content-Length") == str(len(PDF_LIKE))
    assert_archive_consistent(tmp_path)


def test_revisit_works_across_runs(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as run1:
        original = write(run1, "http://www.example.gov.cn/ndbg.html", HTML_GBK)
    stored = json.dumps(original.as_dict())  # what the database keeps between runs
    with WarcArchive(tmp_path, 50_000_000) as run2:
        revisit = write(run2, "http://www.example.gov.cn/ndbg.html", HTML_GBK)
        fresh = write(run2, "http://www.example.gov.cn/other.html", HTML_UTF8)
    assert revisit.revisit and revisit.refers_to == (original.file, original.offset)
    assert revisit.file != original.file and not fresh.revisit
    reloaded = WarcPointer.from_dict(json.loads(json.dumps(revisit.as_dict())))
    assert reloaded == revisit
    assert read_payload(tmp_path, reloaded) == HTML_GBK
    assert read_payload(tmp_path, WarcPointer.from_dict(json.loads(stored))) == HTML_GBK
    assert len(warc_files(tmp_path)) == 2
    assert_archive_consistent(tmp_path)


def test_rollover_starts_a_new_file_past_max_bytes(tmp_path: Path) -> None:
    rng = random.Random(7)
    bodies = [rng.randbytes(6000) for _ in range(10)]  # incompressible
    with WarcArchive(tmp_path, 20_000) as archive:
        pointers = [
            write(archive, f"http://www.example.gov.cn/{i}.pdf", b) for i, b in enumerate(bodies)
        ]
    files = warc_files(tmp_path)
    assert len(files) >= 3 and len({p.file for p in pointers}) == len(files)
    assert all(path.stat().st_size <= 20_000 for path in files)
    for pointer, body in zip(pointers, bodies, strict=True):
        assert read_payload(tmp_path, pointer) == body
    assert_archive_consistent(tmp_path)


def test_a_pointer_into_an_open_file_stays_valid_after_close(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path, 50_000_000)
    pointer = write(archive, "http://www.example.gov.cn/", HTML_UTF8)
    assert (tmp_path / (pointer.file + ".open")).exists()
    assert not (tmp_path / pointer.file).exists()
    assert read_payload(tmp_path, pointer) == HTML_UTF8
    archive.close()
    assert (tmp_path / pointer.file).exists()
    assert read_payload(tmp_path, pointer) == HTML_UTF8


def test_a_live_writer_is_left_alone_by_a_second_run(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as first:
        a = write(first, "http://www.example.gov.cn/a", HTML_UTF8)
        with WarcArchive(tmp_path, 50_000_000) as second:
            assert second.recovered == []
            b = write(second, "http://www.example.gov.cn/b", HTML_GBK)
        assert (tmp_path / (a.file + ".open")).exists()
        c = write(first, "http://www.example.gov.cn/c", PDF_LIKE)
    assert a.file == c.file != b.file
    for pointer, body in ((a, HTML_UTF8), (b, HTML_GBK), (c, PDF_LIKE)):
        assert read_payload(tmp_path, pointer) == body
    assert_archive_consistent(tmp_path)


# A crawler run in a subprocess: writes `count` exchanges of `size` random bytes (seeded by
# their number), prints each pointer as a JSON line, then dies without closing anything. With
# a fourth argument N it SIGKILLs itself halfway through its Nth write to the WARC file (the
# warcinfo record is write 1).
WRITER = """
import json, os, random, signal, sys
from datetime import UTC, datetime
from nianbao.archive import WarcArchive, files
directory, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if len(sys.argv) > 4:
    die_at, writes, write_all = int(sys.argv[4]), [], files.write_all
    def write_half_then_die(fd, data):
        writes.append(len(data))
        if len(writes) == die_at:
            write_all(fd, data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        write_all(fd, data)
    files.write_all = write_half_then_die
archive = WarcArchive(directory, 1 << 40)
for i in range(count):
    body = random.Random(i).randbytes(size)
    pointer = archive.write_exchange(
        url=f"http://www.example.gov.cn/{i}.pdf", method="GET", request_headers=[],
        status=200, reason="OK", response_headers=[("Content-Type", "application/pdf")],
        body=body, fetched_at=datetime.now(UTC))
    print(json.dumps(pointer.as_dict()), flush=True)
os._exit(0)
"""


def start_writer(directory: Path, *args: int) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


@pytest.mark.parametrize("how", ["killed_by_parent", "killed_halfway_through_a_write"])
def test_sigkill_mid_run_is_recovered(tmp_path: Path, how: str) -> None:
    size = 1_500_000
    if how == "killed_by_parent":
        writer = start_writer(tmp_path, 1000, size)
        assert writer.stdout is not None
        written = [WarcPointer.from_dict(json.loads(writer.stdout.readline())) for _ in range(4)]
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    else:
        writer = start_writer(tmp_path, 1000, size, 5)  # dies inside the 4th exchange
        out, _ = writer.communicate(timeout=60)
        written = [WarcPointer.from_dict(json.loads(line)) for line in out.splitlines()]
        assert len(written) == 3
    assert writer.returncode == -signal.SIGKILL
    [left_open] = tmp_path.glob("*.warc.gz.open")
    size_at_death = left_open.stat().st_size

    archive = WarcArchive(tmp_path, 1 << 30)
    assert archive.recovered == [written[0].file]
    archive.close()
    for i, pointer in enumerate(written):
        assert read_payload(tmp_path, pointer) == random.Random(i).randbytes(size)
    assert_archive_consistent(tmp_path)
    assert len(index_lines(tmp_path)) >= len(written)
    if how == "killed_halfway_through_a_write":
        assert (tmp_path / written[0].file).stat().st_size < size_at_death
        assert len(index_lines(tmp_path)) == len(written)


@pytest.mark.parametrize("damage", ["cut_in_last_record", "cut_in_gzip_trailer", "garbage_tail"])
def test_a_file_cut_short_is_truncated_to_its_complete_records(tmp_path: Path, damage: str) -> None:
    writer = start_writer(tmp_path, 3, 50_000)
    out, _ = writer.communicate(timeout=60)
    pointers = [WarcPointer.from_dict(json.loads(line)) for line in out.splitlines()]
    [path] = tmp_path.glob("*.warc.gz.open")
    size = path.stat().st_size
    last = pointers[-1]
    with path.open("r+b") as f:
        if damage == "cut_in_last_record":
            f.truncate(last.offset + last.length // 2)
        elif damage == "cut_in_gzip_trailer":
            f.truncate(size - 3)  # the request record's trailer: the response survives
        else:
            f.seek(0, os.SEEK_END)
            f.write(b"\x1f\x8b\x08\x00" + os.urandom(200))

    with WarcArchive(tmp_path, 1 << 30) as archive:
        assert archive.recovered == [pointers[0].file]
        # The payload lost to the cut is archived again in full, not as a revisit of nothing.
        again = write(
            archive, "http://www.example.gov.cn/2.pdf", random.Random(2).randbytes(50_000)
        )
    assert_archive_consistent(tmp_path)
    survivors = pointers if damage != "cut_in_last_record" else pointers[:-1]
    for i, pointer in enumerate(survivors):
        assert read_payload(tmp_path, pointer) == random.Random(i).randbytes(50_000)
    assert again.revisit == (damage != "cut_in_last_record")
    indexed = {(e.filename, e.offset) for e in index_lines(tmp_path)}
    assert ((last.file, last.offset) in indexed) == (damage != "cut_in_last_record")
    if damage == "cut_in_last_record":
        with pytest.raises(ArchiveIntegrityError, match="no record"):
            read_payload(tmp_path, last)


def test_a_failed_write_leaves_the_file_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nianbao.archive import files

    real_write_all = files.write_all

    def disk_full(fd: int, data: bytes) -> None:
        real_write_all(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    with WarcArchive(tmp_path, 50_000_000) as archive_:
        before = write(archive_, "http://www.example.gov.cn/a", HTML_UTF8)
        monkeypatch.setattr(files, "write_all", disk_full)
        with pytest.raises(OSError, match="No space"):
            write(archive_, "http://www.example.gov.cn/b", PDF_LIKE)
        monkeypatch.setattr(files, "write_all", real_write_all)
        after = write(archive_, "http://www.example.gov.cn/c", PDF_LIKE)
    assert read_payload(tmp_path, before) == HTML_UTF8
    assert read_payload(tmp_path, after) == PDF_LIKE and not after.revisit
    assert_archive_consistent(tmp_path)


def test_damaged_or_mismatched_records_are_refused(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as archive:
        pointer = write(archive, "http://www.example.gov.cn/a.pdf", PDF_LIKE)
    path = tmp_path / pointer.file
    # A pointer that lands on another record (here: the request) is refused.
    wrong = WarcPointer.from_dict(pointer.as_dict() | {"offset": pointer.offset + pointer.length})
    with pytest.raises(ArchiveIntegrityError, match="another record"):
        read_payload(tmp_path, wrong)
    # So is a record whose bytes changed on disk.
    data = bytearray(path.read_bytes())
    data[pointer.offset + pointer.length - 100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveIntegrityError):
        read_payload(tmp_path, pointer)


def test_recovery_indexes_records_written_just_before_the_kill(tmp_path: Path) -> None:
    writer = start_writer(tmp_path, 2, 10_000)
    out, _ = writer.communicate(timeout=60)
    last = WarcPointer.from_dict(json.loads(out.splitlines()[-1]))
    index = tmp_path / INDEX_NAME
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    index.write_text(lines[0] + lines[1][:40], encoding="utf-8")  # lost and torn index lines

    with WarcArchive(tmp_path, 1 << 30) as archive:
        revisit = write(
            archive, "http://www.example.gov.cn/x.pdf", random.Random(1).randbytes(10_000)
        )
    assert revisit.refers_to == (last.file, last.offset)
    assert_archive_consistent(tmp_path)


def test_index_lines_are_pywb_cdxj(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as archive:
        page = write(archive, "https://www.Example.gov.cn:443/zwgk/NDBG/?b=2&a=1", HTML_UTF8)
        revisit = write(archive, "http://example.gov.cn/copy", HTML_UTF8)
    raw = (tmp_path / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert raw == sorted(raw)  # sorted at close, as pywb's indexer sorts
    second, first = (line.split(" ", 2) for line in raw)
    assert first[0] == "cn,gov,example)/zwgk/ndbg?a=1&b=2"
    assert first[1] == "20260301083015"
    assert json.loads(first[2]) == {
        "url": "https://www.Example.gov.cn:443/zwgk/NDBG/?b=2&a=1",
        "mime": "text/html",
        "status": "200",
        "digest": page.payload_digest.removeprefix("sha1:"),
        "length": str(page.length),
        "offset": str(page.offset),
        "filename": page.file,
    }
    assert list(json.loads(first[2])) == [
        "url",
        "mime",
        "status",
        "digest",
        "length",
        "offset",
        "filename",
    ]
    # pywb writes revisits with the warc/revisit mime and no status.
    assert second[0] == "cn,gov,example)/copy"
    fields = json.loads(second[2])
    assert fields["mime"] == "warc/revisit" and "status" not in fields
    assert fields["offset"] == str(revisit.offset)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        # From the surt package's own tests (what pywb computes at lookup time).
        ("http://www.archive.org/", "org,archive)/"),
        ("http://archive.org/goo/?", "org,archive)/goo"),
        ("http://archive.org/goo/?a=2&b&a=1", "org,archive)/goo?a=1&a=2&b"),
        ("http://host/%25%32%35", "host)/%25"),
        ("http://www.google.com.../", "com,google)/"),
        ("http://host.com//twoslashes?more//slashes", "com,host)/twoslashes?more//slashes"),
        ("http://evil.com/foo?bar;", "com,evil)/foo?bar;"),
        ("http://www2.www2foo.com/x", "com,www2foo)/x"),
        # Checked against surt 0.3.1.
        ("http://www.Example.com:8080/a/../B//c/?b=2&a=1#x", "com,example:8080)/b/c?a=1&b=2"),
        ("https://www.gov.cn:443/zhengce/content_1.htm", "cn,gov)/zhengce/content_1.htm"),
        ("https://b\u00fccher.ch:8080/", "ch,xn--bcher-kva:8080)/"),
        ("http://1.2.3.4/x", "4,3,2,1)/x"),
        (
            "http://www.example.com/%E4%B8%AD%E6%96%87/报告.pdf?q=中文&A=%D6%D0",
            "com,example)/%e4%b8%ad%e6%96%87/%e6%8a%a5%e5%91%8a.pdf?a=%d6%d0&q=%e4%b8%ad%e6%96%87",
        ),
    ],
)
def test_surt_keys_match_pywb(url: str, key: str) -> None:
    assert surt(url) == key


def test_a_naive_fetch_time_is_refused(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, 50_000_000) as archive, pytest.raises(ValueError, match="aware"):
        write(archive, "http://www.example.gov.cn/", HTML_UTF8, fetched_at=datetime(2026, 3, 1))


def test_an_exchange_no_row_points_to_waits_for_the_next_fsync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 304 (``sync=False``) costs no fsync of its own; the next synced record or the close
    makes it durable, and it reads back like any other."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    archive = WarcArchive(tmp_path, 50_000_000)
    write(archive, "http://www.example.gov.cn/a.html", HTML_UTF8)
    before = len(synced)
    not_modified = write(archive, "http://www.example.gov.cn/a.html", b"", status=304,
                         reason="Not Modified", sync=False)
    assert len(synced) == before
    write(archive, "http://www.example.gov.cn/b.html", HTML_GBK)
    assert len(synced) > before
    last = write(archive, "http://www.example.gov.cn/b.html", b"", status=304,
                 reason="Not Modified", sync=False)
    before = len(synced)
    archive.close()
    assert len(synced) > before  # the close fsyncs what is still unsynced
    assert read_payload(tmp_path, not_modified) == HTML_UTF8
    assert read_payload(tmp_path, last) == HTML_GBK
    assert_archive_consistent(tmp_path)


def test_a_wacz_holds_the_warcs_the_sorted_index_and_pages_with_their_hashes(
        tmp_path: Path) -> None:
    import hashlib
    import zipfile

    from nianbao.archive.wacz import write_wacz

    directory = tmp_path / "archive"
    with WarcArchive(directory, 50_000_000) as archive:
        write(archive, "http://www.example.gov.cn/b.html", HTML_UTF8)
        write(archive, "http://www.example.gov.cn/a.html", HTML_GBK)
        write(archive, "http://www.example.gov.cn/b.html", b"", status=304,
              reason="Not Modified")
    counts = write_wacz(directory, tmp_path / "c.wacz", title="测试")
    assert counts == {"warcs": 1, "index_lines": 3, "pages": 2}
    with zipfile.ZipFile(tmp_path / "c.wacz") as wacz:
        package = json.loads(wacz.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["title"] == "测试"
        for resource in package["resources"]:
            blob = wacz.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(blob).hexdigest()
            assert resource["bytes"] == len(blob)
        [warc] = [n for n in wacz.namelist() if n.startswith("archive/")]
        assert wacz.getinfo(warc).compress_type == zipfile.ZIP_STORED  # seekable in place
        index = wacz.read("indexes/index.cdxj").decode().splitlines(keepends=True)
        assert index == (directory / INDEX_NAME).read_text(encoding="utf-8").splitlines(
            keepends=True) == sorted(index)
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert {p["url"] for p in pages[1:]} == {"http://www.example.gov.cn/a.html",
                                                 "http://www.example.gov.cn/b.html"}


def test_records_written_unsynced_are_made_durable_in_one_fsync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crawl writes without an fsync per record and calls ``make_durable`` before it
    stores a row pointing to one: one fsync covers every record written since the last, a
    second call has nothing left to do, and a closed file was made durable by its close."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    archive = WarcArchive(tmp_path, 50_000_000)
    pointers = [write(archive, f"http://www.example.gov.cn/{n}.html", HTML_UTF8 + bytes([n]),
                      sync=False) for n in range(5)]
    before = len(synced)
    assert archive.unsynced(pointers[0].file)
    archive.make_durable(pointers[0].file)
    assert len(synced) == before + 1
    assert not archive.unsynced(pointers[0].file)
    archive.make_durable(pointers[-1].file)
    assert len(synced) == before + 1
    archive.close()
    before = len(synced)
    archive.make_durable(pointers[0].file)
    assert len(synced) == before and not archive.unsynced(pointers[0].file)
    for n, pointer in enumerate(pointers):
        assert read_payload(tmp_path, pointer) == HTML_UTF8 + bytes([n])
    assert_archive_consistent(tmp_path)


def test_a_revisit_citing_another_writers_open_file_makes_that_record_durable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers share the directory; the first writes without an fsync (as a crawl does
    until a row points to its record). A revisit the second writes cites that record, so the
    first writer's open file is fsynced before the citation exists."""
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (
        synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1])
    first = WarcArchive(tmp_path, 50_000_000)
    original = write(first, "http://www.example.gov.cn/a.html", HTML_UTF8, sync=False)
    second = WarcArchive(tmp_path, 50_000_000)
    synced.clear()
    copy = write(second, "http://www.example.gov.cn/b.html", HTML_UTF8, sync=False)
    assert copy.revisit and copy.refers_to == (original.file, original.offset)
    assert str(tmp_path / (original.file + OPEN_SUFFIX)) in synced
    second.close()
    first.close()
    assert read_payload(tmp_path, copy) == HTML_UTF8
    assert_archive_consistent(tmp_path)
