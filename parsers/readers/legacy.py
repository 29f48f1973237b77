"""Convert legacy word-processor files (.doc, .wps, .rtf, .odt) to DOCX with LibreOffice.

Many 年度报告 are still published as Word 97 .doc or Kingsoft .wps files, which no pure-Python
library reads well. LibreOffice headless converts them with tables intact; the DOCX reader then
does the rest. LibreOffice is an external process, so every call gets its own profile directory
(concurrent conversions sharing one profile fail), runs under a timeout that kills the whole
process group, and has its output checked, because exit code 0 does not prove a conversion.

A crawled document is hostile input: LibreOffice would fetch the images it links (blind
SSRF from inside the network nianbao runs in). Conversions run without network access — in a
network namespace of their own where the system allows it (``unshare``), and always with a
profile that blocks links to untrusted locations.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from nianbao.parsers.errors import ParseError

SUFFIXES = {"doc", "wps", "rtf", "odt"}
# The fresh profile of each conversion: LibreOffice blocks links to locations it does not
# trust (a crawled document's linked images).
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">
 <prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def _soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise ParseError(
        "converter-missing",
        "LibreOffice is needed to read .doc/.wps files: apt-get install libreoffice-writer-nogui",
    )


@functools.cache
def no_network() -> tuple[str, ...]:
    """The prefix that runs a command in a network namespace of its own (nothing but a
    loopback that is down), when this system lets an unprivileged user make one; else none
    (the profile's link blocking still holds)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--map-root-user", "--net")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return prefix if probe.returncode == 0 else ()


def convert_to_docx(data: bytes, suffix: str, *, timeout: float = 60) -> bytes:
    """DOCX bytes of ``data``, a .doc/.wps/.rtf/.odt file (``suffix`` with or without the dot)."""
    suffix = suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise ValueError(f"convert_to_docx handles {sorted(SUFFIXES)}, not {suffix!r}")
    if not data.strip():
        raise ParseError("unreadable", f"the .{suffix} file is empty")
    soffice = _soffice()
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        work = Path(tmp)
        source = work / f"input.{suffix}"
        source.write_bytes(data)
        outdir = work / "out"
        outdir.mkdir()
        user = work / "profile" / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
        command = [
            *no_network(),
            soffice,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "docx",
            "--outdir",
            str(outdir),
            str(source),
        ]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout can kill soffice.bin too
            cwd=work,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ParseError(
                "timeout", f"LibreOffice took longer than {timeout:g} s to convert .{suffix}"
            ) from exc
        finally:  # a timeout, or the parse worker being stopped: soffice goes too
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        output = outdir / "input.docx"
        detail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
        why = f" ({detail[-1]})" if detail else ""
        if proc.returncode != 0 or not output.is_file():
            raise ParseError(
                "unreadable",
                f"LibreOffice could not convert this .{suffix} file "
                f"(exit code {proc.returncode}){why}",
            )
        result = output.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(result)) as zf:
            if "word/document.xml" not in zf.namelist():
                raise zipfile.BadZipFile("no word/document.xml")
    except zipfile.BadZipFile as exc:
        raise ParseError(
            "unreadable", f"LibreOffice produced no usable DOCX from this .{suffix} file: {exc}"
        ) from exc
    return result
