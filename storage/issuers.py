"""Which stored issuer a name on a report means, within one site.

Names are compared by the rules of ``nianbao.vocabulary.issuers`` (normalised, and the same body
when one ends with the other after a place name). When a name fits several stored issuers it
gets its own issuer rather than a guess. Aliases a site's configuration lists are registered
explicitly, for the renamings no rule can see (济源市人民政府 = 济源产城融合示范区管委会).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from sqlalchemy import String, bindparam, insert, or_, select
from sqlalchemy.orm import Session

from nianbao.storage.models import Issuer, IssuerAlias
from nianbao.vocabulary.issuers import normalize_issuer, same_body

log = logging.getLogger(__name__)


class IssuerRef(NamedTuple):
    """The columns of an issuer that storing a document reads, and whether the call that
    resolved it created it (then it has no reports yet: storing need not look for any)."""

    id: int
    name: str
    site_id: str | None
    created: bool = False


# Asked for every document stored: built once, run as plain SQL (no ORM objects).
_ISSUER_COLUMNS = (Issuer.id, Issuer.name, Issuer.site_id)
_ISSUER_OF_ALIAS = select(*_ISSUER_COLUMNS).join(
    IssuerAlias, IssuerAlias.issuer_id == Issuer.id).where(
    IssuerAlias.scope == bindparam("scope"), IssuerAlias.normalized == bindparam("normalized"))
_ISSUER = select(*_ISSUER_COLUMNS).where(Issuer.id == bindparam("issuer_id"))
_NEW_ISSUER = insert(Issuer).returning(*_ISSUER_COLUMNS)
_NEW_ALIAS = insert(IssuerAlias)


# The aliases of a scope that may name the same body as a name: the name or one of its endings
# (found by the unique index), or an alias ending with the name (``same_body`` decides). Asked
# only when a name is new to the site, instead of reading all the site's aliases; SQLite's LIKE
# also ignores ASCII case, so the query may return more than needed, never less.
_LIKE_ESCAPE = "/"
_SUFFIX_CANDIDATES = select(IssuerAlias.issuer_id, IssuerAlias.normalized).where(
    IssuerAlias.scope == bindparam("scope"),
    or_(IssuerAlias.normalized.in_(bindparam("endings", expanding=True)),
        IssuerAlias.normalized.endswith(bindparam("escaped", type_=String),
                                        escape=_LIKE_ESCAPE)))


def _like_escaped(text: str) -> str:
    for char in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, _LIKE_ESCAPE + char)
    return text


def _scope(site_id: str | None) -> str:
    return site_id or ""


def _exact(session: Session, scope: str, normalized: str) -> IssuerAlias | None:
    return session.scalar(
        select(IssuerAlias).where(IssuerAlias.scope == scope, IssuerAlias.normalized == normalized)
    )


def _add_alias(session: Session, issuer_id: int, site_id: str | None, name: str,
               normalized: str) -> None:
    session.connection().execute(_NEW_ALIAS, {
        "issuer_id": issuer_id, "scope": _scope(site_id), "alias": name,
        "normalized": normalized})


def resolve_issuer(session: Session, site_id: str | None, name: str) -> IssuerRef:
    """The site's issuer that ``name`` means, created (with the name as alias) when none is.
    Plain SQL on the session's connection: asked for every document a crawl stores."""
    connection = session.connection()
    scope, normalized = _scope(site_id), normalize_issuer(name)
    known = connection.execute(
        _ISSUER_OF_ALIAS, {"scope": scope, "normalized": normalized}).first()
    if known is not None:
        return IssuerRef(*known)
    aliases = connection.execute(_SUFFIX_CANDIDATES, {
        "scope": scope, "endings": [normalized[i:] for i in range(len(normalized))],
        "escaped": _like_escaped(normalized)})
    matches = {issuer_id for issuer_id, known in aliases if same_body(known, normalized)}
    if len(matches) == 1:
        issuer = IssuerRef(*connection.execute(_ISSUER, {"issuer_id": matches.pop()}).one())
    else:
        if matches:
            log.warning("issuer %r fits %d issuers of site %r: kept apart", name, len(matches),
                        site_id)
        issuer = IssuerRef(*connection.execute(
            _NEW_ISSUER, {"name": name, "site_id": site_id}).one(), created=True)
    _add_alias(session, issuer.id, site_id, name, normalized)
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
            issuer = session.get_one(Issuer, resolve_issuer(session, site_id, entry["name"]).id)
        others = holders - {issuer.id}
        if others:
            log.warning("site %r: configured names of %r belong to other issuers %s: not merged",
                        site_id, entry["name"], sorted(others))
        issuer.name = entry["name"]
        issuer.kind = entry.get("kind", issuer.kind)
        for name in names:
            normalized = normalize_issuer(name)
            if _exact(session, scope, normalized) is None:
                _add_alias(session, issuer.id, issuer.site_id, name, normalized)
        session.flush()
