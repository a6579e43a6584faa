"""The audit trail in the reader's language (issue 8.5): event names, what each event did with
its figures ("在编 46 → 44"), and the recording time in the office's time zone.

One place for these words, used by `quotapool audit log` and the app's audit page, so the two
read alike. The stored events keep their code names and UTC times; only what people read
changes.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE_SETTING = "QUOTAPOOL_TIMEZONE"  # the office's time zone; default Beijing time
DEFAULT_ZONE = "Asia/Shanghai"

EVENT_NAMES: dict[str, tuple[str, str]] = {
    "ledger_initialised": ("建立台账", "ledger created"),
    "unit_registered": ("登记单位", "unit registered"),
    "unit_updated": ("更新单位", "unit updated"),
    "unit_removed": ("撤销单位", "unit removed"),
    "loan_opened": ("开立借用", "loan opened"),
    "loan_returned": ("归还借用", "loan returned"),
    "loan_expired": ("借用到期", "loan expired"),
    "loan_evaluated": ("绩效评估", "loan evaluated"),
    "pool_rebuilt": ("周转池重建", "pool rebuilt"),
    # SPEC 2.7/2.8 (issue 11)
    "useplan_approved": ("批准用编计划", "quota-use plan approved"),
    "useplan_posted": ("核销用编计划", "hires posted to plan"),
    "useplan_lapsed": ("用编计划过期", "quota-use plan lapsed"),
    "useplan_withdrawn": ("撤销用编计划", "quota-use plan withdrawn"),
    "problem_opened": ("登记问题", "problem recorded"),
    "problem_closed": ("问题销号", "problem closed"),
    "chain_key_rotated": ("更换链密钥", "chain key rotated"),
    "record_corrected": ("更正记录", "record corrected"),
    "entry_backdated": ("补录", "late entry"),
    "entry_reversed": ("冲销", "entry reversed"),
}
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "headcount": ("在编", "headcount"),
    "approved": ("核定编制", "approved"),
    "name": ("名称", "name"),
    "region": ("所属区划", "region"),
    "level": ("层级", "level"),
    "kind_": ("编制类型", "kind"),
    "sector": ("行业", "sector"),
    "parent": ("上级单位", "parent"),
}
CAUSES: dict[str, tuple[str, str]] = {
    "vacancy": ("空一还一", "return one when one is vacated"),
    "manual": ("手动归还", "returned by hand"),
    "evaluation": ("评估后归还", "returned after evaluation"),
}
DECISIONS: dict[str, tuple[str, str]] = {
    "extend": ("延期", "extend"),
    "return": ("收回", "return"),
}
POOLS: dict[str, tuple[str, str]] = {
    "admin": ("行政编制周转池", "administrative pool"),
    "institutional": ("事业编制周转池", "institutional pool"),
}


def _word(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    return key if pair is None else pair[0 if lang == "zh" else 1]


def event_name(kind: str, lang: str = "zh") -> str:
    return _word(EVENT_NAMES, kind, lang)


def pool_name(pool: str, lang: str = "zh") -> str:
    if pool.startswith("unit:"):
        return f"单位 {pool[5:]}" if lang == "zh" else f"unit {pool[5:]}"
    return _word(POOLS, pool, lang)


def recorded_local(recorded_at: str) -> str:
    """A stored UTC time as the office reads it: '2026-10-08 17:03:12' in its time zone."""
    try:
        zone = ZoneInfo(os.environ.get(ZONE_SETTING) or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_ZONE)
    try:
        moment = datetime.fromisoformat(recorded_at)
    except ValueError:
        return recorded_at
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def describe(event: dict[str, Any], lang: str = "zh") -> str:
    """What the event did, with its figures, in words."""
    kind, payload = str(event["kind"]), dict(event["payload"])
    zh = lang == "zh"
    if kind == "unit_updated":
        changes = [
            f"{_word(FIELD_NAMES, field, lang)} {old} → {new}"
            for field, (old, new) in payload.get("changes", {}).items()
        ]
        return (
            f"{payload['unit_id']}：" + "，".join(changes)
            if zh
            else (f"{payload['unit_id']}: " + ", ".join(changes))
        )
    describe_kind = _DESCRIBE.get(kind)
    return describe_kind(payload, zh) if describe_kind else ""


def _registered(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"{p['unit_id']} {p['name']}：核定编制 {p['approved']}，在编 {p['headcount']}"
    return f"{p['unit_id']} {p['name']}: approved {p['approved']}, headcount {p['headcount']}"


def _opened(p: dict[str, Any], zh: bool) -> str:
    lang = "zh" if zh else "en"
    pool = pool_name(str(p["pool"]), lang)
    if zh:
        until = f"，至 {p['end']}" if p.get("end") else "，至归还"
        return (
            f"{p['loan_id']}：{pool} → {p['borrower']} {p['count']} 名，用途 {p['purpose']}{until}"
        )
    until = f", until {p['end']}" if p.get("end") else ", until returned"
    return f"{p['loan_id']}: {pool} → {p['borrower']}, {p['count']}, purpose {p['purpose']}{until}"


def _returned(p: dict[str, Any], zh: bool) -> str:
    cause = _word(CAUSES, str(p["cause"]), "zh" if zh else "en")
    if zh:
        return f"{p['loan_id']}：归还 {p['count']} 名（{cause}）"
    return f"{p['loan_id']}: {p['count']} returned ({cause})"


def _evaluated(p: dict[str, Any], zh: bool) -> str:
    decision = _word(DECISIONS, str(p["decision"]), "zh" if zh else "en")
    if zh:
        until = f"，延至 {p['new_end']}" if p.get("new_end") else ""
        return f"{p['loan_id']}：评分 {p['score']}，{decision}{until}"
    until = f" to {p['new_end']}" if p.get("new_end") else ""
    return f"{p['loan_id']}: score {p['score']}, {decision}{until}"


def _rebuilt(p: dict[str, Any], zh: bool) -> str:
    pool = pool_name(str(p["pool"]), "zh" if zh else "en")
    if zh:
        return f"{pool}：容量 {p['capacity']}，本期至 {p['period_end']}"
    return f"{pool}: capacity {p['capacity']}, period until {p['period_end']}"


def _corrected(p: dict[str, Any], zh: bool) -> str:
    field = {"document": ("文号", "document"), "reason": ("事由", "reason")}.get(
        str(p["field"]), (str(p["field"]), str(p["field"]))
    )
    old, new = p["old"] or "—", p["new"] or "—"
    if zh:
        return f"第 {p['seq']} 条记录的{field[0]}：{old} → {new}"
    return f"event {p['seq']}'s {field[1]}: {old} → {new}"


def _backdated(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"以下记录生效日期补录为 {p['effective']}"
    return f"the entries that follow take effect on {p['effective']}"


def _reversed(p: dict[str, Any], zh: bool) -> str:
    what = EVENT_NAMES.get(str(p["target"]), (str(p["target"]), str(p["target"])))
    if zh:
        return f"冲销第 {p['seq']} 条（{what[0]}，{p['loan_id']}，{p['count']} 名）"
    return f"reverses event {p['seq']} ({what[1]}, {p['loan_id']}, {p['count']})"


# ---- SPEC 2.7/2.8 (issue 11): quota-use plans and problems ---------------------------------


def _plan_approved(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return (
            f"{p['plan_id']}：{p['unit_id']} {p['count']} 名，{p['channel']}，"
            f"用途 {p['purpose']}，有效期至 {p['until']}"
        )
    return (
        f"{p['plan_id']}: {p['unit_id']}, {p['count']}, {p['channel']}, purpose {p['purpose']}, "
        f"valid to {p['until']}"
    )


def _plan_figure(zh_word: str, en_word: str) -> Any:
    def describe_it(p: dict[str, Any], zh: bool) -> str:
        if zh:
            return f"{p['plan_id']}：{p['unit_id']} {zh_word} {p['count']} 名"
        return f"{p['plan_id']}: {p['unit_id']}, {p['count']} {en_word}"

    return describe_it


def _problem_opened(p: dict[str, Any], zh: bool) -> str:
    auto = ("（月比对自动登记）" if zh else " (monthly comparison)") if p.get("cause") else ""
    if zh:
        return (
            f"{p['problem_id']}：{p['unit_id']} {p['problem_kind']}，整改期限 {p['deadline']}{auto}"
        )
    return f"{p['problem_id']}: {p['unit_id']} {p['problem_kind']}, deadline {p['deadline']}{auto}"


def _problem_closed(p: dict[str, Any], zh: bool) -> str:
    if p.get("automatic"):
        return (
            f"{p['problem_id']}：{p['unit_id']} 原因已消除，自动销号"
            if zh
            else f"{p['problem_id']}: {p['unit_id']}, cause gone, closed automatically"
        )
    return f"{p['problem_id']}：{p['unit_id']}" if zh else f"{p['problem_id']}: {p['unit_id']}"


_BOOK_DESCRIBE = {
    "useplan_approved": _plan_approved,
    "useplan_posted": _plan_figure("进人核销", "hires posted"),
    "useplan_lapsed": _plan_figure("未使用过期", "unused, lapsed"),
    "useplan_withdrawn": _plan_figure("撤销未使用", "unused, withdrawn"),
    "problem_opened": _problem_opened,
    "problem_closed": _problem_closed,
}


_DESCRIBE = {
    "unit_registered": _registered,
    "unit_removed": lambda p, zh: str(p["unit_id"]),
    "loan_opened": _opened,
    "loan_returned": _returned,
    "loan_expired": lambda p, zh: str(p["loan_id"]),
    "loan_evaluated": _evaluated,
    "pool_rebuilt": _rebuilt,
    "ledger_initialised": lambda p, zh: "台账设置已记录" if zh else "settings recorded",
    **_BOOK_DESCRIBE,
    "record_corrected": lambda p, zh: _corrected(p, zh),
    "entry_backdated": _backdated,
    "entry_reversed": _reversed,
    "chain_key_rotated": lambda p, zh: (
        f"新密钥指纹 {str(p['fingerprint'])[:12]}…"
        if zh
        else f"new key fingerprint {str(p['fingerprint'])[:12]}…"
    ),
}


# ---- teacher quota accounts (SPEC 2.9) ------------------------------------------------------

EVENT_NAMES.update(
    {
        "teacher_county_registered": ("登记教职工编制账户", "teacher account registered"),
        "teacher_plan_started": ("开始应用教师编制方案", "teacher plan started"),
        "teacher_quota_released": ("教职工编制调出", "teacher quota released"),
        "teacher_quota_allocated": ("教职工编制调入", "teacher quota allocated"),
        "teacher_plan_completed": ("完成应用教师编制方案", "teacher plan completed"),
    }
)


def _plan_label(p: dict[str, Any], zh: bool) -> str:
    year = p.get("year")
    if year is None:
        return f"方案 {str(p['plan_id'])[:12]}" if zh else f"plan {str(p['plan_id'])[:12]}"
    return (
        f"方案 {str(p['plan_id'])[:12]}（{year} 年）"
        if zh
        else f"plan {str(p['plan_id'])[:12]} ({year})"
    )


def _teacher_registered(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"{p['county_id']} {p['name']}：教职工编制 {p['quota']}"
    return f"{p['county_id']} {p['name']}: teacher quota {p['quota']}"


def _teacher_started(p: dict[str, Any], zh: bool) -> str:
    counties, total = len(p["current"]), sum(p["current"].values())
    if zh:
        return (
            f"{_plan_label(p, zh)}：{counties} 个区县，现有编制合计 {total}，"
            f"新增编制 {p['extra_quota']}"
        )
    return (
        f"{_plan_label(p, zh)}: {counties} counties, current total {total}, "
        f"extra quota {p['extra_quota']}"
    )


def _teacher_released(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"{p['county_id']} 调出 {p['count']} 名至市级教师编制池（{_plan_label(p, zh)}）"
    return (
        f"{p['county_id']} released {p['count']} to the city's teacher pool ({_plan_label(p, zh)})"
    )


def _teacher_allocated(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"市级教师编制池调入 {p['county_id']} {p['count']} 名（{_plan_label(p, zh)}）"
    return (
        f"{p['count']} allocated to {p['county_id']} from the city's teacher pool "
        f"({_plan_label(p, zh)})"
    )


def _teacher_completed(p: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"{_plan_label(p, zh)}：全市教职工编制 {p['total_before']} → {p['total_after']}"
    return f"{_plan_label(p, zh)}: city teacher total {p['total_before']} → {p['total_after']}"


_DESCRIBE.update(
    {
        "teacher_county_registered": _teacher_registered,
        "teacher_plan_started": _teacher_started,
        "teacher_quota_released": _teacher_released,
        "teacher_quota_allocated": _teacher_allocated,
        "teacher_plan_completed": _teacher_completed,
    }
)
