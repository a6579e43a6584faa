"""plan.csv a column at a time: the bytes `DataFrame.to_csv` writes, without its row loop.

`plan.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")` took 2.5–4 s
for 200,000 rows. The same text is made here column by column (Arrow string kernels; floats
through the same "%.10g" formatting): integers as written, floats by "%.10g" with NaN empty,
missing values empty, booleans True/False, other objects by str(); a field that holds the
delimiter, the quote or the line end is quoted, its quotes doubled (the csv module's
QUOTE_MINIMAL, which pandas uses); lines end in os.linesep, as pandas ends them. Text cells
and headers that a spreadsheet would run as a formula are neutralised (`pools.csv_safe`);
numbers never are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from optimizer.xlsx_body import concatenated
from pools.csv_safe import neutralised_arrow, neutralised_cell

BOM = "\ufeff".encode()  # Excel on zh-CN then opens the UTF-8 file with its Chinese intact
FLOAT_FORMAT = "%.10g"
CHUNK_ROWS = 50_000
_NEEDS_QUOTES = "[" + re.escape(',"' + os.linesep) + "]"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """What frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")
    writes, byte for byte."""
    with open(path, "wb") as out:
        out.write(BOM)
        for chunk in csv_chunks(frame):
            out.write(chunk)


def csv_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    single = frame.shape[1] == 1
    headers = [neutralised_cell(str(column)) for column in frame.columns]
    header = _quoted(pa.array(headers, type=pa.string()), single)
    yield (",".join(header.to_pylist()) + os.linesep).encode()
    for start in range(0, len(frame), CHUNK_ROWS):
        rows = frame.iloc[start : start + CHUNK_ROWS]
        fields = [_quoted(_texts(rows.iloc[:, index]), single) for index in range(rows.shape[1])]
        lines = pc.binary_join_element_wise(*fields, ",")
        yield concatenated(pc.binary_join_element_wise(lines, os.linesep, ""))


def _texts(values: pd.Series) -> pa.Array:
    """Each field's text before quoting; "" where the value is missing."""
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if kind in ("i", "u"):
        return pc.cast(pa.array(values.to_numpy()), pa.string())
    if kind == "f":
        floats = values.to_numpy()
        missing = np.isnan(floats)
        texts = [FLOAT_FORMAT % value for value in floats.tolist()]
        return pc.if_else(pa.array(missing), "", pa.array(texts, type=pa.string()))
    if kind == "b":
        return pc.if_else(pa.array(values.to_numpy()), "True", "False")
    if not isinstance(dtype, np.dtype) and pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(values, from_pandas=True), pa.string()).fill_null("")
    if not isinstance(dtype, np.dtype) and pd.api.types.is_string_dtype(dtype):
        texts = pc.cast(pa.array(values, from_pandas=True), pa.string()).fill_null("")
        return neutralised_arrow(texts)
    if not isinstance(dtype, np.dtype) and pd.api.types.is_float_dtype(dtype):
        return _texts(values.astype(float))
    missing = values.isna().to_numpy()
    texts = [
        "" if gone else str(neutralised_cell(value))
        for value, gone in zip(values, missing, strict=True)
    ]
    return pa.array(texts, type=pa.string())


def _quoted(texts: pa.Array, single: bool) -> pa.Array:
    """QUOTE_MINIMAL: quote a field holding ',', '"' or the line end, doubling its quotes
    (and, as the csv module does, a lone empty field on its line)."""
    needs = pc.match_substring_regex(texts, _NEEDS_QUOTES)
    if single:
        needs = pc.or_(needs, pc.equal(texts, ""))
    if not pc.any(needs).as_py():
        return texts
    doubled = pc.replace_substring(texts, '"', '""')
    return pc.if_else(needs, pc.binary_join_element_wise('"', doubled, '"', ""), texts)
