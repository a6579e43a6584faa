"""Every CSV the product writes neutralises formula-looking text (OWASP CSV injection), and
only text: numbers, negative ones too, stay numbers; normal data is written as before."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import output, sweep_cli
from pools.csv_safe import neutralised, neutralised_frame

FORMULA = '=HYPERLINK("http://example.invalid/x","click")'


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("东湖区", "东湖区"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_text_starting_like_a_formula_is_quoted(text: str, written: str) -> None:
    assert neutralised(text) == written


def hostile_plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_id": pd.array(["A", "@B"], dtype="str"),
            "name": pd.array([FORMULA, "西岭区"], dtype="str"),
            "change": np.array([-5, 5], dtype=np.int64),
            "need": [-1.5, 2.0],
            "note": ["-3", 4],  # an object column: only its text is text
        }
    )


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_plan_csv_neutralises_text_and_keeps_negative_numbers(tmp_path: Path) -> None:
    output.write_csv(hostile_plan(), tmp_path / "plan.csv")
    written = rows((tmp_path / "plan.csv").read_bytes())
    assert written[1] == ["A", "'" + FORMULA, "-5", "-1.5", "'-3"]
    assert written[2] == ["'@B", "西岭区", "5", "2", "4"]


def test_the_apps_plan_download_neutralises_a_county_named_like_a_formula() -> None:
    from app_ui import scenarios

    plan = hostile_plan().assign(
        current=[10, 20],
        new=[5, 25],
        shortfall_before=[0.0, 1.0],
        shortfall_after=[0.0, 0.0],
        limited_by=["cap", "floor"],
    )
    written = rows(scenarios.plan_csv(plan))
    assert written[1][:2] == ["A", "'" + FORMULA]
    assert "-5" in written[1]  # the change, a number
    assert not any(cell.startswith(("=", "+", "@")) for row in written for cell in row)


def test_the_sweeps_csv_neutralises_text_and_keeps_negative_numbers(tmp_path: Path) -> None:
    sweep_cli._write_csv(hostile_plan(), tmp_path / "distribution.csv")
    written = rows((tmp_path / "distribution.csv").read_bytes())
    assert written[1] == ["A", "'" + FORMULA, "-5", "-1.5", "'-3"]


def test_a_frame_without_formula_text_is_written_as_pandas_writes_it() -> None:
    frame = hostile_plan().iloc[1:].assign(county_id="B", note=[4])
    assert neutralised_frame(frame).to_csv(index=False) == frame.to_csv(index=False)
