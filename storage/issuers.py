"""Which stored issuer a name on a report means, within one site.

The same body signs its reports differently across years: 晋城市城区人民政府, 城区人民政府,
城区政府. Names are compared after normalisation (full-width folded, whitespace and punctuation
dropped, 人民政府 → 政府, a bare place name such as 四方台区 read as its government). Two names
are the same body when equal, or when one ends with the other and what is left in front is a
place name (晋城市 + 城区政府). Nothing looser: a department (城区应急管理局) never merges with its
government (城区人民政府), and when a name fits several stored issuers it gets its own issuer
rather than a guess. Aliases a site's configuration lists are registered explicitly, for the
renamings no rule can see (济源市人民政府 = 济源产城融合示范区管委会).
"""

from __future__ import annotations

import logging
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from nianbao.storage.models import Issuer, IssuerAlias

log = logging.getLogger(__name__)

PLACE_SUFFIXES = ("自治州", "省", "市", "区", "县", "盟", "旗")
# A shorter name must say which body it is: 政府 or 某局 alone names none in particular.
MIN_SUFFIX_NAME = 3


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


def _scope(site_id: str | None) -> str:
    return site_id or ""


def _exact(session: Session, scope: str, normalized: str) -> IssuerAlias | None:
    return session.scalar(
        select(IssuerAlias).where(IssuerAlias.scope == scope, IssuerAlias.normalized == normalized)
    )


def _add_alias(session: Session, issuer: Issuer, name: str, normalized: str) -> None:
    session.add(IssuerAlias(
        issuer_id=issuer.id, scope=_scope(issuer.site_id), alias=name, normalized=normalized
    ))
    session.flush()


def resolve_issuer(session: Session, site_id: str | None, name: str) -> Issuer:
    """The site's issuer that ``name`` means, created (with the name as alias) when none is."""
    scope, normalized = _scope(site_id), normalize_issuer(name)
    alias = _exact(session, scope, normalized)
    if alias is not None:
        return session.get_one(Issuer, alias.issuer_id)
    aliases = session.scalars(select(IssuerAlias).where(IssuerAlias.scope == scope))
    matches = {a.issuer_id for a in aliases if same_body(a.normalized, normalized)}
    if len(matches) == 1:
        issuer = session.get_one(Issuer, matches.pop())
    else:
        if matches:
            log.warning("issuer %r fits %d issuers of site %r: kept apart", name, len(matches),
                        site_id)
        issuer = Issuer(name=name, site_id=site_id)
        session.add(issuer)
        session.flush()
    _add_alias(session, issuer, name, normalized)
    return issuer


def register_issuers(session: Session, site_id: str, issuers: list[dict]) -> None:
    """Record a site's configured issuers: ``[{name, aliases, kind}]``; the name is canonical.

    An alias already attached to another issuer is left there (with a warning): merging two
    issuers that already hold reports is a decision for a person, not for start-up.
    """
    scope = _scope(site_id)
    for entry in issuers:
        names = [entry["name"], *entry.get("aliases", [])]
        known = {n: _exact(session, scope, normalize_issuer(n)) for n in names}
        holders = {a.issuer_id for a in known.values() if a is not None}
        if known[entry["name"]] is not None:
            issuer = session.get_one(Issuer, known[entry["name"]].issuer_id)
        elif holders:
            issuer = session.get_one(Issuer, min(holders))
        else:
            issuer = resolve_issuer(session, site_id, entry["name"])
        others = holders - {issuer.id}
        if others:
            log.warning("site %r: configured names of %r belong to other issuers %s: not merged",
                        site_id, entry["name"], sorted(others))
        issuer.name = entry["name"]
        issuer.kind = entry.get("kind", issuer.kind)
        for name in names:
            normalized = normalize_issuer(name)
            if _exact(session, scope, normalized) is None:
                _add_alias(session, issuer, name, normalized)
        session.flush()
