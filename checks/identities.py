"""The accounting identities (勾稽关系) the standard formats define, as data and as checks.

The same identity list drives two things: :mod:`nianbao.parsers.repair`, which may use it to place a
cell lost in extraction, and the ``error`` checks every record carries. A check over a ``null``
cell fails and says which cell is missing: an unread figure never passes an identity.
"""

from __future__ import annotations

from nianbao.parsers.schema import (
    APPLICANT_COLUMNS,
    ORG_COLUMNS,
    OUTCOMES,
    REVIEW_GROUPS,
    SIGNED_COLUMNS,
    request_rows,
    result_rows,
)

Identity = tuple[str, list[str], list[str]]


def request_identities(fmt: str, one_other_row: bool = False) -> list[Identity]:
    """``one_other_row``: a 2021 table 三 printing （六）其他处理 as one row (as the 2019 format
    did) instead of its three sub-rows; that row then stands for the three in the sums."""
    rows = [r.key for r in request_rows(fmt)]
    results = result_rows(fmt)
    if one_other_row:
        rows = [r for r in rows if not r.startswith("requests.other.")]
        results = [r for r in results if not r.startswith("requests.other.")]
        rows.append("requests.other_handling")
        results.append("requests.other_handling")
    out: list[Identity] = []
    for col in APPLICANT_COLUMNS:
        out.append((
            f"requests.balance.{col}",
            [f"requests.new.{col}", f"requests.carried_over.{col}"],
            [f"requests.handled_total.{col}", f"requests.carried_forward.{col}"],
        ))
        out.append((
            f"requests.handled.{col}",
            [f"requests.handled_total.{col}"],
            [f"{r}.{col}" for r in results],
        ))
    for row in rows:
        short = row.removeprefix("requests.")
        out.append((
            f"requests.row_total.{short}",
            [f"{row}.total"],
            [f"{row}.natural"] + [f"{row}.{c}" for c in ORG_COLUMNS],
        ))
    return out


def review_identities() -> list[Identity]:
    return [
        (f"{g}.total", [f"{g}.total"], [f"{g}.{o}" for o in OUTCOMES[:4]]) for g in REVIEW_GROUPS
    ]


def identities(fmt: str, one_other_row: bool = False) -> list[Identity]:
    return request_identities(fmt, one_other_row) + review_identities()


def _fmt_num(v: float | int) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def run_identity(identity: Identity, metrics: dict[str, object]) -> dict:
    check_id, left, right = identity
    missing = [k for k in left + right if metrics.get(k) is None]
    if missing:
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        return {"id": check_id, "severity": "error", "ok": False,
                "detail": f"cannot verify: no value for {shown}"}
    lsum = sum(metrics[k] for k in left)  # type: ignore[misc]
    rsum = sum(metrics[k] for k in right)  # type: ignore[misc]
    detail = (
        "+".join(_fmt_num(metrics[k]) for k in left)  # type: ignore[arg-type]
        + (" = " if lsum == rsum else " ≠ ")
        + "+".join(_fmt_num(metrics[k]) for k in right)  # type: ignore[arg-type]
    )
    return {"id": check_id, "severity": "error", "ok": lsum == rsum, "detail": detail}


def non_negative(metrics: dict[str, object]) -> dict:
    bad = [
        f"{k}={v}" for k, v in metrics.items()
        if isinstance(v, int | float) and v < 0 and k.rsplit(".", 1)[-1] not in SIGNED_COLUMNS
    ]
    return {"id": "values.non_negative", "severity": "error", "ok": not bad,
            "detail": "all counts ≥ 0" if not bad else "negative: " + ", ".join(bad[:5])}


def one_other_row(fmt: str, metrics: dict[str, object]) -> bool:
    """Whether a 2021 record carries table 三's （六）其他处理 as a single row."""
    return fmt == "2021" and "requests.other_handling.total" in metrics


def identity_checks(fmt: str, metrics: dict[str, object]) -> list[dict]:
    checks = [run_identity(i, metrics) for i in identities(fmt, one_other_row(fmt, metrics))]
    checks.append(non_negative(metrics))
    return checks


