"""`quotapool project ...` and scenarios with [projection]: files, exit codes, plans by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.io import read_counties, read_enrolment
from optimizer.plan import make_plan
from optimizer.scenario import load_inputs, load_plan_inputs, load_scenario
from pools.tabular import InputErrors
from quotapool import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "teachers"


def test_project_enrolment_on_the_bundled_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "enrolment.csv"
    status = main(
        [
            *("project", "enrolment", "--history", str(SAMPLE / "enrolment_history.csv")),
            *("--births", str(SAMPLE / "births.csv"), "--years", "5", "--out", str(out)),
            *("--grades-out", str(tmp_path / "grades.xlsx"), "--json"),
        ]
    )
    assert status == 0
    document = json.loads(capsys.readouterr().out)  # exactly one JSON document
    assert document["years"] == [2027, 2028, 2029, 2030, 2031]
    assert document["inputs"]["history"]["sha256"]
    enrolment, errors = read_enrolment(out)
    assert errors == []
    assert len(enrolment) == 10 * 3 * 5
    assert (tmp_path / "grades.xlsx").is_file()
    primary = [row for row in document["totals"] if row["level"] == "primary"]
    assert primary[-1]["students"] < primary[0]["students"]  # the falling birth cohort


def test_bad_history_exits_2_naming_the_place_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = pd.read_csv(SAMPLE / "enrolment_history.csv", encoding="utf-8-sig", dtype=str)
    history = history.drop(index=[5])  # county 339902, grade 1, year 2025
    history.to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "out.csv"
    args = ["project", "enrolment", "--history", str(tmp_path / "h.csv"), "--years", "3"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    where = "h.csv, row 2, column 'grade [年级]'"
    assert f"{where}: county '339902', year 2025: no row for grade 1" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "h.csv"]  # no temporary file left behind


def test_project_departures_updates_the_counties_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, counties_out = tmp_path / "departures.csv", tmp_path / "counties.csv"
    status = main(
        [
            *("project", "departures", "--roster", str(SAMPLE / "roster.csv")),
            *("--from", "2027-01-01", "--years", "5", "--out", str(out)),
            *("--counties", str(SAMPLE / "counties.csv"), "--counties-out", str(counties_out)),
            *("--rate-history", str(SAMPLE / "departures_history.csv"), "--json"),
        ]
    )
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    per_year = pd.read_csv(out, encoding="utf-8-sig", dtype={"county_id": str})
    counties, errors = read_counties(counties_out)
    assert errors == []
    by_county = per_year.groupby("county_id")["attrition"].sum()
    assert counties.set_index("county_id")["attrition"].to_dict() == by_county.to_dict()
    assert sum(row["attrition"] for row in document["totals"]) == by_county.sum()
    assert document["method"]["other_rate"] == "estimated from history"


def test_output_may_not_overwrite_an_input(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes((SAMPLE / "roster.csv").read_bytes())
    args = ["project", "departures", "--roster", str(roster), "--from", "2027-01-01"]
    assert main([*args, "--years", "1", "--out", str(roster)]) == 2
    assert roster.read_bytes() == (SAMPLE / "roster.csv").read_bytes()


# --- scenarios -------------------------------------------------------------------------------


def write_scenario(folder: Path, text: str) -> Path:
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_cannot_give_enrolment_and_projection(tmp_path: Path) -> None:
    text = 'counties = "c.csv"\nenrolment = "e.csv"\n[projection]\nhistory = "h.csv"\n'
    text += "years = 0\nother_rate = 0.1\nspeed = 1\n"
    with pytest.raises(InputErrors) as caught:
        load_scenario(write_scenario(tmp_path, text))
    assert sorted(str(e) for e in caught.value.errors) == [
        "s.toml, column 'enrolment': give either enrolment or [projection], not both",
        "s.toml, column 'projection.roster': missing: other departures need a roster",
        "s.toml, column 'projection.speed': unknown key 'projection.speed' (allowed: history, "
        "births, roster, years, window, start, other_rate, departures_history, levels)",
        "s.toml, column 'projection.years': must be a whole number of 1 or more, got 0",
    ]


def test_scenario_levels_for_the_five_four_system(tmp_path: Path) -> None:
    """五四制: primary grades 1–5, junior 6–9. The same history then gives primary = the sum
    of grades 1–5 and junior = grades 6–9."""
    text = (
        f'counties = "{SAMPLE / "counties.csv"}"\n[projection]\n'
        f'history = "{SAMPLE / "enrolment_history.csv"}"\nyears = 2\n'
        "levels = { primary = [1, 5], junior = [6, 9], senior = [10, 12] }\n"
    )
    _, five_four = load_inputs(load_scenario(write_scenario(tmp_path, text)))
    _, six_three = load_inputs(
        load_scenario(write_scenario(tmp_path, text.replace("levels =", "# levels =")))
    )
    totals = [e.groupby("level")["students"].sum() for e in (five_four, six_three)]
    assert totals[0]["primary"] < totals[1]["primary"]
    assert totals[0]["junior"] > totals[1]["junior"]
    assert totals[0]["primary"] + totals[0]["junior"] == totals[1]["primary"] + totals[1]["junior"]
    bad = text.replace("[6, 9]", "[7, 9]")
    with pytest.raises(InputErrors) as caught:
        load_scenario(write_scenario(tmp_path, bad))
    assert "projection.levels" in str(caught.value)


def test_json_rejection_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["project", "enrolment", "--history", str(tmp_path / "missing.csv"), "--years", "1"]
    assert main([*args, "--out", str(tmp_path / "o.csv"), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["errors"][0]["message"].startswith("file not found")


def test_departures_by_unit_and_mismatched_counties(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "工号,单位代码,出生年月,性别,身份\n1,U1,1966.05,男,\n2,U2,1990.01,女,专业技术人员\n",
        encoding="gbk",
    )
    out = tmp_path / "by_unit.csv"
    args = ["project", "departures", "--roster", str(roster), "--from", "2027-01-01"]
    assert main([*args, "--years", "2", "--out", str(out), "--rate", "0"]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns[:2]) == ["unit_id", "year"]
    assert table["retirements"].tolist() == [1, 0, 0, 0]  # 1966-05: 60y5m, 2026-10: overdue
    counties = tmp_path / "counties.csv"
    counties.write_text("county_id,name,quota,occupied\nA,a,10,10\n", encoding="utf-8")
    roster.write_text("person_id,county_id,date_of_birth,sex\n1,B,1980-01-01,male\n")
    more = ["--counties", str(counties), "--counties-out", str(tmp_path / "c.csv")]
    assert main([*args, "--years", "2", "--out", str(out), *more]) == 2
    err = capsys.readouterr().err
    assert "counties.csv, row 2, column 'county_id [区划代码]': county 'A' has nobody in" in err
    assert "roster.csv, column 'county_id [区划代码]': county 'B' is not in counties.csv" in err


def test_the_bundled_projected_scenario_records_what_it_projected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = REPO / "data" / "scenarios" / "projected_5y.toml"
    assert main(["plan", str(scenario), "--out", str(tmp_path), "--json"]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "projected_5y" / "summary.json").read_text("utf-8"))
    assert summary["years"] == [2027, 2028, 2029, 2030, 2031]
    projection = summary["scenario"]["projection"]
    assert projection["files"]["roster"]["file"] == "../teachers/roster.csv"
    assert len(projection["files"]["history"]["sha256"]) == 64
    assert projection["enrolment"]["window"] == 3


@st.composite
def cities(draw: st.DrawFn) -> dict[str, object]:
    counties = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**20))
    return {"counties": counties, "seed": seed, "years": draw(st.integers(1, 4))}


def make_city(folder: Path, counties: int, seed: int) -> None:
    """History 2021–2024, births 2015–2024, a roster and a counties file, all random."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i}" for i in range(counties)]
    rows = [
        (c, g, y, int(rng.integers(200, 3_000)))
        for c in ids
        for g in range(1, 13)
        for y in range(2021, 2025)
    ]
    history = pd.DataFrame(rows, columns=["区划代码", "年级", "年度", "在校生数"])
    history.to_csv(folder / "history.csv", index=False)
    births = [(c, y, int(rng.integers(1_000, 4_000))) for c in ids for y in range(2015, 2025)]
    pd.DataFrame(births, columns=["county_id", "year", "births"]).to_csv(
        folder / "births.csv", index=False
    )
    occupied = rng.integers(300, 900, counties)
    people = int(occupied.sum())
    born = np.datetime64("1965-01-01") + rng.integers(0, 36 * 365, people).astype("timedelta64[D]")
    pd.DataFrame(
        {
            "person_id": np.arange(people),
            "county_id": np.repeat(ids, occupied),
            "date_of_birth": np.datetime_as_string(born, unit="D"),
            "sex": rng.choice(["男", "女"], people),
            "category": rng.choice(["干部", "工人"], people, p=[0.9, 0.1]),
        }
    ).to_csv(folder / "roster.csv", index=False)
    quota = occupied + rng.integers(-50, 80, counties)
    pd.DataFrame({"county_id": ids, "name": ids, "quota": quota, "occupied": occupied}).to_csv(
        folder / "counties.csv", index=False
    )


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(city=cities())
def test_a_projected_scenario_plans_exactly_as_the_same_files_given_by_hand(
    tmp_path_factory: pytest.TempPathFactory, city: dict[str, int]
) -> None:
    folder = tmp_path_factory.mktemp("city")
    make_city(folder, city["counties"], city["seed"])
    years = str(city["years"])
    projected = write_scenario(
        folder,
        'counties = "counties.csv"\n[projection]\nhistory = "history.csv"\n'
        f'births = "births.csv"\nroster = "roster.csv"\nyears = {years}\nother_rate = 0.02\n',
    )
    assert (
        main(
            [
                *("project", "enrolment", "--history", str(folder / "history.csv")),
                *("--births", str(folder / "births.csv"), "--years", years),
                *("--out", str(folder / "enrolment_projected.csv")),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                *("project", "departures", "--roster", str(folder / "roster.csv")),
                *("--from", "2025-01-01", "--years", years, "--rate", "0.02"),
                *("--out", str(folder / "departures.csv")),
                *("--counties", str(folder / "counties.csv")),
                *("--counties-out", str(folder / "counties_projected.csv")),
            ]
        )
        == 0
    )
    by_hand = folder / "by_hand.toml"
    by_hand.write_text(
        'counties = "counties_projected.csv"\nenrolment = "enrolment_projected.csv"\n'
        'departures = "departures.csv"\n',
        encoding="utf-8",
    )
    plans = []
    for path in (projected, by_hand):
        scenario = load_scenario(path)
        inputs = load_plan_inputs(scenario)
        assert inputs.departures is not None  # each year releases its own departures
        plans.append(
            make_plan(
                inputs.counties,
                inputs.enrolment,
                scenario.standards,
                scenario.policy,
                departures=inputs.departures,
            )
        )
    first, second = plans
    pd.testing.assert_frame_equal(first.table, second.table)
    assert {k: v for k, v in first.summary.items() if k != "seconds"} == {
        k: v for k, v in second.summary.items() if k != "seconds"
    }
