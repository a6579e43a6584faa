"""The inputs of a sweep's spread (SPEC 2.11): the scenario's [uncertainty] table and the
optional `relative_error` [相对误差] column of the counties file."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.io import read_counties
from optimizer.scenario import Uncertainty, load_scenario
from pools.tabular import InputErrors

MINIMAL = 'counties = "c.csv"\nenrolment = "e.csv"\n'
COUNTIES = "county_id,name,quota,occupied\nA,East,100,90\nB,West,80,80\n"


def scenario(tmp_path: Path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def counties(tmp_path: Path, text: str):
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    return read_counties(path)


def test_without_the_table_a_scenario_has_no_uncertainty(tmp_path: Path) -> None:
    assert scenario(tmp_path, MINIMAL).uncertainty is None


def test_the_table_gives_the_relative_error(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, MINIMAL + "[uncertainty]\nrelative_error = 0.05\n")
    assert loaded.uncertainty == Uncertainty(relative_error=0.05)
    assert scenario(tmp_path, MINIMAL + "[uncertainty]\n").uncertainty == Uncertainty()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[uncertainty]\nrelative_error = -0.1\n", "uncertainty.relative_error"),
        ("[uncertainty]\nrelative_error = 1.5\n", "uncertainty.relative_error"),
        ('[uncertainty]\nrelative_error = "5%"\n', "uncertainty.relative_error"),
        ("[uncertainty]\nrelative_error = true\n", "uncertainty.relative_error"),
        ("[uncertainty]\nsigma = 0.1\n", "uncertainty.sigma"),
        ("uncertainty = 0.05\n", "uncertainty"),
    ],
)
def test_bad_tables_name_the_key(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(InputErrors) as caught:
        scenario(tmp_path, MINIMAL + table)
    assert [error.column for error in caught.value.errors] == [key]


def test_a_counties_file_without_the_column_reads_as_before(tmp_path: Path) -> None:
    frame, errors = counties(tmp_path, COUNTIES)
    assert not errors and "relative_error" not in frame.columns


def test_the_column_in_chinese_with_empty_cells(tmp_path: Path) -> None:
    text = "区划代码,区划名称,教职工编制,在编人数,相对误差\nA,东,100,90,0.1\nB,西,80,80,\n"
    frame, errors = counties(tmp_path, text)
    assert not errors
    assert frame["relative_error"].iloc[0] == 0.1 and frame["relative_error"].isna().iloc[1]


@pytest.mark.parametrize("value", ["-0.1", "2", "abc"])
def test_bad_cells_name_row_and_column(tmp_path: Path, value: str) -> None:
    text = f"county_id,name,quota,occupied,relative_error\nA,East,100,90,{value}\n"
    _, errors = counties(tmp_path, text)
    assert [(e.row, e.column) for e in errors] == [(2, "relative_error [相对误差]")]
