"""Issuers: how a body's name is compared, and which kind of body a name is.

**Names.** The same body signs its reports differently across years: 晋城市城区人民政府,
城区人民政府, 城区政府. Names are compared after normalisation (full-width folded, whitespace
and punctuation dropped, 人民政府 → 政府, a bare place name such as 四方台区 read as its
government). Two names are the same body when equal, or when one ends with the other and what is
left in front is a place name (晋城市 + 城区政府). Nothing looser: a department (城区应急管理局)
never merges with its government (城区人民政府).

**Kinds** decide deadlines: government, office, department, township, other. The kind a site
entry gives an issuer always wins; the name is only a fallback, for issuers first met in a
report. The order of the tests matters: 北石店镇人民政府 ends like a government but is a
township, and 济源市人民政府办公室 contains a government's name but is its office.
"""

from __future__ import annotations

import re
import unicodedata

ISSUER_KINDS = ("government", "office", "department", "township", "other")

PLACE_SUFFIXES = ("自治州", "省", "市", "区", "县", "盟", "旗")
# A shorter name must say which body it is: 政府 or 某局 alone names none in particular.
MIN_SUFFIX_NAME = 3
# How the name of a publishing body ends (a regular expression), longest alternatives first:
# 某某县人民政府, 某某局, 某某街道办事处, 佳荣里街 (Tianjin), 巴音乌兰苏木, 某某管委会…
ORGAN_END = (
    r"(人民政府办公室|人民政府办公厅|人民政府|政府办公室|政府|办公室|办公厅|委员会|管委会|"
    r"管理委员会|分局|局|委|厅|院|署|办|中心|所|处|街道办事处|街道|街|镇|乡|苏木|区|县|市|旗|盟|州)"
)
# An office inside a body, named where a report gives its contact or its compiler (某某局办公室,
# 某某镇人民政府党政办公室): the body is the issuer. A government's own 办公室 is a body itself.
INTERNAL_OFFICE = (
    r"(政府信息公开领导小组办公室|信息公开领导小组办公室|政务公开工作领导小组办公室|"
    r"政务公开办公室|党政综合办公室|党政办公室|行政办公室|综合信息指挥室|党政综合办|党政办|"
    r"综合科|信息科|政务公开科|电子政务股|办公室)"
)
# Words that end like a body's name but name no body in particular.
GENERIC_NAMES = frozenset({
    "政府", "人民政府", "政府办公室", "管委会", "委员会", "办公室", "办事处", "区政府", "县政府",
    "市政府", "镇政府", "乡政府", "街道", "本局", "该局",
})

OFFICE = re.compile(r"(政府办公室|政府办公厅|政府办|管委会办公室|管理委员会办公室)$")
TOWNSHIP = re.compile(r"([镇乡]|苏木|街道|街道办|街道办事处)(人民政府|政府)?$")
GOVERNMENT = re.compile(r"(人民政府|政府|管委会|区管理委员会)$")
DEPARTMENT = re.compile(r"(局|委员会|委|办|办公室|中心|厅|署|部|分局)$")


def is_place_name(text: str) -> bool:
    """晋城市, 城区, 四方台区 — at least two characters ending in an administrative unit."""
    return len(text) >= 2 and text.endswith(PLACE_SUFFIXES)


def normalize_issuer(name: str) -> str:
    """The comparable form of an issuer's name: 晋城市 城区人民政府。 → 晋城市城区政府."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    text = text.replace("人民政府", "政府")
    if is_place_name(text):
        text += "政府"
    return text


def same_body(a: str, b: str) -> bool:
    """Whether two normalised names name the same body (see the module docstring)."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) < MIN_SUFFIX_NAME or not long.endswith(short):
        return False
    return is_place_name(long[: -len(short)])


def kind_from_name(name: str) -> str:
    """The kind a body's name suggests (see the module docstring for the order)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    if OFFICE.search(text):
        return "office"
    if TOWNSHIP.search(text):
        return "township"
    if GOVERNMENT.search(text) or is_place_name(text):
        return "government"
    if DEPARTMENT.search(text):
        return "department"
    return "other"


def issuer_kind(name: str, configured: str | None = None) -> str:
    """The configured kind (site entry, or the one stored with the issuer), else the name's."""
    return configured or kind_from_name(name)
