"""``nianbao subscribe`` (add, list, remove, test alert subscriptions) and ``nianbao feed``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nianbao.commands.crawl import add_storage_arguments

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine(args: argparse.Namespace) -> Engine:
    from nianbao.storage.db import connect, database_url, migrate

    engine = connect(database_url(args.db))
    migrate(engine)
    return engine


def cmd_subscribe(args: argparse.Namespace) -> int:
    from nianbao.escaping import terminal
    from nianbao.notify.secrets import masked_url
    from nianbao.notify.subscriptions import (
        add_subscription,
        list_subscriptions,
        remove_subscription,
    )

    engine = _engine(args)
    if args.action == "add":
        try:
            sub = add_subscription(
                engine, args.name, args.url, sites=args.site, regions=args.region,
                issuers=args.issuer, kinds=args.kind, keyword=args.keyword,
                mode="daily" if args.daily else "immediate",
            )
        except ValueError as exc:
            print(f"nianbao: {exc}", file=sys.stderr)
            return 2
        print(f"subscription {sub.id} {sub.name} added ({sub.mode})")
        return 0
    if args.action == "list":
        for sub in list_subscriptions(engine):
            if args.json:
                print(json.dumps(sub.as_dict(), ensure_ascii=False))
                continue
            filters = " ".join(f"{name}={','.join(values)}" for name, values in (
                ("sites", sub.sites), ("regions", sub.regions), ("issuers", sub.issuers),
                ("kinds", sub.kinds), ("keyword", [sub.keyword] if sub.keyword else []),
            ) if values)
            print(terminal(f"{sub.id:>4} {sub.name}  {sub.mode}  {masked_url(sub.url)}  "
                           f"{filters or 'all events'}"))
        return 0
    if args.action == "remove":
        if remove_subscription(engine, args.id_or_name):
            print(f"subscription {args.id_or_name} removed")
            return 0
        print(f"nianbao: no subscription {args.id_or_name!r}", file=sys.stderr)
        return 2
    return _test(engine, args.id_or_name)


def _test(engine: Engine, id_or_name: str) -> int:
    """Send a probe message and say whether the channel took it."""
    from nianbao.notify.alerts import notify
    from nianbao.notify.messages import probe_message
    from nianbao.notify.subscriptions import get_subscription

    sub = get_subscription(engine, id_or_name)
    if sub is None:
        print(f"nianbao: no subscription {id_or_name!r}", file=sys.stderr)
        return 2
    error = notify(sub.url, *probe_message())
    if error is None:
        print(f"test message sent to {sub.name}")
        return 0
    print(f"nianbao: test message to {sub.name} failed: {error}", file=sys.stderr)
    return 1


def cmd_feed(args: argparse.Namespace) -> int:
    from nianbao.notify.feeds import site_feed, subscription_feed
    from nianbao.notify.subscriptions import get_subscription
    from nianbao.storage.db import DatabaseMissing, open_existing

    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    if args.subscription:
        sub = get_subscription(engine, args.subscription)
        if sub is None:
            print(f"nianbao: no subscription {args.subscription!r}", file=sys.stderr)
            return 2
        document = subscription_feed(engine, sub)
    else:
        document = site_feed(engine, args.site)
    sys.stdout.buffer.write(document)
    return 0


def _moment(text: str) -> datetime:
    """A day or an ISO time; naive means Beijing time."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def add_subscribe_parser(sub: argparse._SubParsersAction) -> None:
    from nianbao.notify.event_kinds import EVENT_KINDS

    s = sub.add_parser("subscribe", help="manage alert subscriptions (Apprise URLs)")
    actions = s.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="add a subscription")
    a.add_argument("name")
    a.add_argument("url", help="Apprise URL, e.g. dingtalk://TOKEN or mailto://…")
    a.add_argument("--site", action="append", metavar="ID", help="only this site (repeatable)")
    a.add_argument("--region", action="append", metavar="CODE",
                   help="only sites whose region starts with this (repeatable)")
    a.add_argument("--issuer", action="append", metavar="NAME",
                   help="only issuers whose name contains this (repeatable)")
    a.add_argument("--kind", action="append", choices=EVENT_KINDS, help="only this event kind")
    a.add_argument("--keyword", metavar="TEXT", help="only alerts whose text contains this")
    a.add_argument("--daily", action="store_true", help="one digest a day instead of each event")
    a.add_argument("--since", type=_moment, metavar="DATE",
                   help="alert only events from this day or time on (never before the "
                   "subscription exists; older events are in the feed)")
    a.add_argument("--baseline", choices=("digest", "each", "none"),
                   help="a site's first crawl: one digest alert (default, alerts.baseline in "
                   "settings), one alert per event, or none")
    lst = actions.add_parser("list", help="list subscriptions")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    for name, text in (("remove", "delete a subscription"), ("test", "send a test message")):
        p = actions.add_parser(name, help=text)
        p.add_argument("id_or_name", metavar="ID_OR_NAME")
    for p in actions.choices.values():
        add_storage_arguments(p)
    s.set_defaults(func=cmd_subscribe)

    f = sub.add_parser("feed", help="print an Atom feed of events, per site or subscription")
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", metavar="ID")
    which.add_argument("--subscription", metavar="ID_OR_NAME")
    add_storage_arguments(f)
    f.set_defaults(func=cmd_feed)
