"""The units file (SPEC 3.1) and the `quotapool ledger | loan | audit` commands (SPEC 3.3)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import openpyxl
import pytest

from pools import cli
from pools.tabular import InputErrors
from pools.units import read_units

DATA = Path(__file__).resolve().parents[2] / "data" / "units"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="quotapool")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    try:
        status = args.handler(args)
    except InputErrors as errors:  # quotapool.main maps these to exit 2
        print(errors.report())
        status = 2
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status, out, _err = run(capsys, *argv, "--json")
    return status, json.loads(out)


# ---- units file ------------------------------------------------------------------------


def test_units_english_headers_and_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,name,region,level,kind,approved,headcount\n"
        "M1,Office,C00,municipal,administrative,10,9\n"
        "S1,School,C01,county,institutional,20,20\n",
        encoding="utf-8",
    )
    units = read_units(path)
    assert [(u.unit_id, u.level, u.kind, u.approved, u.sector, u.parent) for u in units] == [
        ("M1", "municipal", "administrative", 10, "", ""),
        ("S1", "county", "institutional", 20, "", ""),
    ]


def test_units_chinese_headers_gbk_with_sector_and_parent(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(
        (
            "单位代码,单位名称,所属区划,层级,编制类型,核定编制,实有人数,行业领域,上级单位\n"
            "M1,市教育局,C00,市级,行政,40,38,政府,\n"
            "S1,市第一中学,C00,市级,事业,90,90,教育,M1\n"
        ).encode("gbk")
    )
    units = read_units(path)
    assert (units[1].kind, units[1].sector, units[1].parent) == ("institutional", "教育", "M1")


def test_units_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["单位代码", "单位名称", "所属区划", "层级", "编制类型", "核定编制", "实有人数"])
    sheet.append([110101, "市委办公室", "C00", "市级", "行政", 30, 30])
    book.save(tmp_path / "units.xlsx")
    (only,) = read_units(tmp_path / "units.xlsx")
    assert (only.unit_id, only.approved) == ("110101", 30)


def test_bad_units_file_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,name,region,level,kind,approved,headcount,parent\n"
        "M1,Office,C00,municipal,administrative,-1,9,\n"
        "M1,Office,C00,province,administrative,10,x,\n"
        "M3,Office,C00,municipal,administrative,10,9,NOPE\n",
        encoding="utf-8",
    )
    with pytest.raises(InputErrors) as caught:
        read_units(path)
    text = caught.value.report()
    assert "units.csv, row 2, column 'approved [核定编制]'" in text
    assert "row 3, column 'level [层级]'" in text
    assert "row 3, column 'headcount [实有人数]'" in text
    assert "duplicate unit_id 'M1'" in text


def test_parent_must_be_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,name,region,level,kind,approved,headcount,parent\n"
        "M3,Office,C00,municipal,administrative,10,9,NOPE\n",
        encoding="utf-8",
    )
    with pytest.raises(InputErrors, match="row 2, column 'parent"):
        read_units(path)


def test_sample_snapshots_have_the_advertised_shape() -> None:
    """About 60 municipal organs, 300 institutional units, county organs; November adds M061."""
    october = read_units(DATA / "units-2026-10.csv")
    november = read_units(DATA / "units-2026-11.csv")
    municipal_admin = [u for u in october if u.level == "municipal" and u.kind == "administrative"]
    assert len(municipal_admin) == 60
    assert len([u for u in october if u.kind == "institutional"]) == 300
    assert len([u for u in october if u.level == "county" and u.kind == "administrative"]) == 72
    assert {u.unit_id for u in november} - {u.unit_id for u in october} == {"M061"}


# ---- command line ----------------------------------------------------------------------


def test_walk_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README walk-through on the sample data, with --json at every step."""
    db = f"sqlite:///{tmp_path}/demo.db"
    october, november = str(DATA / "units-2026-10.csv"), str(DATA / "units-2026-11.csv")
    status, init = run_json(
        capsys, "ledger", "init", "--db", db, "--units", october, "--actor", "王芳",
        "--date", "2026-10-08", "--demo",
    )  # fmt: skip
    assert status == 0 and init["units"] == 432
    assert init["pools"]["admin"]["capacity"] == 15  # floor(0.2 × 77 vacancies)
    loan = ["loan", "open", "--db", db, "--actor", "王芳", "--date", "2026-10-15"]
    status, first = run_json(
        capsys, *loan, "--pool", "admin", "--unit", "M003", "--count", "2",
        "--purpose", "引进生", "--key", "2026-YJS-M003",
    )  # fmt: skip
    assert status == 0 and first["loan_id"]
    status, retry = run_json(
        capsys, *loan, "--pool", "admin", "--unit", "M003", "--count", "2",
        "--purpose", "引进生", "--key", "2026-YJS-M003",
    )  # fmt: skip
    assert (status, retry["loan_id"], retry["replayed"]) == (0, first["loan_id"], True)
    status, refusal = run_json(
        capsys, *loan, "--pool", "admin", "--unit", "M005", "--count", "1", "--purpose", "引进生"
    )
    assert status == 1 and refusal["error"]["rule"] == "loan.borrower_has_vacancy"
    status, synced = run_json(
        capsys, "ledger", "sync", "--db", db, "--units", november, "--actor", "王芳",
        "--date", "2026-11-05",
    )  # fmt: skip
    assert status == 0
    assert [r["loan_id"] for r in synced["returns"]] == [first["loan_id"]] * 2
    status, state = run_json(capsys, "ledger", "status", "--db", db)
    assert state["pools"]["admin"]["lent"] == 0
    status, log = run_json(capsys, "audit", "log", "--db", db, "--loan", first["loan_id"])
    assert [e["kind"] for e in log["events"]] == ["loan_opened", "loan_returned", "loan_returned"]
    assert [e["seq"] for e in log["events"]] == sorted(e["seq"] for e in log["events"])
    status, verified = run_json(capsys, "audit", "verify", "--db", db)
    assert (status, verified["ok"]) == (0, True)
    status, out, _ = run(capsys, "ledger", "status", "--db", db)
    assert status == 0 and "administrative pool: capacity 18" in out


def test_refusal_in_text_mode_names_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "bare-path.db")  # a bare path is a SQLite file
    run(capsys, "ledger", "init", "--db", db, "--units", str(DATA / "units-2026-10.csv"), "--demo")
    status, _out, err = run(
        capsys, "loan", "open", "--db", db, "--pool", "admin", "--unit", "M003", "--count", "1",
        "--purpose", "旅游", "--actor", "王芳",
    )  # fmt: skip
    assert status == 1
    assert "admin.purpose" in err and "使用范围" in err


def test_verify_exits_1_when_tampered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    db = tmp_path / "t.db"
    run(
        capsys,
        "ledger",
        "init",
        "--db",
        str(db),
        "--units",
        str(DATA / "units-2026-10.csv"),
        "--demo",
    )
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER ledger_events_no_update")
        conn.execute("UPDATE ledger_events SET actor = 'mallory' WHERE seq = 7")
    status, result = run_json(capsys, "audit", "verify", "--db", str(db))
    assert status == 1 and result["problems"][0]["seq"] == 7


def test_missing_ledger_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(capsys, "ledger", "status", "--db", str(tmp_path / "none.db"))
    assert status == 2 and "no ledger" in err


def test_bad_units_file_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,name\nM1,x\n", encoding="utf-8")
    status, out, _ = run(
        capsys, "ledger", "init", "--db", str(tmp_path / "x.db"), "--units", str(bad), "--demo"
    )
    assert status == 2 and "missing column 'approved'" in out
    assert not (tmp_path / "x.db").exists()


def test_audit_log_reads_as_words_in_either_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8.5: event names in words, "在编 46 → 44" instead of a dict repr, no "end=None",
    the recording time in Beijing time, and filters on the effective date."""
    monkeypatch.delenv("QUOTAPOOL_TIMEZONE", raising=False)
    db = str(tmp_path / "l.db")
    october, november = str(DATA / "units-2026-10.csv"), str(DATA / "units-2026-11.csv")
    common = ("--actor", "王芳")
    run(capsys, "ledger", "init", "--db", db, "--units", october, *common, "--date", "2026-10-08",
        "--demo")  # fmt: skip
    loan = ("--pool", "admin", "--unit", "M003", "--count", "2", "--purpose", "引进生")
    run(capsys, "loan", "open", "--db", db, *loan, "--doc", "临编〔2026〕12号", *common,
        "--date", "2026-10-15")  # fmt: skip
    run(capsys, "ledger", "sync", "--db", db, "--units", november, *common, "--date", "2026-11-05")
    status, out, _ = run(capsys, "audit", "log", "--db", db, "--unit", "M003")
    assert status == 0
    assert "开立借用  王芳  文号 临编〔2026〕12号" in out and "行政编制周转池 → M003 2 名" in out
    assert "M003：在编 46 → 44" in out and "归还 1 名（空一还一）" in out
    assert "changes=" not in out and "None" not in out and "loan_opened" not in out
    _, english, _ = run(capsys, "audit", "log", "--db", db, "--unit", "M003", "--lang", "en")
    assert "M003: headcount 46 → 44" in english and "return one when one is vacated" in english
    _, later, _ = run(capsys, "audit", "log", "--db", db, "--unit", "M003", "--since", "2026-11-01")
    assert "开立借用" not in later and "更新单位" in later
    _, earlier, _ = run(capsys, "audit", "log", "--db", db, "--until", "2026-10-31")
    assert "2026-11-05" not in earlier and "2026-10-15" in earlier


def test_recorded_times_are_shown_in_the_offices_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from pools.audit_words import recorded_local

    monkeypatch.delenv("QUOTAPOOL_TIMEZONE", raising=False)
    assert recorded_local("2026-12-02T14:42:09.123456+00:00") == "2026-12-02 22:42:09"
    monkeypatch.setenv("QUOTAPOOL_TIMEZONE", "UTC")
    assert recorded_local("2026-12-02T14:42:09.123456+00:00") == "2026-12-02 14:42:09"
