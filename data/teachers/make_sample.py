"""Regenerate the illustrative 示例市 (Sample City) teacher files from the figures below.

The CSVs in this folder are committed; run this only after changing a figure here:

    .venv/bin/python data/teachers/make_sample.py

Every figure is invented for illustration. The codes 3399xx belong to no real place.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

# id, name, class, primary, junior, senior pupils (2027), quota, occupied, attrition,
# primary fall in the falling-enrolment variant (%), min_quota, max_gain
COUNTIES = [
    ("339902", "东湖区", "urban", 58_400, 26_900, 21_800, 5_950, 5_870, 260, 8, None, None),
    ("339903", "西岭区", "urban", 47_300, 21_400, 16_900, 4_560, 4_490, 210, 9, None, None),
    ("339904", "南港区", "urban", 36_800, 16_200, 11_300, 3_420, 3_300, 150, 10, None, 500),
    ("339981", "临川市", "town", 41_500, 19_800, 13_900, 4_390, 4_330, 240, 11, None, None),
    ("339982", "望江市", "town", 33_200, 15_100, 10_400, 3_600, 3_640, 230, 12, None, None),
    ("339921", "北塘县", "town", 27_900, 12_700, 8_100, 3_050, 2_910, 190, 12, None, None),
    ("339922", "青石县", "rural", 22_600, 10_300, 6_200, 2_900, 2_960, 260, 14, None, None),
    ("339923", "云溪县", "rural", 19_400, 9_100, 5_100, 2_480, 2_440, 230, 15, 2_250, None),
    ("339924", "白鹭县", "rural", 16_800, 7_600, 4_300, 2_180, 2_230, 240, 13, None, None),
    ("339925", "松岗县", "rural", 15_300, 7_000, 3_700, 1_930, 1_890, 170, 15, None, None),
]
YEARS = (2027, 2028, 2029)
CLASS_ZH = {"urban": "城市", "town": "县镇", "rural": "农村"}
COUNTY_HEADERS = [
    *("区划代码", "区划名称", "教职工编制", "在编人数"),
    *("预计减员", "最低编制", "最多增编", "城乡类别"),
]


def county_rows() -> list[list[object]]:
    return [
        [cid, name, quota, occupied, attrition, floor or "", gain or "", CLASS_ZH[cls]]
        for (cid, name, cls, _p, _j, _s, quota, occupied, attrition, _f, floor, gain) in COUNTIES
    ]


def enrolment_rows(falling: bool) -> list[list[object]]:
    rows: list[list[object]] = []
    for cid, _name, _cls, primary, junior, senior, *_rest in COUNTIES:
        fall = _rest[3] if falling else 0
        rows.append([cid, "primary", round(primary * (100 - fall) / 100)])
        rows.append([cid, "junior", junior])
        rows.append([cid, "senior", senior])
    return rows


def enrolment_by_year_rows() -> list[list[object]]:
    """2027-2029: primary falls steadily to the falling variant's level, junior grows 2 %/year."""
    rows: list[list[object]] = []
    for step, year in enumerate(YEARS):
        share = step / (len(YEARS) - 1)
        for cid, _name, _cls, primary, junior, senior, *rest in COUNTIES:
            fall = rest[3] * share
            rows.append([cid, "primary", round(primary * (100 - fall) / 100), year])
            rows.append([cid, "junior", round(junior * (1 + 0.02 * step)), year])
            rows.append([cid, "senior", senior, year])
    return rows


def write_csv(path: Path, headers: list[str], rows: list[list[object]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")  # as Excel writes CSV
        writer.writerow(headers)
        writer.writerows(rows)


def write_xlsx(path: Path, headers: list[str], rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "区县教职工编制"
    sheet.append(headers)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    book.save(path)


def main() -> None:
    write_csv(HERE / "counties.csv", COUNTY_HEADERS, county_rows(), "utf-8-sig")
    write_xlsx(HERE / "counties.xlsx", COUNTY_HEADERS, county_rows())
    enrolment_headers = ["county_id", "level", "students"]
    write_csv(HERE / "enrolment.csv", enrolment_headers, enrolment_rows(False), "utf-8")
    write_csv(HERE / "enrolment_falling.csv", enrolment_headers, enrolment_rows(True), "utf-8")
    write_csv(
        HERE / "enrolment_2027_2029.csv",
        [*enrolment_headers, "year"],
        enrolment_by_year_rows(),
        "utf-8",
    )


if __name__ == "__main__":
    main()
