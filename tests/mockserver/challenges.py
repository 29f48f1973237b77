"""Anti-bot challenges in the manner of 瑞数 (HTTP 412), 加速乐 (HTTP 521), 360 WZWS (302 to
a challenge page) and Tencent EdgeOne (a 200 script page): the server hands out a nonce, a
script computes an answer from it and stores it in a cookie, and the page reloads. A browser
passes; a plain HTTP client never does (it keeps getting the challenge). The real products
obfuscate heavily; here the answer is a small hash (``answer``) so that tests can compute what
the script computes. The HTTP 468 WAF and an ``Unpassable`` challenge let no client through.

Every challenge is stateless: whatever proves the answer travels in the client's cookies.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import replace
from email.message import Message

from tests.mockserver.http import Request, Response

# The same hash in JavaScript: FNV-1a (32 bit) and a second round over the first.
JS_ANSWER = (
    "function _$h(s){var x=0x811c9dc5;for(var i=0;i<s.length;i++){x^=s.charCodeAt(i);"
    "x=Math.imul(x,0x01000193)>>>0;}return('0000000'+x.toString(16)).slice(-8);}"
    "function _$a(s){var a=_$h(s);return a+_$h(a+s);}"
)
NO_CACHE = (("Cache-Control", "no-cache, no-store"), ("Pragma", "no-cache"))


def fnv1a(text: str) -> str:
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def answer(nonce: str) -> str:
    """What the challenge script computes from ``nonce`` (16 hex digits)."""
    first = fnv1a(nonce)
    return first + fnv1a(first + nonce)


def challenge_page(script: str, status: int, headers: tuple[tuple[str, str], ...]) -> Response:
    return Response(status, script.encode(), "text/html; charset=utf-8", NO_CACHE + headers)


class Ruishu:
    """瑞数: every request without valid ``<prefix><port>S``/``T`` cookies gets HTTP 412, a fresh
    nonce in the S cookie (HttpOnly) and in the page's ``$_ts.cd``; the script sets T =
    ``answer(nonce)`` and reloads. Names end in 80S/80T over http, 443S/443T over https."""

    kind, status = "ruishu", 412

    def __init__(self, prefix: str = "FSSBBIl1UgzbN7N") -> None:
        self.prefix = prefix

    def cookie_names(self, scheme: str) -> tuple[str, str]:
        port = 443 if scheme == "https" else 80
        return f"{self.prefix}{port}S", f"{self.prefix}{port}T"

    def check(self, request: Request) -> Response | None:
        s_name, t_name = self.cookie_names(request.scheme)
        cookies = request.cookies
        nonce = cookies.get(s_name, "")
        if nonce and cookies.get(t_name) == answer(nonce):
            return None
        nonce = secrets.token_hex(24)
        script = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta http-equiv="Expires" content="0"><meta http-equiv="Cache-Control" content="no-cache">
<meta id="{secrets.token_hex(6)}" content="{secrets.token_urlsafe(96)}" r='m'>
<script type="text/javascript" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={{}};
$_ts.nsd={secrets.randbelow(99999)};$_ts.cd="{nonce}";</script>
<script type="text/javascript" r='m'>(function(){{{JS_ANSWER}
document.cookie="{t_name}="+_$a($_ts.cd)+"; path=/";location.reload();}})();</script>
</head><body></body></html>"""
        cookie = f"{s_name}={nonce}; Path=/; HttpOnly"
        return challenge_page(script, self.status, (("Set-Cookie", cookie),))


class Jiasule:
    """加速乐: HTTP 521 with ``X-Via-JSL`` and a ``__jsluid_s`` (https) / ``__jsluid_h`` (http)
    cookie; the script sets ``__jsl_clearance_s`` / ``__jsl_clearance`` to
    ``<unix time>|0|<answer(jsluid)>`` and reloads the same address."""

    kind, status = "jiasule", 521

    def cookie_names(self, scheme: str) -> tuple[str, str]:
        if scheme == "https":
            return "__jsluid_s", "__jsl_clearance_s"
        return "__jsluid_h", "__jsl_clearance"

    def check(self, request: Request) -> Response | None:
        uid_name, clearance_name = self.cookie_names(request.scheme)
        cookies = request.cookies
        uid = cookies.get(uid_name, "")
        parts = cookies.get(clearance_name, "").split("|")
        if uid and len(parts) == 3 and parts[2] == answer(uid):
            return None
        uid = secrets.token_hex(16)
        script = (
            f"<script>{JS_ANSWER}document.cookie=('{clearance_name[:5]}')+('{clearance_name[5:]}=')"
            f"+('{int(time.time())}|0|')+_$a('{uid}')+(';max-age=3600;path=/');"
            "location.href=location.pathname+location.search</script>"
        )
        headers = (
            ("X-Via-JSL", f"{secrets.token_hex(4)},-"),
            ("Set-Cookie", f"{uid_name}={uid}; max-age=31536000; path=/; HttpOnly"),
        )
        return challenge_page(script, self.status, headers)


class Wzws:
    """360 WZWS: a request without a valid ``wzws_cid`` is redirected (302) to
    ``/WZWSREL<base64 of the address>?wzwschallenge=<nonce>``, a 200 page whose script sets
    ``wzws_cid=<nonce><answer(nonce)>`` and goes back to the address."""

    kind, status = "wzws", 302
    cookie = "wzws_cid"
    prefix = "/WZWSREL"

    def cookie_names(self, scheme: str) -> tuple[str, ...]:
        return (self.cookie,)

    def check(self, request: Request) -> Response | None:
        if request.path.startswith(self.prefix):
            return self.challenge(request)
        cid = request.cookies.get(self.cookie, "")
        if len(cid) == 32 and cid[16:] == answer(cid[:16]):
            return None
        encoded = base64.urlsafe_b64encode(request.target.encode()).decode().rstrip("=")
        location = f"{self.prefix}{encoded}?wzwschallenge={secrets.token_hex(8)}"
        return Response(302, b"", "text/html", (*NO_CACHE, ("Location", location)))

    def challenge(self, request: Request) -> Response:
        encoded = request.path.removeprefix(self.prefix)
        try:
            back = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except ValueError:
            back = "/"
        if not back.startswith("/"):
            back = "/"
        nonce = request.query.get("wzwschallenge", "")
        if len(nonce) != 16:
            nonce = secrets.token_hex(8)
        back_js = json.dumps(back).replace("<", "\\u003c")
        script = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>安全验证</title></head><body><p>正在进行安全验证，请稍候……</p>
<script type="text/javascript">{JS_ANSWER}var c="{nonce}";
document.cookie="{self.cookie}="+c+_$a(c)+"; path=/";location.replace({back_js});</script>
</body></html>"""
        return challenge_page(script, 200, ())


class EdgeOne:
    """Tencent EdgeOne's JS challenge: HTTP 200 with a script page (it carries the marker
    ``WTKkN``) that sets ``__tst_status`` from the ``EO_Bot_Ssid`` nonce the server handed out,
    then reloads."""

    kind, status = "edgeone", 200
    nonce_cookie, answer_cookie = "EO_Bot_Ssid", "__tst_status"

    def cookie_names(self, scheme: str) -> tuple[str, ...]:
        return (self.nonce_cookie, self.answer_cookie)

    def check(self, request: Request) -> Response | None:
        cookies = request.cookies
        nonce = cookies.get(self.nonce_cookie, "")
        if nonce and cookies.get(self.answer_cookie) == answer(nonce) + "#":
            return None
        nonce = secrets.token_hex(8)
        script = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title></title></head><body>
<script type="text/javascript">var WTKkN="{secrets.token_hex(12)}";{JS_ANSWER}
document.cookie="{self.answer_cookie}="+_$a("{nonce}")+"#; path=/";location.reload();</script>
</body></html>"""
        cookie = f"{self.nonce_cookie}={nonce}; Path=/"
        return challenge_page(script, self.status, (("Set-Cookie", cookie),))


class Http468:
    """The unidentified WAF seen in front of 广元 portals: HTTP 468 and a short page to every
    client, browsers included (no cookie gets past it here)."""

    kind, status = "http468", 468

    def cookie_names(self, scheme: str) -> tuple[str, ...]:
        return ()

    def check(self, request: Request) -> Response | None:
        page = "<html><body><p>访问受限，请稍后再试。</p></body></html>"
        return challenge_page(page, self.status, ())


class Unpassable:
    """A challenge no client passes (some portals answer 412 even to a real browser): the
    wrapped challenge, whatever cookies the client sends."""

    def __init__(self, challenge) -> None:
        self.challenge = challenge
        self.kind, self.status = challenge.kind, challenge.status

    def cookie_names(self, scheme: str) -> tuple[str, ...]:
        return self.challenge.cookie_names(scheme)

    def check(self, request: Request) -> Response | None:
        headers = Message()
        for name, value in request.headers.items():
            if name.lower() != "cookie":
                headers[name] = value
        return self.challenge.check(replace(request, headers=headers))


CHALLENGES = {"ruishu": Ruishu, "jiasule": Jiasule, "wzws": Wzws, "edgeone": EdgeOne,
              "http468": Http468}
