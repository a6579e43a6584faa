"""`quotapool plan`: batches, failures reported per scenario, exit statuses, --json, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from optimizer.output import (
    ENGLISH_ROW,
    FIRST_DATA_ROW,
    PLAN_COLUMNS,
    SUMMARY_KEYS,
    TOTAL_LABEL,
)
from quotapool import main

REPO = Path(__file__).resolve().parents[2]

# Three counties. Need (2014 standards): A 1900/19 + 1350/13.5 = 200, B 950/19 = 50,
# C 1900/19 = 100; total need 350, quotas 150 + 80 + 120 = 350. Lower limits
# min(current, occupied - attrition): A 150, B 80 (all in post, nobody leaves), C 80.
# So B stays at 80 and A + C = 270. The fair plan equalises relative shortfall:
# (200 - a)/200 = (100 - c)/100 with a + c = 270 gives a = 2c, c = 90, a = 180: 10 % each,
# the unique optimum. Moved: |180 - 150| + |90 - 120| = 60.
COUNTIES = (
    "区划代码,区划名称,教职工编制,在编人数,预计减员,城乡类别\n"
    "A,甲区,150,150,0,城市\n"
    "B,乙县,80,80,0,农村\n"
    "C,丙县,120,100,20,农村\n"
)
ENROLMENT = "county_id,level,students\nA,primary,1900\nA,junior,1350\nB,小学,950\nC,primary,1900\n"


@pytest.fixture
def city(tmp_path: Path) -> Path:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "counties.csv").write_text(COUNTIES, encoding="utf-8-sig")
    (inputs / "enrolment.csv").write_text(ENROLMENT, encoding="utf-8")
    return inputs


def scenario(directory: Path, file: str, name: str, extra: str = "", **files: str) -> Path:
    counties = files.get("counties", "counties.csv")
    enrolment = files.get("enrolment", "enrolment.csv")
    path = directory / file
    path.write_text(
        f'name = "{name}"\ncounties = "{counties}"\nenrolment = "{enrolment}"\n{extra}',
        encoding="utf-8",
    )
    return path


def run(*args: str | Path) -> int:
    return main(["plan", *map(str, args)])


def test_one_scenario_is_planned_and_written(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fair plan worked out above: A 180, B 80, C 90."""
    out = tmp_path / "out"
    status = run(scenario(city, "s.toml", "基线 2027"), "--out", out, "--jobs", "1")
    assert status == 0
    target = out / "基线 2027"
    assert sorted(p.name for p in target.iterdir()) == ["plan.csv", "plan.xlsx", "summary.json"]
    plan = pd.read_csv(target / "plan.csv", encoding="utf-8-sig")
    assert list(plan.columns[:8]) == list(PLAN_COLUMNS[:8]) and "limited_by" in plan.columns
    assert plan["new"].tolist() == [180, 80, 90]
    assert plan["change"].tolist() == [30, 0, -30]
    summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert set(SUMMARY_KEYS) <= set(summary)
    assert (summary["status"], summary["total_before"], summary["total_after"]) == (
        "optimal",
        350,
        350,
    )
    assert summary["moved"] == 30  # the 30 quotas that moved, each once (SPEC 3.7)
    assert summary["movement"] == 60  # Σ|change|: the movement objective's measure
    assert summary["max_relative_shortfall"] == pytest.approx(0.1)
    assert summary["scenario"]["name"] == "基线 2027"
    stdout = capsys.readouterr().out
    assert "基线 2027" in stdout and "1 of 1 scenario planned" in stdout


def test_xlsx_of_a_real_plan_has_totals_and_highlights_the_short_county(
    city: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run(scenario(city, "s.toml", "s"), "--out", out, "--jobs", "1") == 0
    sheet = openpyxl.load_workbook(out / "s" / "plan.xlsx").worksheets[0]
    headers = [cell.value for cell in sheet[ENGLISH_ROW + 1]]
    totals = dict(zip(headers, [cell.value for cell in sheet[sheet.max_row]], strict=True))
    assert totals["no"] == TOTAL_LABEL  # in 序号's column, merged over the county's
    assert (totals["current"], totals["new"], totals["change"]) == (350, 350, 0)
    letter = openpyxl.utils.get_column_letter(headers.index("shortfall_after") + 1)
    highlighted = [str(rng.sqref) for rng in sheet.conditional_formatting]
    first = FIRST_DATA_ROW
    assert f"{letter}{first}:{letter}{first + 2}" in highlighted
    assert sheet[f"{letter}{first}"].value == pytest.approx(20)  # A: need 200, new 180


def test_batch_with_one_bad_scenario_writes_the_others(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three scenarios in two worker processes; the bad one names a county not in counties."""
    (city / "enrolment_bad.csv").write_text(ENROLMENT + "Z,junior,10\n", encoding="utf-8")
    good_one = scenario(city, "a.toml", "first")
    bad = scenario(city, "b.toml", "broken", enrolment="enrolment_bad.csv")
    good_two = scenario(city, "c.toml", "third", '[policy]\nobjective = "movement"\n')
    out = tmp_path / "out"
    status = run(good_one, bad, good_two, "--out", out, "--jobs", "2")
    assert status == 2  # an input was rejected
    assert sorted(p.name for p in out.iterdir()) == ["first", "third"]
    for name in ("first", "third"):
        assert (out / name / "plan.csv").is_file() and (out / name / "plan.xlsx").is_file()
    captured = capsys.readouterr()
    assert "broken" in captured.err
    assert "enrolment_bad.csv, row 6, column 'county_id [区划代码]'" in captured.err
    assert "'Z' is not in counties.csv" in captured.err
    assert "2 of 3 scenarios planned" in captured.out


def test_json_is_one_document_in_command_line_order(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (city / "bad.csv").write_text("county_id,name\nA,x\n", encoding="utf-8")
    paths = [
        scenario(city, "z.toml", "zeta"),
        scenario(city, "a.toml", "alpha", counties="bad.csv"),
        city / "missing.toml",
    ]
    status = run(*paths, "--out", tmp_path / "out", "--json", "--jobs", "2")
    assert status == 2
    document = json.loads(capsys.readouterr().out)  # fails unless stdout is exactly one document
    entries = document["scenarios"]
    assert [(e["name"], e["status"]) for e in entries] == [
        ("zeta", "optimal"),
        ("alpha", "rejected"),
        ("missing", "rejected"),
    ]
    assert entries[0]["dir"] == str(tmp_path / "out" / "zeta")
    assert set(SUMMARY_KEYS) <= set(entries[0]["summary"])
    assert entries[1]["dir"] is None
    missing_columns = {e["message"].split("'")[1] for e in entries[1]["errors"]}
    assert missing_columns == {"quota", "occupied"}
    assert all(e["file"] == "bad.csv" and e["row"] == 1 for e in entries[1]["errors"])
    assert "not found" in entries[2]["errors"][0]["message"]


def test_infeasible_scenario_is_explained_and_fails_the_batch(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Floors: A 150 (in post, none leaving) + B 80 + C min_quota 200 = 430 > total 350."""
    (city / "floors.csv").write_text(
        COUNTIES.replace("城乡类别\n", "城乡类别,最低编制\n")
        .replace("城市\n", "城市,\n")
        .replace("B,乙县,80,80,0,农村\n", "B,乙县,80,80,0,农村,\n")
        .replace("C,丙县,120,100,20,农村\n", "C,丙县,120,100,20,农村,200\n"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    good = scenario(city, "good.toml", "good")
    tight = scenario(city, "tight.toml", "tight", counties="floors.csv")
    status = run(good, tight, "--out", out, "--jobs", "1", "--json")
    assert status == 1
    entries = json.loads(capsys.readouterr().out)["scenarios"]
    assert [e["status"] for e in entries] == ["optimal", "infeasible"]
    explanation = " ".join(entries[1]["summary"]["explanation"])
    assert "430" in explanation and "350" in explanation
    assert sorted(p.name for p in (out / "tight").iterdir()) == ["summary.json"]
    assert (out / "good" / "plan.csv").is_file()


def test_duplicate_names_are_refused_before_anything_runs(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    first = scenario(city, "one.toml", "Plan A")
    second = scenario(city, "two.toml", "plan a")  # the same folder on Windows and macOS
    assert run(first, second, "--out", out) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "two.toml" in err and "'plan a' is already used" in err


def test_a_rejected_scenario_writes_nothing_and_keeps_an_older_plan(
    city: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    path = scenario(city, "s.toml", "s")
    assert run(path, "--out", out, "--jobs", "1") == 0
    before = (out / "s" / "plan.csv").read_bytes()
    (city / "enrolment.csv").write_text(ENROLMENT + "A,senior,-1\n", encoding="utf-8")
    assert run(path, "--out", out, "--jobs", "1") == 2
    assert (out / "s" / "plan.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["s"]  # no staging leftovers


def test_bad_scenario_file_is_reported_with_its_key(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = scenario(city, "s.toml", "s", '[policy]\nsolver = "gurobi"\n')
    assert run(bad, "--out", tmp_path / "out") == 2
    assert "s.toml, column 'policy.solver': unknown solver 'gurobi'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "s").exists()


def test_jobs_must_be_positive(city: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        run(scenario(city, "s.toml", "s"), "--out", tmp_path, "--jobs", "0")
    assert caught.value.code == 2


def test_the_bundled_sample_city_plans_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make run` does, into a temporary directory instead of out/plans."""
    scenarios = sorted((REPO / "data" / "scenarios").glob("*.toml"))
    assert len(scenarios) >= 3
    status = run(*scenarios, "--out", tmp_path, "--json")
    entries = json.loads(capsys.readouterr().out)["scenarios"]
    assert status == 0, entries
    assert {e["status"] for e in entries} == {"optimal"}
    for entry in entries:
        plan = pd.read_csv(Path(entry["dir"]) / "plan.csv", encoding="utf-8-sig")
        if "year" in plan.columns:  # a multi-year plan: the city total holds in its last year
            plan = plan[plan["year"] == plan["year"].max()]
        assert len(plan) == 10
        summary = entry["summary"]
        assert plan["new"].sum() == summary["total_after"]
        assert summary["total_after"] == summary["total_before"] + summary.get("extra_quota", 0)
        # Inputs are recorded as the scenario names them, not as this machine's absolute paths.
        written = json.loads((Path(entry["dir"]) / "summary.json").read_text(encoding="utf-8"))
        assert written["scenario"]["counties"].startswith("../teachers/counties.")
        inputs = written["scenario"]
        projection = inputs["projection"]  # a projected scenario names its history instead
        enrolment = projection["files"]["history"]["file"] if projection else inputs["enrolment"]
        assert enrolment.startswith("../teachers/enrolment")


def test_refused_batch_still_prints_one_json_document(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = scenario(city, "one.toml", "same")
    second = scenario(city, "two.toml", "same")
    assert run(first, second, "--out", tmp_path / "out", "--json") == 2
    document = json.loads(capsys.readouterr().out)
    assert document["scenarios"] == []
    assert [(e["file"], e["column"]) for e in document["errors"]] == [("two.toml", "name")]


def test_every_solver_writes_the_same_plan_for_the_sample_baseline(tmp_path: Path) -> None:
    """The sample baseline through each backend: identical new quotas and limits per county."""
    baseline = (REPO / "data" / "scenarios" / "baseline.toml").read_text(encoding="utf-8")
    teachers = (REPO / "data" / "teachers").as_posix()
    paths = []
    for solver in ("exact", "highs", "cbc", "ortools"):
        text = (
            baseline.replace('name = "baseline"', f'name = "{solver}"')
            .replace('solver = "highs"', f'solver = "{solver}"')
            .replace("../teachers", teachers)
        )
        path = tmp_path / f"{solver}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    assert run(*paths, "--out", tmp_path / "out", "--jobs", "1") == 0
    plans = {
        solver: pd.read_csv(tmp_path / "out" / solver / "plan.csv", encoding="utf-8-sig")
        for solver in ("exact", "highs", "cbc", "ortools")
    }
    for solver, plan in plans.items():
        summary = json.loads((tmp_path / "out" / solver / "summary.json").read_text())
        assert summary["solver"] == solver
        pd.testing.assert_series_equal(plan["new"], plans["exact"]["new"])
        pd.testing.assert_series_equal(plan["limited_by"], plans["exact"]["limited_by"])


def test_what_the_reader_skipped_is_said_with_the_plan(
    tmp_path: Path, city: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A title row and a totals row that does not add up: planned, and both said aloud."""
    inputs = city
    messy = "2027年在校生统计\n" + ENROLMENT + "合计,,1\n"
    (inputs / "messy.csv").write_text(messy, encoding="utf-8")
    path = scenario(inputs, "s.toml", "杂乱", enrolment="messy.csv")
    assert run(path, "--out", tmp_path / "out") == 0
    summary = json.loads((tmp_path / "out" / "杂乱" / "summary.json").read_text("utf-8"))
    warnings = "\n".join(summary["warnings"])
    assert "headers found on row 2" in warnings
    assert "not the sum" in warnings
    assert "headers found on row 2" in capsys.readouterr().err
