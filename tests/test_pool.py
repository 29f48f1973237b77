"""The parse worker pool: workers reused for many documents, and each document still isolated
(time and memory limits, a crash costs one document, recycling, a bound on parses at once)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nianbao.parsers.errors import ParseError
from nianbao.parsers.pipeline import parse_bytes
from nianbao.parsers.pool import ParsePool, PoolLimits, address_space_limit
from tests.conftest import FIXTURES, ROOT, require_tool, seed_ids
from tests.mockserver import render


def limits(**overrides) -> PoolLimits:
    values = dict(workers=1, timeout=60.0, memory_mb=4096, max_documents=1000, recycle_mb=4096)
    return PoolLimits(**{**values, **overrides})


def html_pages() -> list[bytes]:
    return [render.render_html(i, style=s).encode() for i in seed_ids() for s in ("trs", "word")]


def scan_png(tmp_path: Path) -> bytes:
    """A scanned page: OCR takes seconds, far more than the short limits below."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1600, 1200), "white")
    ImageDraw.Draw(img).text((50, 50), "2023年政府信息公开工作年度报告", fill="black")
    img.save(tmp_path / "scan.png")
    return (tmp_path / "scan.png").read_bytes()


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_records_are_those_of_an_in_process_parse_and_workers_are_reused() -> None:
    pages = html_pages()
    with ParsePool(limits(workers=2)) as pool:
        futures = [pool.submit(page, f"page-{n}.html") for n, page in enumerate(pages)]
        records = [f.result(timeout=120) for f in futures]
        pids = pool.worker_pids()
    assert records == [parse_bytes(page, f"page-{n}.html") for n, page in enumerate(pages)]
    assert all(r["format"] == "2021" for r in records)
    assert 1 <= len(pids) <= 2  # ten documents, at most two workers


def test_a_document_over_its_time_is_stopped_and_its_worker_replaced(tmp_path: Path) -> None:
    page = html_pages()[0]
    with ParsePool(limits(timeout=0.8)) as pool:
        pool.parse(page, "warm-up.html")  # the worker exists and has the parser imported
        (before,) = pool.worker_pids()
        started = time.monotonic()
        with pytest.raises(ParseError) as failed:
            pool.parse(scan_png(tmp_path), "scan.png")
        assert failed.value.reason == "timeout"
        assert time.monotonic() - started < 5
        assert not alive(before)
        assert pool.parse(page, "after.html")["format"] == "2021"
        assert pool.worker_pids() and before not in pool.worker_pids()


def test_a_converter_dies_with_the_worker_that_overran(tmp_path: Path) -> None:
    """LibreOffice, started by a worker for an .rtf, must not outlive the worker stopped at
    the parse deadline (it runs in its own session, out of reach of the worker's group).

    The deadline must fall while LibreOffice runs: a seed's text a hundred times over takes it
    ~1.6 s to convert on a fast, quiet machine (~0.8 s of that its start-up), twice the
    deadline of 0.8 s (with one seed's text and a 1 s deadline such a machine finished the
    conversion in time, and the test failed for want of an overrun)."""
    require_tool("soffice", "the .rtf is converted by LibreOffice")
    text = (FIXTURES / "seeds" / f"{seed_ids()[0]}.txt").read_text(encoding="utf-8") * 100
    body = "".join(f"\\u{ord(c) if ord(c) < 32768 else ord(c) - 65536}?" for c in text)
    rtf = ("{\\rtf1\\ansi\\deff0 " + body.replace("\\u10?", "\\par ") + "}").encode("ascii")
    seen: set[int] = set()
    with ParsePool(limits(timeout=0.8)) as pool:
        pool.parse(b"warm-up", "warm-up.txt")
        (worker,) = pool.worker_pids()
        watching = threading.Event()

        def watch() -> None:
            while not watching.is_set():
                seen.update(children_of(worker))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with pytest.raises(ParseError) as failed:
                pool.parse(rtf, "report.rtf")
        finally:
            watching.set()
            watcher.join()
    assert failed.value.reason == "timeout"
    assert seen, "LibreOffice was never started: the test proves nothing"
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in seen)


def test_a_memory_hungry_document_fails_with_memory_and_costs_only_itself() -> None:
    page = html_pages()[0]
    with ParsePool(limits()) as pool:
        pool.parse(page, "warm-up.html")
        (pid,) = pool.worker_pids()
        status = Path(f"/proc/{pid}/status").read_text()
        baseline_mb = int(next(ln for ln in status.splitlines()
                                if ln.startswith("VmPeak:")).split()[1]) // 1024
    # 14 MB of table cells: more than 1 GB to read without a limit.
    hungry = (b"<html><body><table>" + b"<tr><td>1</td><td>2</td></tr>" * 500_000
              + b"</table></body></html>")
    with ParsePool(limits(memory_mb=baseline_mb + 200)) as pool:
        pool.parse(page, "warm-up.html")
        (before,) = pool.worker_pids()
        with pytest.raises(ParseError) as failed:
            pool.parse(hungry, "hungry.html")
        assert failed.value.reason == "memory", failed.value
        assert f"{baseline_mb + 200} MiB" in failed.value.message
        assert pool.parse(page, "after.html")["format"] == "2021"
        assert before not in pool.worker_pids()


def test_a_crashed_worker_is_the_documents_failure_and_is_replaced(tmp_path: Path) -> None:
    page = html_pages()[0]
    with ParsePool(limits()) as pool:
        pool.parse(page, "warm-up.html")
        (pid,) = pool.worker_pids()
        crash = threading.Timer(0.5, os.kill, (pid, signal.SIGSEGV))
        crash.start()
        with pytest.raises(ParseError) as failed:
            pool.parse(scan_png(tmp_path), "scan.png")
        crash.join()
        assert failed.value.reason == "unreadable"
        assert "SIGSEGV" in failed.value.message
        assert pool.parse(page, "after.html")["format"] == "2021"
        assert pid not in pool.worker_pids()


def test_workers_are_recycled_by_count() -> None:
    page = html_pages()[0]
    with ParsePool(limits(max_documents=2)) as pool:
        for n in range(5):
            assert pool.parse(page, f"{n}.html")["format"] == "2021"
        assert pool.workers_started == 3  # documents 1-2, 3-4, 5


def test_workers_are_recycled_by_memory() -> None:
    page = html_pages()[0]
    with ParsePool(limits(recycle_mb=1)) as pool:  # every worker is over 1 MiB after a parse
        for n in range(3):
            assert pool.parse(page, f"{n}.html")["format"] == "2021"
            assert pool.worker_pids() == set()  # retired at once
        assert pool.workers_started == 3
    with ParsePool(limits()) as pool:
        for n in range(3):
            pool.parse(page, f"{n}.html")
        assert pool.workers_started == 1


def test_workers_started_ahead_are_the_ones_that_parse() -> None:
    """``start`` forks the workers before any document; the documents then go to them."""
    page = html_pages()[0]
    with ParsePool(limits(workers=2)) as pool:
        pool.start()
        deadline = time.monotonic() + 60
        while len(pool.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = pool.worker_pids()
        assert len(started) == 2 and pool.workers_started == 2
        records = [f.result(timeout=120) for f in [pool.submit(page, f"{n}.html")
                                                    for n in range(4)]]
        assert pool.worker_pids() == started and pool.workers_started == 2
    assert all(r == parse_bytes(page, "0.html") | {"source": r["source"]} for r in records)


def test_workers_run_at_the_niceness_the_settings_give() -> None:
    """Workers (and so their converters) yield the CPU to the crawl's own process: their
    niceness is the caller's plus ``parse.worker_niceness``; the shipped settings lower it."""
    from nianbao.settings import settings

    own = os.getpriority(os.PRIO_PROCESS, 0)
    for niceness in (0, 7):
        with ParsePool(limits(niceness=niceness)) as pool:
            pool.submit(html_pages()[0], "0.html").result(timeout=120)
            (pid,) = pool.worker_pids()
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, own + niceness)
    assert PoolLimits.from_settings(settings()["parse"]).niceness > 0
    for wrong in (-1, 20):
        with pytest.raises(ValueError, match=r"parse\.worker_niceness must be 0 to 19"):
            limits(niceness=wrong)


def test_close_lets_the_workers_being_started_start_then_stops_them() -> None:
    """``close`` right after ``start`` (``nianbao parse`` of a missing file ends that soon)
    waits for the workers being started, then stops them: a program that ended while the
    forkserver was still handing one its task left it to print multiprocessing's
    ``EOFError`` traceback on the user's terminal."""
    for _ in range(3):
        pool = ParsePool(limits(workers=2))
        pool.start()
        pool.close()
        starting = [t for t in threading.enumerate() if t.name.startswith("nianbao-parse-start")]
        assert starting == [] and pool.worker_pids() == set()


def test_no_more_documents_parse_at_once_than_there_are_workers() -> None:
    pages = html_pages()
    most = 0
    done = threading.Event()
    with ParsePool(limits(workers=2)) as pool:

        def sample() -> None:
            nonlocal most
            while not done.is_set():
                most = max(most, len(pool.worker_pids()))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        results: list[dict] = []
        callers = [threading.Thread(target=lambda p=p: results.append(pool.parse(p, "x.html")))
                   for p in pages]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        done.set()
        sampler.join()
    assert len(results) == len(pages) and all(r["format"] == "2021" for r in results)
    assert most == 2


def test_the_address_space_limit_never_exceeds_the_hard_limit() -> None:
    code = (
        "import resource\n"
        "from nianbao.parsers.pool import address_space_limit\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n"
        "print(*address_space_limit(4 * 2**30), *address_space_limit(2**30))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert [int(v) for v in out] == [3 * 2**30, 3 * 2**30, 2**30, 3 * 2**30]
    _, hard = address_space_limit(2**40)
    assert hard == resource.getrlimit(resource.RLIMIT_AS)[1]


def test_parse_works_under_a_lower_ulimit() -> None:
    """``ulimit -v 4000000`` (about 3.8 GiB, below the 4 GiB of the settings): a valid report
    parses, exit 0, no traceback."""
    seed = next((FIXTURES / "seeds").glob("002_*.txt"))

    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4_000_000 * 1024, 4_000_000 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "nianbao.commands.cli", "parse", str(seed)],
        capture_output=True, text=True, timeout=120, preexec_fn=lower_limit, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "曲沃县人民政府" in done.stdout


def test_parse_of_many_files_keeps_their_order_and_each_failure(tmp_path: Path) -> None:
    """Inputs are parsed two at a time in the pool; records come out in input order, each bad
    input has its line, and the good ones after it are still parsed."""
    paths = []
    for n, seed in enumerate(seed_ids()):
        path = tmp_path / f"{n}-{seed}.html"
        path.write_text(render.render_html(seed, style="word"), encoding="utf-8")
        paths.append(str(path))
    (tmp_path / "empty.html").write_bytes(b"")
    paths.insert(2, str(tmp_path / "empty.html"))
    done = subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "parse", "--json",
                           *paths], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == f"nianbao: {paths[2]}: unreadable: the file is empty"
    sources = [json.loads(line)["source"] for line in done.stdout.splitlines()]
    assert sources == [p for p in paths if not p.endswith("empty.html")]
