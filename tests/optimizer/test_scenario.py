"""Scenario files (SPEC 3.2): paths, standards, policy; every mistake names the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.need import STAFF_PER_CLASS, STANDARDS_2001, STANDARDS_2014, Standards
from optimizer.plan import Policy
from optimizer.scenario import load_inputs, load_scenario
from pools.tabular import InputError, InputErrors

SPEC_EXAMPLE = """
name = "2027 baseline"
counties = "counties.csv"     # paths relative to the scenario file
enrolment = "enrolment.csv"

[standards]                   # students per staff
primary = 19
junior = 13.5
senior = 12.5

[policy]
extra_quota = 0               # quotas the city pool adds for teachers
objective = "fair"            # fair | shortfall | movement
solver = "highs"              # every supported backend gives the same plan
"""

MINIMAL = 'counties = "c.csv"\nenrolment = "e.csv"\n'


def scenario_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rejection(tmp_path: Path, text: str) -> list[InputError]:
    with pytest.raises(InputErrors) as caught:
        load_scenario(scenario_file(tmp_path, text))
    return caught.value.errors


def only(errors: list[InputError]) -> InputError:
    assert len(errors) == 1, errors
    return errors[0]


def test_the_spec_example(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path, SPEC_EXAMPLE))
    assert scenario.name == "2027 baseline"
    assert scenario.counties == (tmp_path / "counties.csv").resolve()
    assert scenario.enrolment == (tmp_path / "enrolment.csv").resolve()
    assert dict(scenario.standards.per_level) == STANDARDS_2014
    assert scenario.standards.by_class is None
    assert scenario.policy == Policy(extra_quota=0, objective="fair", solver="highs")


def test_paths_are_relative_to_the_scenario_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scenarios").mkdir()
    path = scenario_file(
        tmp_path / "scenarios", 'counties = "../data/c.csv"\nenrolment = "e.csv"\n'
    )
    monkeypatch.chdir(tmp_path)
    scenario = load_scenario(Path("scenarios") / path.name)
    assert scenario.counties == (tmp_path / "data" / "c.csv").resolve()
    assert scenario.enrolment == (tmp_path / "scenarios" / "e.csv").resolve()


def test_defaults_name_from_file_2014_standards_exact_solver(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path, MINIMAL, "低出生率.toml"))
    assert scenario.name == "低出生率"
    assert scenario.standards == Standards()
    assert scenario.policy == Policy()


def test_2001_switch_gives_the_class_table(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path, MINIMAL + 'standards = "2001"\n'))
    assert scenario.standards.by_class == STANDARDS_2001
    assert scenario.standards.for_class("rural") == {"primary": 23, "junior": 18, "senior": 13.5}


def test_class_tables_override_levels_and_base(tmp_path: Path) -> None:
    """base 2001, rural primary 22: rural = 22 / 18 / 13.5; town unchanged 21 / 16 / 13;
    a county without class uses the top-level table: primary 20, junior 13.5, senior 12.5."""
    text = MINIMAL + '[standards]\nbase = "2001"\nprimary = 20\n[standards.rural]\nprimary = 22\n'
    standards = load_scenario(scenario_file(tmp_path, text)).standards
    assert standards.for_class("rural") == {"primary": 22, "junior": 18, "senior": 13.5}
    assert standards.for_class("town") == {"primary": 21, "junior": 16, "senior": 13}
    assert standards.for_class(None) == {"primary": 20, "junior": 13.5, "senior": 12.5}


def test_one_class_table_on_the_2014_base(tmp_path: Path) -> None:
    text = MINIMAL + "[standards.rural]\nprimary = 23\n"
    standards = load_scenario(scenario_file(tmp_path, text)).standards
    assert standards.by_class == {"rural": {"primary": 23}}
    assert standards.for_class("rural")["primary"] == 23
    assert standards.for_class("urban") == STANDARDS_2014


def test_staff_per_class_overrides_the_bundled_defaults(tmp_path: Path) -> None:
    text = MINIMAL + "[standards.staff_per_class]\nprimary = 2.2\n"
    standards = load_scenario(scenario_file(tmp_path, text)).standards
    assert standards.staff_per_class == {**STAFF_PER_CLASS, "primary": 2.2}
    assert load_scenario(scenario_file(tmp_path, MINIMAL)).standards.staff_per_class == (
        STAFF_PER_CLASS
    )


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (MINIMAL + "colour = 1\n", "colour", "unknown key"),
        (MINIMAL + "[policy]\nspeed = 1\n", "policy.speed", "unknown key"),
        (MINIMAL + "[standards]\nkindergarten = 5\n", "standards.kindergarten", "unknown key"),
        (MINIMAL + "[standards.rural]\ncollege = 5\n", "standards.rural.college", "unknown key"),
        (MINIMAL + '[policy]\nobjective = "cheapest"\n', "policy.objective", "fair"),
        (MINIMAL + '[policy]\nsolver = "gurobi"\n', "policy.solver", "highs"),
        (MINIMAL + '[policy]\nextra_quota = "ten"\n', "policy.extra_quota", "whole number"),
        (MINIMAL + "[policy]\nextra_quota = 2.5\n", "policy.extra_quota", "whole number"),
        (MINIMAL + "[policy]\nextra_quota = -3\n", "policy.extra_quota", "0 or more"),
        (MINIMAL + "[policy]\nattrition_years = 1.5\n", "policy.attrition_years", "int"),
        (MINIMAL + "[policy]\nattrition_years = 0\n", "policy.attrition_years", "than 0"),
        (MINIMAL + "[policy]\ntime_limit = -1\n", "policy.time_limit", "greater than 0"),
        (MINIMAL + '[policy]\ntime_limit = "1s"\n', "policy.time_limit", "float"),
        (MINIMAL + "[standards]\nprimary = 0\n", "standards.primary", "greater than 0"),
        (MINIMAL + "[standards]\njunior = -13.5\n", "standards.junior", "greater than 0"),
        (MINIMAL + '[standards]\nsenior = "12.5"\n', "standards.senior", "number"),
        (MINIMAL + "[standards]\nsenior = true\n", "standards.senior", "number"),
        (MINIMAL + "[standards.town]\nprimary = 0\n", "standards.town.primary", "greater than 0"),
        (
            MINIMAL + "[standards.staff_per_class]\nprimary = 0\n",
            "standards.staff_per_class.primary",
            "greater than 0",
        ),
        (
            MINIMAL + "[standards.staff_per_class]\ncollege = 2\n",
            "standards.staff_per_class.college",
            "unknown key",
        ),
        (MINIMAL + 'standards = "1999"\n', "standards.base", "2001"),
        (MINIMAL + "standards = [19]\n", "standards", "table"),
        (MINIMAL + "policy = 3\n", "policy", "table"),
        ('enrolment = "e.csv"\n', "counties", "missing"),
        ('counties = "c.csv"\n', "enrolment", "missing"),
        (MINIMAL.replace('"c.csv"', "5"), "counties", "text"),
        (MINIMAL + 'name = "a/b"\n', "name", "directory"),
        (MINIMAL + 'name = "..\\\\up"\n', "name", "directory"),
        (MINIMAL + 'name = ".."\n', "name", "directory"),
        (MINIMAL + 'name = "  "\n', "name", "non-empty"),
        (MINIMAL + 'name = "nul"\n', "name", "device name"),
        (MINIMAL + 'name = "COM1.plan"\n', "name", "device name"),
        # 100 characters (the character limit) but 300 bytes: too long for a directory name
        (MINIMAL + f'name = "{"教" * 100}"\n', "name", "300 bytes in UTF-8, longer than the 200"),
        (MINIMAL + f'name = "{"教" * 67}"\n', "name", "201 bytes"),
    ],
)
def test_each_mistake_names_file_and_key(
    tmp_path: Path, text: str, key: str, fragment: str
) -> None:
    error = only(rejection(tmp_path, text))
    assert (error.file, error.row, error.column) == ("s.toml", None, key)
    assert fragment in error.message
    assert f"s.toml, column '{key}'" in str(error)


def test_a_name_of_200_bytes_is_written_where_the_file_system_allows_it(tmp_path: Path) -> None:
    """The byte limit is the file system's: the longest name accepted makes a directory, and
    its working names next to it, without ENAMETOOLONG."""
    name = "教" * 66 + "ab"  # 200 bytes
    (tmp_path / "c.csv").write_text("x", encoding="utf-8")
    (tmp_path / "e.csv").write_text("x", encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + f'name = "{name}"\n', encoding="utf-8")
    scenario = load_scenario(path)
    (tmp_path / scenario.dir_name).mkdir()
    (tmp_path / f".{scenario.dir_name}.abcdefgh.tmp").mkdir()
    (tmp_path / scenario.dir_name / f"{scenario.dir_name}-edited-robust-plan.xlsx").touch()


def test_a_scenario_file_whose_own_name_is_too_long_for_its_output_is_refused(
    tmp_path: Path,
) -> None:
    stem = "教" * 80  # 240 bytes: a file name, but no room for ".<name>.xxxxxxxx.tmp"
    path = scenario_file(tmp_path, MINIMAL, name=f"{stem}.toml")
    with pytest.raises(InputErrors) as caught:
        load_scenario(path)
    error = only(caught.value.errors)
    assert (error.file, error.column) == (path.name, "name")
    assert "240 bytes in UTF-8" in error.message


def test_all_mistakes_at_once(tmp_path: Path) -> None:
    text = 'name = "x"\ncolour = 1\n[standards]\nprimary = 0\n[policy]\nsolver = "gurobi"\n'
    assert {e.column for e in rejection(tmp_path, text)} == {
        "colour",
        "counties",
        "enrolment",
        "standards.primary",
        "policy.solver",
    }


def test_chinese_names_are_fine_directory_names(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path, MINIMAL + 'name = "2027年 小学减少"\n'))
    assert scenario.name == "2027年 小学减少"


def test_unreadable_scenario_files(tmp_path: Path) -> None:
    with pytest.raises(InputErrors, match="not found"):
        load_scenario(tmp_path / "missing.toml")
    error = only(rejection(tmp_path, 'counties = "c.csv\n'))
    assert error.file == "s.toml" and "TOML" in error.message and "line 1" in error.message


def test_load_inputs_reads_the_files_the_scenario_names(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("county_id,name,quota,occupied\nA,a,10,9\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("county_id,level,students\nA,primary,190\n", encoding="utf-8")
    counties, enrolment = load_inputs(load_scenario(scenario_file(tmp_path, MINIMAL)))
    assert counties["county_id"].tolist() == ["A"] and enrolment["students"].tolist() == [190]


def test_class_standards_require_every_county_to_have_a_class(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("county_id,name,quota,occupied\nA,a,10,9\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("county_id,level,students\nA,primary,190\n", encoding="utf-8")
    scenario = load_scenario(scenario_file(tmp_path, MINIMAL + 'standards = "2001"\n'))
    with pytest.raises(InputErrors) as caught:
        load_inputs(scenario)
    error = only(caught.value.errors)
    assert (error.file, error.row) == ("c.csv", 2)


def test_a_departures_file_feeds_each_year(tmp_path: Path) -> None:
    """`departures` (区划代码, 年度, 预计减员) is read with the counties; bad rows are named."""
    from optimizer.scenario import load_plan_inputs

    (tmp_path / "c.csv").write_text(
        "county_id,name,quota,occupied\nA,甲,100,100\nB,乙,100,100\n", encoding="utf-8"
    )
    (tmp_path / "e.csv").write_text(
        "county_id,level,students,year\nA,primary,0,2027\nB,primary,3610,2027\n",
        encoding="utf-8",
    )
    (tmp_path / "d.csv").write_text("区划代码,年度,预计减员\nA,2027,5\n", encoding="utf-8")
    text = MINIMAL + 'departures = "d.csv"\n'
    inputs = load_plan_inputs(load_scenario(scenario_file(tmp_path, text)))
    assert inputs.departures is not None
    assert inputs.departures[["county_id", "year", "attrition"]].values.tolist() == [["A", 2027, 5]]
    (tmp_path / "d.csv").write_text(
        "county_id,year,attrition\nA,2027,5\nA,2027,6\nZ,2027,1\n", encoding="utf-8"
    )
    with pytest.raises(InputErrors) as caught:
        load_plan_inputs(load_scenario(scenario_file(tmp_path, text)))
    assert {(e.file, e.row) for e in caught.value.errors} == {("d.csv", 3), ("d.csv", 4)}
