"""Parse each document in its own subprocess, under a time and memory limit.

A hostile file (a zip bomb, an entity bomb, a PDF that makes a library loop) must cost one
document, not the run. The child process gets an address-space limit; the parent kills it at the
deadline and reports ``timeout`` or ``memory`` as the reason. Converters started by the child
(LibreOffice) inherit the limit.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import traceback
from multiprocessing.connection import Connection

from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError


def _child(conn: Connection, data: bytes, source: str, content_type: str | None,
           dates: list[DateEvidence], memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        from nianbao.parsers.pipeline import parse_bytes

        conn.send(("ok", parse_bytes(data, source, content_type, dates)))
    except ParseError as exc:
        conn.send(("error", (exc.reason, exc.message)))
    except MemoryError:
        conn.send(("error", ("memory", "the document needs more memory than the limit allows")))
    except RecursionError:
        conn.send(("error", ("unreadable", "the document is nested too deeply to read")))
    except Exception as exc:  # a reader bug must not take the run down; say what happened
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        conn.send(("error", ("unreadable", f"{type(exc).__name__} in {where}: {exc}")))
    finally:
        conn.close()


def parse_isolated(
    data: bytes,
    source: str,
    *,
    timeout: float,
    memory_mb: int,
    content_type: str | None = None,
    dates: list[DateEvidence] | None = None,
) -> dict:
    """Parse in a forked child; raise :class:`ParseError` with the reason when it fails."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(child, data, source, content_type, dates or [], memory_mb * 2**20),
        daemon=True,
    )
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise ParseError("timeout", f"parsing took longer than {timeout:g} s")
        try:
            status, payload = parent.recv()
        except EOFError:
            proc.join(5)
            raise ParseError(
                "memory" if proc.exitcode in (-9, -6) else "unreadable",
                f"the parser process died (exit code {proc.exitcode})",
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if status == "error":
        raise ParseError(*payload)
    return payload
