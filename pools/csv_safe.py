"""CSV cells a spreadsheet will not run: the one rule for every CSV the product writes.

A spreadsheet opening a CSV treats a cell starting with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK(...)`, `@SUM(...)`, `-2+3+cmd|...`), and a leading tab or carriage return can
hide one. Following OWASP's CSV injection guidance, such a **text** cell is written with a
single quote in front (`'=HYPERLINK(...)`), which a spreadsheet shows as the text itself.
Numbers are never touched: a negative number in a numeric column stays a number, and text
that does not start with one of these characters is written as it is, so a normal plan.csv
is byte for byte what it was.

`neutralised` is the rule for one text; `neutralised_frame` applies it to the text cells of
a DataFrame before `to_csv`; `neutralised_arrow` to an Arrow string column (plan.csv's
column-wise writer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def neutralised(text: str) -> str:
    """The text as a spreadsheet shows it rather than runs it."""
    return PREFIX + text if text.startswith(FORMULA_STARTS) else text


def neutralised_cell(value: Any) -> Any:
    """A cell of any type: only text is changed."""
    return neutralised(value) if isinstance(value, str) else value


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and text headers) are neutralised; numeric columns as they are."""
    import pandas as pd

    out = frame.copy()
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            out.isetitem(position, values.map(neutralised_cell, na_action="ignore").to_numpy())
    out.columns = [neutralised_cell(column) for column in out.columns]
    return out


def neutralised_arrow(texts: pa.Array) -> pa.Array:
    """An Arrow string array with every formula-looking text neutralised."""
    import pyarrow.compute as pc

    needs = pc.fill_null(pc.match_substring_regex(texts, _FORMULA_PATTERN), False)
    if not pc.any(needs).as_py():
        return texts
    return pc.if_else(needs, pc.binary_join_element_wise(PREFIX, texts, ""), texts)
