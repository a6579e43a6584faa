"""A table's two downloads side by side: CSV (the table as shown) and the report workbook."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app_ui.labels import t
from pools.csv_safe import neutralised_frame
from pools.report_book import XLSX_MIME


def csv_and_report(table: pd.DataFrame, workbook: Callable[[], bytes], stem: str) -> None:
    """导出 CSV and 导出 Excel for `table`, files named `stem`.csv / .xlsx; the workbook is
    made only when its button is clicked."""
    first, second = st.columns(2)
    first.download_button(
        t("export_csv"),
        lambda: neutralised_frame(table).to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{stem}_csv",
    )
    second.download_button(
        t("export_xlsx"), workbook, file_name=f"{stem}.xlsx", mime=XLSX_MIME, key=f"{stem}_xlsx"
    )
