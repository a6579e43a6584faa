"""The ledger's own rules (SPEC 4: every event attributable; state at a date is a prefix):
every write names its actor, effective dates never go backwards, and every write is sealed
with the chain key the ledger was created with (SPEC 3.6, issue 13)."""

from __future__ import annotations

from datetime import date

from pools.rules.violations import Violation

# The dates a ledger can mean: nothing before the People's Republic's staffing records, nothing
# so far ahead that a term or a warning window added to it leaves the calendar (SPEC 4).
EARLIEST_DAY = date(1949, 1, 1)
LATEST_DAY = date(2200, 12, 31)


def actor_named(actor: str) -> Violation | None:
    """Every write names its actor (操作人)."""
    if actor.strip():
        return None
    return Violation("ledger.actor", "every write names its actor", "每次操作须注明操作人")


def not_backdated(last: date | None, effective: date) -> Violation | None:
    """A write takes effect on or after the ledger's last event: the ledger never goes back."""
    if last is None or effective >= last:
        return None
    return Violation(
        "ledger.backdated",
        f"effective date {effective} is before the ledger's last event ({last}); "
        "the ledger never goes back in time",
        f"生效日期 {effective} 早于台账最后一笔（{last}），不能倒签",
    )


def day_in_range(field: str, day: date) -> Violation | None:
    """A date given to the ledger lies between 1949 and 2200: beyond that it is a typing
    error, and arithmetic on it (a term, a warning window) would leave the calendar."""
    if EARLIEST_DAY <= day <= LATEST_DAY:
        return None
    return Violation(
        "ledger.date_range",
        f"{field} {day} is outside the dates a ledger can mean ({EARLIEST_DAY} to {LATEST_DAY})",
        f"{field} {day} 超出台账可用日期范围（{EARLIEST_DAY} 至 {LATEST_DAY}）",
    )


def not_future_dated(recorded: date, effective: date, max_days: int) -> Violation | None:
    """A write takes effect at most `max_days` (the setting `max_future_days`) after the day
    it is recorded: one write dated decades ahead would otherwise freeze the ledger, since no
    later write may go back before it."""
    if (effective - recorded).days <= max_days:
        return None
    return Violation(
        "ledger.future_dated",
        f"effective date {effective} is more than {max_days} days after today ({recorded}); "
        "a write cannot take effect that far ahead",
        f"生效日期 {effective} 晚于今天（{recorded}）超过 {max_days} 天，不能预签",
    )


# The envelope's text columns and their lengths (pools.storage: String(200) on PostgreSQL;
# SQLite would store any length, so the ledger checks before either database sees it).
TEXT_LIMITS = {"--key": 200, "--actor": 200, "--doc": 200, "--reason": 10_000}


def text_storable(field: str, text: str) -> Violation | None:
    """Text the ledger stores (key, actor, 文号, reason) has no NUL byte and fits its column."""
    if "\x00" in text:
        return Violation(
            "input.nul_byte",
            f"{field} contains a NUL byte, which the ledger cannot store",
            f"{field} 含有 NUL 字符，无法保存",
        )
    limit = TEXT_LIMITS.get(field)
    if limit is not None and len(text) > limit:
        return Violation(
            "input.too_long",
            f"{field} is {len(text)} characters long; at most {limit} are stored",
            f"{field} 长 {len(text)} 个字符，最多 {limit} 个",
        )
    return None


def chain_key_matches(recorded: str | None, used: str, given: bool) -> Violation | None:
    """A write is sealed with the key whose fingerprint the first event recorded (`recorded`;
    None for a legacy ledger: nothing to check). `used` is the fingerprint of the key at hand,
    `given` whether a key was given at all (else the demo key is at hand)."""
    if recorded is None or recorded == used:
        return None
    if not given:
        return Violation(
            "ledger.wrong_key",
            "this ledger was created with its own chain key and none was given: set "
            "QUOTAPOOL_LEDGER_KEY (or --chain-key-file); nothing was written",
            "本台账使用专用链密钥，未提供密钥：请设置 QUOTAPOOL_LEDGER_KEY；未写入任何内容",
        )
    return Violation(
        "ledger.wrong_key",
        f"the chain key given (fingerprint {used[:12]}…) is not the one this ledger is sealed "
        f"with (fingerprint {recorded[:12]}…); nothing was written",
        f"链密钥（指纹 {used[:12]}…）与本台账当前的密钥（指纹 {recorded[:12]}…）不符；"
        "未写入任何内容",
    )


def key_rotation_allowed(current: str | None, new: str, demo: str) -> Violation | None:
    """A key rotation names a key other than the one in use, and never the public demo key
    (`demo`: its fingerprint): a ledger may leave demo mode this way, not enter it."""
    if new == demo:
        return Violation(
            "ledger.key_rotation",
            "a ledger cannot be moved onto the built-in, public demo key; nothing was written",
            "不能把台账改用公开的演示密钥；未写入任何内容",
        )
    if new == current:
        return Violation(
            "ledger.key_rotation",
            "the new chain key is the key already in use; nothing was written",
            "新链密钥与当前密钥相同；未写入任何内容",
        )
    return None


CORRECTABLE_FIELDS = ("document", "reason")
_FIELD_ZH = {"document": "文号", "reason": "事由"}


def correction_allowed(
    target: int, last_seq: int, field: str, old: str, current: str, new: str
) -> Violation | None:
    """A correction names an event already recorded (`target` ≤ `last_seq`), a field that may
    be corrected (文号 or reason: what happened is corrected by the commands that make it
    happen, never by rewriting), the value it replaces as the ledger now holds it
    (`current`), and a new value that differs."""
    if not 1 <= target <= last_seq:
        return Violation(
            "ledger.correction",
            f"there is no event {target} to correct (the ledger has {last_seq})",
            f"不存在第 {target} 条记录（台账共 {last_seq} 条）",
        )
    if field not in CORRECTABLE_FIELDS:
        return Violation(
            "ledger.correction",
            f"only the document number or the reason of an event can be corrected, not {field}",
            f"只能更正记录的文号或事由，不能更正 {field}",
        )
    zh = _FIELD_ZH[field]
    if old != current:
        return Violation(
            "ledger.correction",
            f"event {target}'s {field} is {current!r} now, not {old!r}",
            f"第 {target} 条记录的{zh}现为 {current!r}，不是 {old!r}",
        )
    if new == current:
        return Violation(
            "ledger.correction",
            f"event {target}'s {field} is already {new!r}: nothing to correct",
            f"第 {target} 条记录的{zh}已是 {new!r}，无需更正",
        )
    return None


def legacy_key_seals(sealed: bool) -> Violation | None:
    """A ledger made before key fingerprints were recorded is written only under a key that
    reproduces the hash of its last event (`sealed`)."""
    if sealed:
        return None
    return Violation(
        "ledger.wrong_key",
        "the chain key given does not reproduce the hash of this ledger's last event: it is "
        "not the key the ledger is sealed with; nothing was written",
        "所给链密钥无法复现本台账最后一条记录的哈希，不是本台账的密钥；未写入任何内容",
    )


def late_entry_allowed(started: date | None, effective: date, reason: str) -> Violation | None:
    """A late entry (补录) says why it is late and takes effect on a day the ledger covers:
    not before its first event. (A day on or after the last event's is no late entry: the
    write is then simply dated, see `not_backdated`.)"""
    if not reason.strip():
        return Violation(
            "ledger.late_entry",
            "a late entry says why it is recorded late (--late-entry REASON)",
            "补录须说明补录原因（--late-entry 原因）",
        )
    if started is not None and effective < started:
        return Violation(
            "ledger.late_entry",
            f"effective date {effective} is before the ledger began ({started}): "
            "nothing can take effect there",
            f"生效日期 {effective} 早于台账建立之日（{started}），不能补录",
        )
    return None


def late_entry_covers(window: tuple[str, str] | None, recorded_at: str, effective: str) -> bool:
    """Whether an event dated before the ledger's last event is part of a late entry: it
    follows the `entry_backdated` event of its own write (`window`: that write's recorded
    time and the entry's date) and carries that date."""
    return window is not None and window == (recorded_at, effective)


def as_of_view_consistent(seq: int, message: str, day: str) -> Violation:
    """A late or reversing entry must leave the ledger consistent at every date, not only as
    it stands now: replayed in the order of effective dates (what `status --as-of` reads),
    event `seq` would break a rule."""
    return Violation(
        "ledger.late_entry_conflict",
        f"with this entry the ledger as of {day} would be inconsistent: event {seq}: "
        f"{message}; nothing was written",
        f"补录后台账截至 {day} 将不一致：第 {seq} 条：{message}；未写入任何内容",
    )
