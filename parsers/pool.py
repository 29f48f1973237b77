"""Parse documents in a pool of worker processes: the parser imported once, each document
still isolated.

Forking a fresh child per document cost the parser's import every time (about 300 ms, most of
it trafilatura's) for about 10 ms of parsing. Here, workers are forked from a multiprocessing
*forkserver* that has the readers imported, and each worker parses many documents, one at a
time. What the per-document child gave is kept:

- **time**: the caller waits at most ``timeout`` seconds for a document; then the worker is
  stopped (SIGTERM, so that a LibreOffice conversion it started is cleaned up, then SIGKILL),
  the document fails with ``timeout`` and the next document gets a fresh worker;
- **memory per document**: each worker runs under an address-space limit (``memory_mb``, never
  more than the hard limit the user already set with ``ulimit -v``); a document that needs more
  fails with ``memory`` and its worker is replaced;
- **crashes**: a worker that dies (a segfault in a C library, the kernel's OOM killer) is the
  document's failure, with the signal as the reason, and is replaced;
- **memory in total**: at most ``workers`` documents parse at once, whatever the number of
  callers; the crawl and ``nianbao parse`` share this bound;
- **no slow growth**: a worker is replaced after ``max_documents`` documents, or as soon as its
  peak RSS passes ``recycle_mb`` (heaps fragment, caches grow).

The forkserver imports the main module of the program that starts it once (as every
multiprocessing program but a fork-only one does): a script that uses the pool keeps its work
under ``if __name__ == "__main__":``.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one hung task (a dead worker breaks the
whole executor), and the libraries that can (pebble, loky) neither apply a memory limit per
worker nor recycle by memory: the pool is small enough to own.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import resource
import signal
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection

from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError
from nianbao.parsers.weight import HeavyDocument, HeavyRules, heavy_reason

# Imported once by the forkserver, so that every worker starts with them: what HTML pages, most
# documents, need (and the DOCX reader, which costs nothing more). The first worker waits for
# these imports, so nothing else is here: the PDF and OCR readers (pdfplumber, pypdfium2:
# +0.1 s; OCR's numpy and onnxruntime: +0.3 s) and the legacy converter are imported by a
# worker when it first meets such a file, once in its life.
PRELOAD = (
    "nianbao.parsers.pipeline",
    "nianbao.parsers.readers.html",
    "nianbao.parsers.readers.docx",
    "trafilatura",  # imported by the HTML reader at its first page
)
STOP_GRACE_SECONDS = 1.0  # between SIGTERM and SIGKILL of a worker that overran its time


@dataclass(frozen=True)
class PoolLimits:
    """The limits of ``config/settings.yaml``'s ``parse`` section that the pool enforces."""

    workers: int
    timeout: float
    memory_mb: int
    max_documents: int
    recycle_mb: int
    niceness: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.niceness <= 19:
            raise ValueError(f"parse.worker_niceness must be 0 to 19, not {self.niceness}")

    @classmethod
    def from_settings(cls, parse: dict) -> PoolLimits:
        return cls(
            workers=max(1, int(parse["workers"])),
            timeout=float(parse["timeout_seconds"]),
            memory_mb=int(parse["memory_mb"]),
            max_documents=max(1, int(parse["worker_max_documents"])),
            recycle_mb=int(parse["worker_recycle_mb"]),
            niceness=int(parse["worker_niceness"]),
        )


def _forkserver_context() -> mp.context.BaseContext:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start_forkserver() -> None:
    """Start the forkserver, and so its imports, now and in the background: a program that
    will parse calls this first thing, and the imports overlap the rest of its start-up (the
    pool's limits, its inputs). A failure here is left to the pool's first worker to report."""
    from multiprocessing import forkserver

    _forkserver_context()

    def start() -> None:
        with contextlib.suppress(Exception):
            forkserver.ensure_running()

    threading.Thread(target=start, name="nianbao-forkserver", daemon=True).start()


def address_space_limit(wanted: int) -> tuple[int, int]:
    """The (soft, hard) address-space limit to set for ``wanted`` bytes: never above the hard
    limit nor the soft limit already in force (``ulimit -v``), which only root could raise and
    which the user set on purpose. The hard limit is left as it is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = wanted
    for current in (soft, hard):
        if current != resource.RLIM_INFINITY:
            limit = min(limit, current)
    return limit, hard


class _Stopped(BaseException):
    """SIGTERM in a worker: unwinds the parse so that ``finally`` blocks (temporary
    directories, a converter's process group) run before the worker exits."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def _parse_job(parse_bytes, data: bytes, source: str, content_type: str | None,
               dates: list[DateEvidence], heavy: HeavyRules | None = None) -> tuple[str, object]:
    try:
        if heavy is not None and (reason := heavy_reason(data, heavy)) is not None:
            return "heavy", reason  # weighed here, not in the caller: it opens the document
        return "ok", parse_bytes(data, source, content_type, dates)
    except ParseError as exc:
        return "error", (exc.reason, exc.message)
    except MemoryError:
        return "error", ("memory", "the document needs more memory than the limit allows")
    except RecursionError:
        return "error", ("unreadable", "the document is nested too deeply to read")
    except Exception as exc:  # a reader bug costs this document, with where it happened
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        return "error", ("unreadable", f"{type(exc).__name__} in {where}: {exc}")


def _peak_address_space() -> int | None:
    """The most address space this process ever held (``VmPeak``), in bytes, where /proc says."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class _Budget:
    """A worker's memory: its address-space limit, and when it has had enough.

    C libraries (libxml2 above all) report a failed allocation as a parse error of their own
    ("unknown error", "Memory allocation failed"), not as MemoryError. A failure is taken for
    lack of memory when the worker's peak address space came within ``HEADROOM`` of the limit.
    Since a worker that came that close is replaced right after, the peak always belongs to the
    document just read.
    """

    HEADROOM = 0.125  # of the limit

    def __init__(self, memory_bytes: int, recycle_mb: int):
        soft, hard = address_space_limit(memory_bytes)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        self.limit = soft
        self.recycle_kb = recycle_mb * 1024

    def near_limit(self) -> bool:
        peak = _peak_address_space()
        return peak is not None and peak >= self.limit * (1 - self.HEADROOM)

    def judge(self, status: str, payload: object) -> tuple[str, object, bool]:
        """(status, payload, retire): a failure near the limit becomes ``memory``; a worker
        near its limit or past its RSS budget is retired after this document."""
        near = self.near_limit()
        failed = status == "error"
        if failed and near and payload[0] == "unreadable":
            payload = ("memory", f"the document needs more than the {self.limit // 2**20} MiB "
                       f"a parse may use ({payload[1]})")
        peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        retire = near or peak_rss_kb >= self.recycle_kb or (failed and payload[0] == "memory")
        return status, payload, retire


def _serve(conn: Connection, memory_bytes: int, recycle_mb: int, niceness: int) -> None:
    """A worker's life: under its memory limit, parse one document after another until told
    to stop (``None``), until the parent goes away (EOF) or until it is spent.

    ``niceness`` lowers the worker's CPU priority (and its converters'): on a machine with
    fewer free cores than workers plus one, the crawl's own process (fetching, archiving,
    storing: what paces a crawl) would otherwise get only a share of a core, while parses wait
    in line anyway."""
    os.nice(niceness)
    budget = _Budget(memory_bytes, recycle_mb)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from nianbao.parsers.pipeline import parse_bytes

    try:
        while (job := conn.recv()) is not None:
            try:
                conn.send(budget.judge(*_parse_job(parse_bytes, *job)))
            except (OSError, _Stopped):
                raise
            except Exception as exc:  # e.g. a record that cannot be sent: this document's fault
                conn.send(("error", ("unreadable", f"the parse worker failed: "
                                     f"{type(exc).__name__}: {exc}"), True))
    except (EOFError, OSError, _Stopped):
        pass
    finally:
        conn.close()


class _Worker:
    def __init__(self, ctx: mp.context.BaseContext, limits: PoolLimits):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve,
            args=(child, limits.memory_mb * 2**20, limits.recycle_mb, limits.niceness),
            daemon=True, name="nianbao-parse",
        )
        self.process.start()
        child.close()
        self.pid = self.process.pid
        self.documents = 0
        self._gone = False

    def alive(self) -> bool:
        return not self._gone and self.process.is_alive()

    def exitcode(self) -> int | None:
        self.process.join(STOP_GRACE_SECONDS)
        return self.process.exitcode

    def retire(self) -> None:
        """Ask an idle worker to finish; stop it if it does not."""
        if self._gone:
            return
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(STOP_GRACE_SECONDS)
        self.stop()

    def stop(self) -> None:
        """Stop the worker now: SIGTERM for its cleanup, SIGKILL if that is not enough."""
        if self._gone:
            return
        self._gone = True
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        self.process.close()


def _death_reason(exitcode: int | None) -> ParseError:
    if exitcode is not None and exitcode < 0:
        sig = signal.Signals(-exitcode)
        if sig in (signal.SIGKILL, signal.SIGABRT):  # the OOM killer, a failed C allocation
            return ParseError("memory", f"the parse worker was killed ({sig.name}), most likely "
                              "for lack of memory")
        return ParseError("unreadable", f"the parse worker crashed ({sig.name}) on this document")
    return ParseError("unreadable", f"the parse worker died (exit code {exitcode})")


class ParsePool:
    """At most ``limits.workers`` documents parsed at once, each in a reused worker process.

    ``parse`` blocks and may be called from many threads; ``submit`` runs it on the pool's own
    threads (one per worker) and returns a future, for callers on an event loop.
    """

    def __init__(self, limits: PoolLimits):
        self.limits = limits
        self._ctx = _forkserver_context()
        # One token per worker slot: a live worker, or None for a slot whose worker is to start.
        self._slots: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(limits.workers):
            self._slots.put(None)
        self._busy: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._threads: ThreadPoolExecutor | None = None
        self._starting: list[threading.Thread] = []  # ``start``'s threads, joined by ``close``
        self.workers_started = 0  # replacements included: a crawl's statistics report it

    @classmethod
    def from_settings(cls, parse: dict) -> ParsePool:
        return cls(PoolLimits.from_settings(parse))

    def start(self) -> None:
        """Start every worker now, in the background, instead of at the first documents.

        The first worker waits for the forkserver's imports (about half a second, most of it
        trafilatura's); started early, they run while the caller reads its inputs. A parse
        that comes first simply waits for its worker. The empty slots are taken here, each
        given to its own starting thread: a thread that took whatever slot was on top could
        take a worker another thread had just started, and one worker would be started, not
        two.
        """
        taken: list[_Worker | None] = []
        while True:
            try:
                taken.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for worker in taken:
            if worker is not None:
                self._slots.put(worker)
        for n in range(taken.count(None)):
            thread = threading.Thread(target=self._start_one, name=f"nianbao-parse-start-{n}",
                                      daemon=True)
            self._starting.append(thread)
            thread.start()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse(self, data: bytes, source: str, content_type: str | None = None,
              dates: list[DateEvidence] | None = None, heavy: HeavyRules | None = None) -> dict:
        """The canonical record of one document; :class:`ParseError` with the reason if not.
        With ``heavy``, a document heavy by those rules is not parsed: :class:`HeavyDocument`."""
        worker = self._acquire()
        answered = keep = False
        try:
            worker.conn.send((data, source, content_type, list(dates or []), heavy))
            if not worker.conn.poll(self.limits.timeout):
                raise ParseError("timeout", f"parsing took longer than {self.limits.timeout:g} s")
            status, payload, retire = worker.conn.recv()
            answered = True
            worker.documents += 1
            keep = not retire and worker.documents < self.limits.max_documents
        except (EOFError, OSError):
            if self._closed:
                raise ParseError("worker", "the parse pool was closed") from None
            raise _death_reason(worker.exitcode()) from None
        finally:
            self._release(worker, answered, keep)
        if status == "ok":
            return payload
        if status == "heavy":
            raise HeavyDocument(payload)
        raise ParseError(*payload)

    def submit(self, data: bytes, source: str, content_type: str | None = None,
               dates: list[DateEvidence] | None = None,
               heavy: HeavyRules | None = None) -> Future:
        """``parse`` on one of the pool's threads."""
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.limits.workers, "nianbao-parse")
            return self._threads.submit(self.parse, data, source, content_type, dates, heavy)

    def worker_pids(self) -> set[int]:
        """Process ids of the live workers (to watch their memory, or to test the pool)."""
        with self._lock:
            workers = [*self._busy, *(w for w in list(self._slots.queue) if w is not None)]
        return {w.pid for w in workers if w.alive()}

    def close(self) -> None:
        """Stop every worker; a parse still running fails as its worker goes.

        A worker still being started is let finish starting first, then retired: a program
        that ends while the forkserver is still handing a new worker its task (a command
        whose one input was missing ends that soon) would leave that worker to print an
        ``EOFError`` traceback of multiprocessing's on the user's terminal."""
        with self._lock:
            self._closed = True
            busy = list(self._busy)
            threads, self._threads = self._threads, None
        for thread in self._starting:
            thread.join()
        for worker in busy:
            worker.stop()
        while True:
            try:
                worker = self._slots.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                worker.retire()
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)

    def _acquire(self) -> _Worker:
        if self._closed:
            raise ParseError("worker", "the parse pool is closed")
        return self._ready(self._slots.get())

    def _ready(self, worker: _Worker | None) -> _Worker:
        """The slot's worker, busy now: a fresh one if the slot was empty or its worker died."""
        if worker is None or not worker.alive():
            if worker is not None:
                worker.stop()
            try:
                worker = _Worker(self._ctx, self.limits)
                self.workers_started += 1
            except OSError as exc:
                self._slots.put(None)
                raise ParseError("worker", f"no parse worker could be started: {exc}") from None
        with self._lock:
            self._busy.add(worker)
        return worker

    def _start_one(self) -> None:
        """Fill an empty slot ``start`` took with a live worker."""
        try:
            worker = self._ready(None)
        except ParseError:  # no process could be started: a parse will say so
            return
        self._release(worker, answered=True, keep=True)

    def _release(self, worker: _Worker, answered: bool, keep: bool) -> None:
        """Back to the slots if it may parse again; else retired (idle) or stopped (busy or
        dead), and its slot freed for a fresh worker."""
        with self._lock:
            self._busy.discard(worker)
            closed = self._closed
        if keep and not closed:
            self._slots.put(worker)
            return
        if answered:
            worker.retire()
        else:
            worker.stop()
        if not closed:
            self._slots.put(None)
