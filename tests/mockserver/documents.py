"""The seed reports as the replicas serve them, rendered on demand and revisable.

Rendering is done by the seed renderer (``render``), which fills the report tables openly from
the gold values. A revision re-renders one report with one gold metric changed, as a portal
that silently corrects a published report. DOCX/PDF/DOC files are cached on disk, keyed by
everything that shapes them (renderer source, seed text, gold, metric changes), because PDF
and DOC go through LibreOffice and take seconds; the cache survives between servers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.mockserver import render

FILE_KINDS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "doc": "application/msword",
}
SOFFICE_TARGETS = {"pdf": "pdf", "doc": "doc:MS Word 97"}


def default_cache_dir() -> Path:
    """A per-user folder under the system temp dir, so renderings outlive one server."""
    return Path(tempfile.gettempdir()) / f"nianbao-replicas-{os.getuid()}"


class DocumentStore:
    """Seed reports (with their revisions) as HTML bodies and document files."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file_locks: dict[str, threading.Lock] = {}
        self._changes: dict[str, dict[str, float | int | None]] = {}
        self._revised: dict[str, datetime] = {}

    def gold(self, seed_id: str) -> dict:
        path = render.fixtures_dir() / "gold" / f"{seed_id}.json"
        return json.loads(path.read_text(encoding="utf-8"))

    def revise(self, seed_id: str, key: str, value: float | int | None) -> datetime:
        """Change one metric of a report from now on; returns the revision time (strictly
        later than the previous one, so that Last-Modified always moves)."""
        if key not in self.gold(seed_id)["metrics"]:
            raise KeyError(f"{seed_id} has no metric {key!r}")
        with self._lock:
            now = datetime.now(UTC).replace(microsecond=0)
            previous = self._revised.get(seed_id)
            when = max(now, previous + timedelta(seconds=1)) if previous else now
            self._changes.setdefault(seed_id, {})[key] = value
            self._revised[seed_id] = when
            return when

    def changes(self, seed_id: str) -> dict[str, float | int | None]:
        with self._lock:
            return dict(self._changes.get(seed_id, {}))

    def modified(self, seed_id: str, published: datetime) -> datetime:
        """Last-Modified of the report's documents: its last revision, else publication."""
        with self._lock:
            return self._revised.get(seed_id, published)

    def report(self, seed_id: str, changes: dict | None = None) -> render.Report:
        """The report with its revisions (or with ``changes``, a snapshot of them)."""
        changes = self.changes(seed_id) if changes is None else changes
        metrics = {**self.gold(seed_id)["metrics"], **changes} if changes else None
        return render.load_report(seed_id, metrics)

    def html_body(self, seed_id: str, style: str) -> str:
        return render.report_body(self.report(seed_id), style)

    def file(self, seed_id: str, kind: str) -> bytes:
        """The report as a ``kind`` file (docx, pdf, doc), from the cache or rendered now.
        Concurrent requests for the same file wait for one rendering."""
        changes = self.changes(seed_id)
        path = self.cache_dir / f"{seed_id}-{self._cache_key(seed_id, kind, changes)}.{kind}"
        with self._lock:
            lock = self._file_locks.setdefault(path.name, threading.Lock())
        with lock:
            if not path.exists():
                self._render(self.report(seed_id, changes), kind, path)
            return path.read_bytes()

    def _cache_key(self, seed_id: str, kind: str, changes: dict) -> str:
        fixtures = render.fixtures_dir()
        digest = hashlib.sha256()
        for part in (
            Path(render.__file__).read_bytes(),
            (fixtures / "seeds" / f"{seed_id}.txt").read_bytes(),
            (fixtures / "gold" / f"{seed_id}.json").read_bytes(),
            kind.encode(),
            json.dumps(changes, sort_keys=True).encode(),
        ):
            digest.update(hashlib.sha256(part).digest())
        return digest.hexdigest()[:16]

    def _render(self, report: render.Report, kind: str, dest: Path) -> None:
        """Render into a scratch folder, then move into place (readers never see a half file)."""
        with tempfile.TemporaryDirectory(prefix="render-", dir=self.cache_dir) as tmp:
            docx = render.write_docx(report, Path(tmp, f"{report.seed_id}.docx"))
            made = (
                docx
                if kind == "docx"
                else render.soffice_convert(docx, SOFFICE_TARGETS[kind], Path(tmp, f"out.{kind}"))
            )
            os.replace(made, dest)
