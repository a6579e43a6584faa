"""Writes the illustrative city's units snapshots: units-2026-10.csv and units-2026-11.csv.

示例市 (the same made-up city as the teacher data, region 339900) with six of its county-level
divisions (339921–339925, 339981): 60 municipal
administrative organs (M001–M060), 300 institutional units (S001–S300: 200 municipal, 100 in
the counties) and 72 county administrative organs. Deterministic (fixed seed): run
`python data/units/make_units.py` to rewrite both files byte for byte.

Chosen on purpose so that the README walk-through has something to show:
- M003 (市发展和改革委员会), M010 (市财政局), M020 (市农业农村局) have no own vacancy and
  may borrow from the administrative pool for 引进生 / 博士选调生;
- M005 (市教育局) still has vacancies (a loan is refused), M030 is over quota (flagged);
- S012 is full and may borrow from the institutional pool;
  S040 has spare quota and may lend to S041 (full) unit to unit;
- in November M003 loses two people, M020 and S041 one each (空一还一 returns), M045's
  approved quota grows by 2, a new organ M061 appears, S100 hires beyond its quota (flagged)
  and about a tenth of the other units lose or gain a few people.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = [
    "单位代码",
    "单位名称",
    "所属区划",
    "层级",
    "编制类型",
    "核定编制",
    "实有人数",
    "行业领域",
    "上级单位",
]

ORGANS = [
    "市委办公室",
    "市政府办公室",
    "市发展和改革委员会",
    "市委组织部",
    "市教育局",
    "市委宣传部",
    "市科学技术局",
    "市工业和信息化局",
    "市公安局",
    "市财政局",
    "市民政局",
    "市司法局",
    "市人力资源和社会保障局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水利局",
    "市商务局",
    "市农业农村局",
    "市文化广电和旅游局",
    "市卫生健康委员会",
    "市退役军人事务局",
    "市应急管理局",
    "市审计局",
    "市市场监督管理局",
    "市统计局",
    "市医疗保障局",
    "市林业局",
    "市信访局",
    "市机关事务管理局",
    "市国有资产监督管理委员会",
    "市纪委监委",
    "市委统战部",
    "市委政法委",
    "市委政策研究室",
    "市委网信办",
    "市委编办",
    "市直机关工委",
    "市委党史研究室",
    "市人大常委会办公厅",
    "市政协办公室",
    "市总工会",
    "团市委",
    "市妇联",
    "市科协",
    "市文联",
    "市工商联",
    "市残联",
    "市侨联",
    "市红十字会",
    "市中级人民法院",
    "市人民检察院",
    "市城市管理局",
    "市体育局",
    "市行政审批服务局",
    "市乡村振兴局",
    "市粮食和物资储备局",
    "市人防办",
    "市投资促进局",
]

CITY = "339900"
COUNTIES = ["339921", "339922", "339923", "339924", "339925", "339981"]
COUNTY_NAMES = dict(
    zip(COUNTIES, ["北塘县", "青石县", "云溪县", "白鹭县", "松岗县", "临川市"], strict=True)
)
COUNTY_ORGANS = [
    "办公室",
    "组织部",
    "宣传部",
    "发改局",
    "教育局",
    "公安局",
    "财政局",
    "民政局",
    "人社局",
    "自然资源局",
    "农业农村局",
    "卫健局",
]
INSTITUTION_KINDS = [  # (name template, sector, parent organ id)
    ("市第{n}人民医院", "卫生健康", "M022"),
    ("市第{n}中学", "教育", "M005"),
    ("市第{n}实验小学", "教育", "M005"),
    ("市农业科学研究所第{n}分所", "农业", "M020"),
    ("市公共就业服务中心第{n}分中心", "人社", "M013"),
    ("市社会福利院第{n}院区", "民政", "M011"),
    ("市检验检测中心第{n}实验室", "市场监管", "M026"),
    ("市水文水资源监测站第{n}站", "水利", "M018"),
]


def sector_of(name: str) -> str:
    if any(word in name for word in ("法院", "检察院", "纪委")):
        return "政法纪检"
    if "市委" in name or name in ("市直机关工委", "市委编办"):
        return "党委"
    if "人大" in name or "政协" in name:
        return "人大政协"
    if any(
        word in name
        for word in ("工会", "团市委", "妇联", "科协", "文联", "工商联", "残联", "侨联", "红十字")
    ):
        return "群团"
    return "政府"


def october(rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    for i, name in enumerate(ORGANS[:60]):
        approved = rng.randint(18, 70)
        headcount = approved - rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4])
        rows.append(
            [
                f"M{i + 1:03d}",
                name,
                CITY,
                "市级",
                "行政",
                approved,
                headcount,
                sector_of(name),
                "",
            ]
        )
    for i in range(300):
        template, sector, parent = INSTITUTION_KINDS[i % len(INSTITUTION_KINDS)]
        number = i // len(INSTITUTION_KINDS) + 1
        approved = rng.randint(12, 160)
        headcount = approved - rng.choice([0, 0, 1, 2, 3, 5, 8])
        if i < 200:
            rows.append(
                [
                    f"S{i + 1:03d}",
                    template.format(n=number),
                    CITY,
                    "市级",
                    "事业",
                    approved,
                    headcount,
                    sector,
                    parent,
                ]
            )
        else:
            county = COUNTIES[i % len(COUNTIES)]
            name = f"{COUNTY_NAMES[county]}{template.format(n=number).removeprefix('市')}"
            rows.append(
                [f"S{i + 1:03d}", name, county, "县级", "事业", approved, headcount, sector, ""]
            )
    for county in COUNTIES:
        for j, organ in enumerate(COUNTY_ORGANS):
            approved = rng.randint(10, 45)
            headcount = approved - rng.choice([0, 0, 1, 2, 3])
            rows.append(
                [
                    f"{county}-{j + 1:03d}",
                    f"{COUNTY_NAMES[county]}{organ}",
                    county,
                    "县级",
                    "行政",
                    approved,
                    headcount,
                    "",
                    "",
                ]
            )
    by_id = {row[0]: row for row in rows}
    set_unit(by_id, "M003", approved=46, headcount=46)
    set_unit(by_id, "M010", approved=52, headcount=52)
    set_unit(by_id, "M020", approved=38, headcount=38)
    set_unit(by_id, "M005", approved=41, headcount=38)
    set_unit(by_id, "M030", approved=30, headcount=31)
    set_unit(by_id, "S012", approved=120, headcount=120)
    set_unit(by_id, "S040", approved=64, headcount=59)
    set_unit(by_id, "S041", approved=35, headcount=35)
    set_unit(by_id, "S100", approved=40, headcount=40)
    return rows


def november(rows: list[list[object]], rng: random.Random) -> list[list[object]]:
    fixed = {"M003", "M010", "M020", "M005", "M030", "S012", "S040", "S041", "S100", "M045"}
    out = [list(row) for row in rows]
    for row in out:
        if row[0] in fixed:
            continue
        roll = rng.random()
        if roll < 0.08:
            row[6] = max(0, int(row[6]) - rng.randint(1, 3))  # departures, retirements
        elif roll < 0.12 and int(row[6]) < int(row[5]):
            row[6] = int(row[6]) + 1  # a hire into an own vacancy
    by_id = {row[0]: row for row in out}
    by_id["M003"][6] = 44  # two leave: 空一还一 returns both admin-pool quotas
    by_id["M020"][6] = 37
    by_id["S041"][6] = 34  # one leaves: one quota goes back to the lender S040
    by_id["S100"][6] = 42  # hires beyond its quota: a fact, recorded and flagged
    by_id["M045"][5] = int(by_id["M045"][5]) + 2  # approved quota grows
    out.insert(60, ["M061", "市数据局", CITY, "市级", "行政", 20, 12, "政府", ""])
    return out


def set_unit(
    by_id: dict[str, list[object]], unit_id: str, *, approved: int, headcount: int
) -> None:
    by_id[unit_id][5] = approved
    by_id[unit_id][6] = headcount


def write(path: Path, rows: list[list[object]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    tmp.replace(path)


def main() -> None:
    rng = random.Random(20261008)
    rows = october(rng)
    write(HERE / "units-2026-10.csv", rows)
    write(HERE / "units-2026-11.csv", november(rows, rng))


if __name__ == "__main__":
    main()
