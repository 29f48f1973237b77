"""The two writes — triage marks and subscriptions — and signing in and out.

Every write needs a signed-in user, our own origin and the session's CSRF token
(``web.auth.write_allowed``); a refusal is a 403 page saying why.
"""

from __future__ import annotations

import io

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nianbao.notify.subscriptions import add_subscription, list_subscriptions
from nianbao.storage import triage
from nianbao.storage.exports import write_csv
from nianbao.web import auth
from nianbao.web.filters import BadParameter
from nianbao.web.labels import EVENT_KIND
from nianbao.web.render import conf, engine, render, wants_csv


def login_page(request: Request) -> Response:
    return render(request, "login.html", {"error": None,
                                           "next": _safe_next(request.query_params.get("next"))})


def _safe_next(target: str | None) -> str:
    """Only a path of ours: never an absolute or scheme-relative URL (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def login_submit(request: Request) -> Response:
    form = await request.form()
    users = conf(request).get("users") or {}
    name, token = str(form.get("user") or ""), str(form.get("token") or "")
    next_path = _safe_next(str(form.get("next") or "/"))
    if not auth.same_origin(request) or not auth.check_login(users, name, token):
        return render(request, "login.html", {"error": "用户名或令牌不正确", "next": next_path},
                       status=403)
    auth.sign_in(request, name)
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if auth.write_allowed(request, form) is None:
        request.session.clear()
    return RedirectResponse("/", status_code=303)


def _refused(request: Request, why: str) -> Response:
    return render(request, "error.html", {"status": 403, "message": why}, status=403)


async def triage_submit(request: Request) -> Response:
    form = await request.form()
    why = auth.write_allowed(request, form)
    if why:
        return _refused(request, why)
    try:
        year = int(str(form.get("report_year")))
        triage.add_mark(engine(request), site_id=str(form.get("site_id") or ""),
                        issuer=str(form.get("issuer") or ""), report_year=year,
                        status=str(form.get("status") or ""),
                        check_id=str(form.get("check_id") or ""),
                        note=str(form.get("note") or ""), user=auth.current_user(request) or "")
    except ValueError as exc:
        raise BadParameter(f"复核标记无效：{exc}") from None
    return RedirectResponse(_safe_next(str(form.get("next") or "/triage")), status_code=303)


def triage_page(request: Request) -> Response:
    with Session(engine(request)) as session:
        marks = triage.all_current(session)
    if wants_csv(request):
        buffer = io.StringIO()
        buffer.write("\ufeff")
        columns = ["target", "site_id", "issuer_key", "report_year", "check_id", "status",
                   "note", "user", "marked_at"]
        write_csv((m.as_dict() for m in marks), columns, buffer)
        return Response(buffer.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="triage.csv"'})
    return render(request, "triage.html", {"marks": marks})


def subscriptions_page(request: Request) -> Response:
    subs = list_subscriptions(engine(request))
    return render(request, "subscriptions.html", {"subs": subs, "error": None,
                                                   "event_kinds": EVENT_KIND})


async def subscription_submit(request: Request) -> Response:
    form = await request.form()
    why = auth.write_allowed(request, form)
    if why:
        return _refused(request, why)

    def listed(name: str) -> list[str]:
        return [v.strip() for v in str(form.get(name) or "").split(",") if v.strip()]

    url = str(form.get("url") or "").strip()
    try:
        add_subscription(engine(request), str(form.get("name") or "").strip(),
                         url, sites=listed("sites"),
                         regions=listed("regions"), kinds=listed("kinds"),
                         keyword=str(form.get("keyword") or "").strip() or None,
                         mode=str(form.get("mode") or "immediate"))
    except (ValueError, KeyError) as exc:
        # the refusal is worded by notify/subscriptions.py, which masks the Apprise URL
        return render(request, "subscriptions.html", {
            "subs": list_subscriptions(engine(request)), "error": str(exc),
            "event_kinds": EVENT_KIND}, status=400)
    return RedirectResponse("/subscriptions", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/triage", triage_page, methods=["GET"], name="triage"),
        Route("/triage", triage_submit, methods=["POST"]),
        Route("/subscriptions", subscriptions_page, methods=["GET"], name="subscriptions"),
        Route("/subscriptions", subscription_submit, methods=["POST"]),
    ]
