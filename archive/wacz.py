"""A WACZ (Web Archive Collection Zipped, 1.1.1) of the archive, for ReplayWeb.page and pywb.

One zip file a journalist can hand over or open at replayweb.page: the WARC files stored
uncompressed in ``archive/`` (they are gzip already, and replay seeks into them), the sorted
CDXJ in ``indexes/index.cdxj``, one entry per archived HTML page in ``pages/pages.jsonl``,
and ``datapackage.json`` listing every file with its SHA-256 and size.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from nianbao.archive.cdxj import REVISIT_MIME, CdxjIndex

WACZ_VERSION = "1.1.1"
CHUNK = 1 << 20


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_wacz(directory: Path, out: Path, title: str = "nianbao",
               only_files: set[str] | None = None) -> dict[str, int]:
    """Write the WACZ of the closed WARC files in ``directory`` (only those named in
    ``only_files`` when given) to ``out``; how many WARC files, index lines and pages."""
    directory = Path(directory)
    warcs = sorted(p for p in directory.glob("*.warc.gz")
                   if only_files is None or p.name in only_files)
    names = {p.name for p in warcs}
    entries = sorted((e for e in CdxjIndex(directory).entries() if e.filename in names),
                     key=lambda e: e.to_line())
    index = "".join(e.to_line() for e in entries).encode("utf-8")
    pages = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"},
                        ensure_ascii=False)]
    seen = set()
    for entry in sorted(entries, key=lambda e: (e.timestamp, e.url)):
        if entry.mime in ("text/html", REVISIT_MIME) and entry.status in ("200", "-") \
                and entry.url not in seen:
            seen.add(entry.url)
            stamp = entry.timestamp
            ts = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:" \
                 f"{stamp[12:14]}Z"
            pages.append(json.dumps({"id": hashlib.sha1(entry.url.encode()).hexdigest()[:16],
                                     "url": entry.url, "ts": ts}, ensure_ascii=False))
    pages_blob = ("\n".join(pages) + "\n").encode("utf-8")
    resources = []
    with zipfile.ZipFile(out, "w", allowZip64=True) as wacz:
        for path in warcs:
            wacz.write(path, f"archive/{path.name}", compress_type=zipfile.ZIP_STORED)
            resources.append({"name": path.name, "path": f"archive/{path.name}",
                              "hash": "sha256:" + _sha256_file(path),
                              "bytes": path.stat().st_size})
        for name, blob in (("indexes/index.cdxj", index), ("pages/pages.jsonl", pages_blob)):
            wacz.writestr(name, blob, compress_type=zipfile.ZIP_DEFLATED)
            resources.append({"name": name.rsplit("/", 1)[1], "path": name,
                              "hash": "sha256:" + hashlib.sha256(blob).hexdigest(),
                              "bytes": len(blob)})
        package = {
            "profile": "data-package", "wacz_version": WACZ_VERSION, "title": title,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": f"nianbao {version('nianbao')}", "mainPageUrl": None,
            "resources": resources,
        }
        package = {k: v for k, v in package.items() if v is not None}
        wacz.writestr("datapackage.json", json.dumps(package, ensure_ascii=False, indent=2),
                      compress_type=zipfile.ZIP_DEFLATED)
    return {"warcs": len(warcs), "index_lines": len(entries), "pages": len(pages) - 1}
