"""Messages from the domain packages in the app's language (issue 8.6).

Input errors (`pools.tabular.InputError`, also raised by `optimizer.io` and
`optimizer.scenario`) and ledger alerts (`pools.state.State.alerts`) carry English messages,
some with a Chinese gloss, as the command line prints them. The app shows them in the
language picked: each known message pattern has a Chinese and an English wording that keep
its figures, names, file, row and column. A message that matches no pattern is shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app_ui.labels import lang, t, t_or
from pools.tabular import InputError, InputErrors


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    zh: str
    en: str | None = None  # None: the English message as it is

    def wording(self, message: str) -> str | None:
        found = self.regex.fullmatch(message)
        if found is None:
            return None
        fields = {k: _field(k, v) for k, v in found.groupdict().items()}
        template = self.zh if lang() == "zh" else self.en
        return message if template is None else template.format(**fields)


def _field(name: str, value: str) -> str:
    """Pool codes in the message become the pool's name in the app's language."""
    return t_or(f"pool_{value}", value) if name == "pool" else value


def _p(regex: str, zh: str, en: str | None = None) -> Pattern:
    return Pattern(re.compile(regex), zh, en)


INPUT_PATTERNS = (
    _p(r"is empty", "为空"),
    _p(r"'(?P<v>.*)' is not one of (?P<ok>.*)", "“{v}”不是可选值之一（{ok}）"),
    _p(r"'(?P<v>.*)' is not a whole number", "“{v}”不是整数"),
    _p(
        r"'(?P<v>.*)' is not a whole number \(ASCII digits, thousands separated by commas, "
        r"e\.g\. 5,950\)",
        "“{v}”不是整数（请用半角数字，千位可用逗号分隔，如 5,950）",
    ),
    _p(r"'(?P<v>.*)' is above the largest count (?P<max>\S+)", "“{v}”超过允许的最大数 {max}"),
    _p(r"… and (?P<n>\S+) more problems", "……另有 {n} 处问题未列出"),
    _p(r"'(?P<v>.*)' is not a number", "“{v}”不是数字"),
    _p(
        r"'(?P<v>.*)' is not a number \(ASCII digits, e\.g\. 0\.05\)",
        "“{v}”不是数字（请用半角数字，如 0.05）",
    ),
    _p(r"(?P<n>\S+) is below the minimum (?P<min>\S+)", "{n} 小于最小值 {min}"),
    _p(
        r"column '(?P<c>.*)' appears twice \('(?P<a>.*)' and '(?P<b>.*)'\)",
        "列“{c}”出现了两次（“{a}”和“{b}”）",
    ),
    _p(
        r"missing column '(?P<c>.*)' \(accepted headers: (?P<ok>.*)\)",
        "缺少列“{c}”（可用表头：{ok}）",
    ),
    _p(r"file not found: (?P<path>.*)", "找不到文件：{path}"),
    _p(r"scenario file not found: (?P<path>.*)", "找不到方案文件：{path}"),
    _p(
        r"old \.xls workbooks are not read; save as \.xlsx or CSV",
        "不读取旧版 .xls 工作簿，请另存为 .xlsx 或 CSV",
    ),
    _p(r"cannot be read as a table: (?P<d>.*)", "无法作为表格读取：{d}"),
    _p(r"cannot be read: (?P<d>.*)", "无法读取：{d}"),
    _p(r"is not valid TOML: (?P<d>.*)", "不是有效的 TOML：{d}"),
    _p(r"the file is empty", "文件为空"),
    _p(r"cannot be decoded as UTF-8 or GBK text", "无法按 UTF-8 或 GBK 编码读取"),
    _p(
        r"duplicate (?P<c>\S+) '(?P<v>.*)' \(first seen in row (?P<r>\d+)\)",
        "{c}“{v}”重复（第 {r} 行已出现）",
    ),
    _p(r"has no county rows", "没有区县数据行"),
    _p(r"has no enrolment rows", "没有在校生数据行"),
    _p(
        r"attrition (?P<a>\S+) is more than the (?P<o>\S+) teachers in post",
        "预计减员 {a} 多于在编人数 {o}",
    ),
    _p(
        r"year is empty while other rows give one \(fill in every year or none\)",
        "年度为空，而其他行填写了年度（请全部填写或全部不填）",
    ),
    _p(r"county '(?P<c>.*)' is not in (?P<f>.*)", "区县“{c}”不在 {f} 中"),
    _p(
        r"is empty, but the scenario's standards depend on the county class \(.*\)",
        "为空，但该方案的编制标准按城乡类别（城市/县镇/农村）区分",
        "is empty, but the scenario's standards depend on the county class (urban/town/rural)",
    ),
    _p(r"unknown key '(?P<k>.*)' \(allowed: (?P<ok>.*)\)", "未知的键“{k}”（可用：{ok}）"),
    _p(r"must be a non-empty text, got (?P<v>.*)", "应为非空文字，实际为 {v}"),
    _p(
        r"must be a number \(students or staff\), got (?P<v>.*)",
        "应为数字（学生数或教职工数），实际为 {v}",
    ),
    _p(r"must be greater than 0, got (?P<v>.*)", "应大于 0，实际为 {v}"),
    _p(
        r"headers found on row (?P<r>\d+) \(rows above them skipped\)",
        "表头在第 {r} 行（其上各行已跳过）",
    ),
    _p(
        r"no row among the first (?P<n>\d+) has every required column \((?P<c>.*)\); "
        r"the closest is row (?P<r>\d+)",
        "前 {n} 行中没有一行包含全部必填列（{c}）；最接近的是第 {r} 行",
    ),
    _p(r"is empty while the level's classes are given", "已填写班级数，但在校生数为空"),
    _p(r"totals row '(?P<v>.*)' left out", "合计行“{v}”已跳过"),
)

# "…; did you mean 'a' or 'b'?" ends many input errors: the rest is translated by its own
# pattern and the suggestion follows in the app's language.
_SUGGESTION = re.compile(r"(?P<message>.*); did you mean (?P<options>.*)\?", re.S)

ALERT_PATTERNS = (
    _p(
        r"(?P<u>\S+) (?P<name>.*): (?P<h>\d+) on own quota, limit (?P<l>\d+); may only lose "
        r"people \(.*\)",
        "{u} {name}：本单位编制上 {h} 人，限额 {l}；超编，只出不进",
        "{u} {name}: {h} on own quota, limit {l}; may only lose people",
    ),
    _p(
        r"loan (?P<loan>\S+) to (?P<u>\S+) ended on (?P<end>\S+) and awaits its performance "
        r"evaluation \(.*\)",
        "借用 {loan}（借用单位 {u}）已于 {end} 到期，待绩效评估",
        "loan {loan} to {u} ended on {end} and awaits its performance evaluation",
    ),
    _p(
        r"loan (?P<loan>\S+) to (?P<u>\S+) ends on (?P<end>\S+) \(.*\)",
        "借用 {loan}（借用单位 {u}）将于 {end} 到期",
        "loan {loan} to {u} ends on {end}",
    ),
    _p(
        r"(?P<pool>\S+) pool capacity (?P<c>\d+) is below the (?P<l>\d+) lent; no new loans "
        r"until it recovers \(.*\)",
        "{pool}容量 {c} 低于已借出的 {l}；恢复前不再出借",
        "{pool}: capacity {c} is below the {l} lent; no new loans until it recovers",
    ),
    _p(
        r"municipal administrative organs as a whole are over quota; the administrative pool "
        r"lends nothing \(.*\)",
        "市级行政机关总体超编，行政编制周转池暂停出借",
        "municipal administrative organs as a whole are over quota; the administrative pool "
        "lends nothing",
    ),
    _p(
        r"institutional pool period ended on (?P<end>\S+); rebuild it \(.*\)",
        "事业编制周转池本期已于 {end} 到期，请重建",
        "institutional pool period ended on {end}; rebuild it",
    ),
    _p(
        r"(?P<u>\S+): (?P<n>\d+) hired without an open quota-use plan \(.*\)",
        "{u}：无计划进人 {n} 名",
        "{u}: {n} hired without an open quota-use plan",
    ),
)


def translate(message: str, patterns: tuple[Pattern, ...]) -> str:
    suggested = _SUGGESTION.fullmatch(message)
    if suggested is not None:
        options = suggested["options"]
        main = translate(suggested["message"], patterns)
        if lang() == "zh":
            return f"{main}；是否应为 {options.replace(' or ', '、')}？"
        return f"{main}; did you mean {options}?"
    for pattern in patterns:
        wording = pattern.wording(message)
        if wording is not None:
            return wording
    return message


def input_error_text(error: InputError) -> str:
    """One input error in the app's language: file, row and column, then what is wrong."""
    message = translate(error.message, INPUT_PATTERNS)
    if lang() == "en":
        return str(InputError(error.file, message, error.row, error.column))
    where = [error.file]
    if error.row is not None:
        where.append(f"第 {error.row} 行")
    if error.column is not None:
        where.append(f"列“{error.column}”")
    return f"{'，'.join(where)}：{message}"


def input_errors_report(errors: InputErrors) -> str:
    """The whole report, as `InputErrors.report` lays it out, in the app's language."""
    head = t("input_problems").format(count=len(errors.errors))
    return "\n".join([head, *(f"  {input_error_text(error)}" for error in errors.errors)])


def alert_text(alert: dict[str, Any]) -> str:
    return translate(str(alert["message"]), ALERT_PATTERNS)


def show_input_errors(errors: InputErrors, headline: str | None = None) -> None:
    """Why input was rejected: a headline, then every problem with its file, row and column."""
    import streamlit as st

    st.error(headline or t("input_rejected"))
    st.code(input_errors_report(errors))
