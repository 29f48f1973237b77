"""An issuer's kind, which decides its deadline: government, office, department, township, other.

The kind a site entry gives an issuer always wins; the name is only a fallback, for issuers
first met in a report. The order of the tests matters: 北石店镇人民政府 ends like a government
but is a township, and 济源市人民政府办公室 contains a government's name but is its office.
"""

from __future__ import annotations

import re
import unicodedata

from nianbao.storage.issuers import is_place_name

OFFICE = re.compile(r"(政府办公室|政府办公厅|政府办|管委会办公室|管理委员会办公室)$")
TOWNSHIP = re.compile(r"([镇乡]|苏木|街道|街道办|街道办事处)(人民政府|政府)?$")
GOVERNMENT = re.compile(r"(人民政府|政府|管委会|区管理委员会)$")
DEPARTMENT = re.compile(r"(局|委员会|委|办|办公室|中心|厅|署|部|分局)$")


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
