"""How the app shows figures, in one place (issue 8.8): every table and metric goes through here.

Whole numbers and quotas with thousands separators (1,234), fractional figures (need,
shortfalls) with one decimal (1,234.5), shares as percentages with one decimal (12.3%).
Tables keep their values (AppTest and the table's own CSV export see numbers); only the
display format is set, through `st.column_config`. Shares are shown ×100 with a "%" suffix,
since Streamlit's "percent" format has two decimals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd
import streamlit as st

WHOLE_FORMAT = "%,d"
FRACTION_FORMAT = "%,.1f"
PERCENT_FORMAT = "%,.1f%%"


def whole(value: Any) -> str:
    """A count or quota: 1,234."""
    return f"{int(value):,}"


def fraction(value: Any) -> str:
    """A need or shortfall: 1,234.5."""
    return f"{float(value):,.1f}"


def percent(share: Any) -> str:
    """A share (0.123) as a percentage: 12.3%."""
    return f"{float(share):.1%}"


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def table_config(
    frame: pd.DataFrame,
    *,
    fractions: Collection[str] = (),
    percents: Collection[str] = (),
    plain: Collection[str] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Column settings for `frame`: numbers whole unless listed as fractions or percentages
    (already ×100, see `as_percent`); ids such as years in `plain`; `labels` name columns."""
    labels = labels or {}
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {}
    for column in frame.columns:
        label = labels.get(column)
        if column in plain or not _is_number(frame[column]):
            if label is not None:
                config[column] = st.column_config.Column(label)
            continue
        shown = (
            PERCENT_FORMAT
            if column in percents
            else FRACTION_FORMAT
            if column in fractions
            else WHOLE_FORMAT
        )
        config[column] = number(label, format=shown)
    return config


def as_percent(frame: pd.DataFrame, columns: Collection[str]) -> pd.DataFrame:
    """Shares turned into percentages (×100) for display with `PERCENT_FORMAT`."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c] * 100 for c in present}) if present else frame


def show_table(
    frame: pd.DataFrame,
    *,
    fractions: Collection[str] = (),
    percents: Collection[str] = (),
    plain: Collection[str] = (),
    labels: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    **options: Any,
) -> None:
    """`st.dataframe` with the app's number formats (`config` adds or overrides columns)."""
    settings = table_config(
        frame, fractions=fractions, percents=percents, plain=plain, labels=labels
    )
    settings.update(config or {})
    shown = as_percent(frame, percents)
    st.dataframe(shown, hide_index=True, column_config=settings, **options)
