"""Show: the web app (``nianbao serve``) — pages, a read-only JSON API, feeds and exports.

Server-rendered HTML in Chinese (Starlette + Jinja2, autoescaped), charts as inline SVG drawn
here, nothing loaded from another origin. It only reads what the other stages stored (the
verdicts table, versions, events, the WARC archive); its two writes — triage marks and
subscriptions — need a signed-in user and a CSRF token. ``app.create_app`` builds it.
"""
