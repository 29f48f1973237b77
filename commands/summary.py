"""The readable one-screen summary of a parsed report that ``nianbao parse`` prints."""

from __future__ import annotations

from nianbao.vocabulary.figures import RATE_BY_KEY, percent


def _n(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and not v.is_integer():
        return str(v)
    return str(int(v)) if isinstance(v, int | float) else str(v)


def key_figures(m: dict) -> list[str]:
    lines = []
    if "requests.new.total" in m:
        granted, handled = m.get("requests.granted.total"), m.get("requests.handled_total.total")
        rate = RATE_BY_KEY["granted_rate"].value(m)
        lines.append(
            f"依申请: 新收 {_n(m.get('requests.new.total'))}, "
            f"上年结转 {_n(m.get('requests.carried_over.total'))}, "
            f"予以公开 {_n(granted)}, 办结 {_n(handled)}, "
            f"结转下年 {_n(m.get('requests.carried_forward.total'))}"
            + ("" if rate is None else f", 予以公开率 {percent(rate)}")
        )
    if "review.total" in m:
        lit = [m.get("litigation.direct.total"), m.get("litigation.after_review.total")]
        lit_total = sum(x for x in lit if isinstance(x, int | float)) if None not in lit else None
        lines.append(
            f"复议 {_n(m.get('review.total'))} (纠正 {_n(m.get('review.corrected'))}), "
            f"诉讼 {_n(lit_total)}"
        )
    active = []
    for key, label in [
        ("active.normative.issued", "规范性文件制发"), ("active.normative.made", "规范性文件制作"),
        ("active.licensing.decisions", "许可"), ("active.punishment.decisions", "处罚"),
        ("active.coercion.decisions", "强制"), ("active.fees.amount", "收费(万元)"),
    ]:
        if key in m:
            active.append(f"{label} {_n(m[key])}")
    if active:
        lines.append("主动公开: " + ", ".join(active))
    return lines


def render_summary(record: dict) -> str:
    out = [f"── {record['source']}"]
    if record["format"] == "unknown":
        out.append(f"  not a report: {record.get('reason')}")
        return "\n".join(out)
    date = record.get("published_date")
    evidence = next(
        (d["source"] for d in record.get("date_evidence", []) if d["value"] == date), None
    )
    out.append(
        f"  {record.get('issuer') or '(issuer unknown)'} · {record.get('report_year') or '?'}年度"
        f" · 格式 {record['format']} · 发布 {date or '—'}"
        + (f" ({evidence})" if evidence else "")
    )
    out += [f"  {line}" for line in key_figures(record["metrics"])]
    checks = record["checks"]
    failed = [c for c in checks if not c["ok"]]
    out.append(f"  checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    for c in failed[:12]:
        out.append(f"    ✗ [{c['severity']}] {c['id']}: {c['detail']}")
    if len(failed) > 12:
        out.append(f"    … {len(failed) - 12} more")
    if record["repairs"]:
        out.append(f"  repairs: {len(record['repairs'])} lost cells placed by the identities")
        for r in record["repairs"][:5]:
            cells = f" (one of {', '.join(c.rsplit('.', 1)[-1] for c in r['cells'])})" \
                if "cells" in r else ""
            out.append(f"    {r['key']} = {_n(r['value'])}{cells}")
    return "\n".join(out)
