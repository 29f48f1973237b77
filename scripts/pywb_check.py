"""Does pywb find every capture in nianbao's own index, and do 304 revisits replay the body?

Run with a Python that has pywb installed (pywb is not a dependency of nianbao: use a separate
environment), on an archive directory nianbao wrote:

    python3 -m venv /tmp/pywb-venv && /tmp/pywb-venv/bin/pip install pywb
    /tmp/pywb-venv/bin/python scripts/pywb_check.py ARCHIVE_DIR

It makes a pywb collection in a temporary directory whose ``indexes/index.cdxj`` is
nianbao's ``index.cdxj`` copied as is (no ``wb-manager reindex``), then:

1. compares that index with the one pywb's own indexer writes for the same WARC files
   (``cdx-indexer --cdxj --sort``): line for line;
2. asks pywb, for every line of the index, for that URL at that timestamp (``id_`` replay,
   no rewriting) and counts the captures it serves with the archived status and the archived
   bytes (checked against the line's SHA-1 digest) — for a revisit, the original's bytes;
3. reports the server-not-modified revisits (304s) among them and whether each served the
   body (status 200, non-empty, digest matching).

Prints the figures; exits 1 if any capture was not found or not served as archived.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    archive = Path(sys.argv[1]).resolve()
    index = archive / "index.cdxj"
    lines = index.read_text(encoding="utf-8").splitlines()
    warcs = sorted(archive.glob("*.warc.gz"))
    bindir = Path(sys.executable).parent
    ours_sorted = lines == sorted(lines)
    theirs = subprocess.run([str(bindir / "cdx-indexer"), "--cdxj", "--sort",
                             *map(str, warcs)], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    identical = theirs == lines

    work = Path(tempfile.mkdtemp(prefix="pywb-check-"))
    try:
        collection = work / "collections" / "nianbao"
        (collection / "archive").mkdir(parents=True)
        (collection / "indexes").mkdir()
        for warc in warcs:
            (collection / "archive" / warc.name).symlink_to(warc)
        shutil.copyfile(index, collection / "indexes" / "index.cdxj")
        port = _free_port()
        server = subprocess.Popen([str(bindir / "wayback"), "-p", str(port), "-b",
                                   "127.0.0.1"], cwd=work, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        _wait(port)
        found = served = revisits = not_modified = not_modified_ok = 0
        problems = []
        for line in lines:
            urlkey, stamp, blob = line.split(" ", 2)
            fields = json.loads(blob)
            response = _get(f"http://127.0.0.1:{port}/nianbao/{stamp}id_/{fields['url']}")
            if response.headers.get("Memento-Datetime") is None:  # pywb's own "not found"
                problems.append(f"not found: {stamp} {fields['url']}")
                continue
            found += 1
            body = response.body
            digest = base64.b32encode(hashlib.sha1(body).digest()).decode()
            status_ok = fields.get("status", "200") == str(response.status_int)
            is_revisit = fields["mime"] == "warc/revisit"
            revisits += is_revisit
            profile = _profile(archive, fields) if is_revisit else ""
            if profile.endswith("server-not-modified"):
                not_modified += 1
                ok = response.status_int == 200 and body and digest == fields["digest"]
                not_modified_ok += bool(ok)
                if not ok:
                    problems.append(f"304 revisit not replayed: {stamp} {fields['url']} "
                                    f"({response.status_int}, {len(body)} bytes)")
                continue
            if (status_ok or is_revisit) and digest == fields["digest"]:
                served += 1
            else:
                problems.append(f"served otherwise: {stamp} {fields['url']} "
                                f"({response.status_int}, digest {digest})")
    finally:
        if "server" in locals():
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"index lines: {len(lines)} in {len(warcs)} WARC files; sorted: {ours_sorted}; "
          f"identical to pywb's cdx-indexer --sort: {identical}")
    print(f"pywb found {found}/{len(lines)} captures without reindexing; "
          f"{served + not_modified_ok}/{len(lines)} served with the archived bytes")
    print(f"revisits: {revisits}, of which server-not-modified (304): {not_modified}; "
          f"304s replayed with the original body: {not_modified_ok}/{not_modified}")
    for problem in problems[:20]:
        print("  " + problem)
    return 0 if identical and not problems else 1


class _Answer:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status_int, self.headers, self.body = status, headers, body


def _get(url: str) -> _Answer:
    """GET without following redirects (a capture of a redirect is served as one)."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(url, timeout=30) as response:
            return _Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return _Answer(error.code, error.headers, error.read())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int) -> None:
    import socket
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("pywb did not start")


def _profile(archive: Path, fields: dict) -> str:
    from warcio.archiveiterator import ArchiveIterator

    with (archive / fields["filename"]).open("rb") as f:
        f.seek(int(fields["offset"]))
        record = next(iter(ArchiveIterator(f)))
        return record.rec_headers.get_header("WARC-Profile") or ""


if __name__ == "__main__":
    sys.exit(main())
