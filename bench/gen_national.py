"""A deterministic national-scale teacher-quota instance: ~2,850 counties × 3 school levels.

Magnitudes follow the published order of size of Chinese county education statistics: tens of
thousands of primary pupils in a typical county, teacher quotas in the thousands, some counties
over quota and some short. Nothing is downloaded; the figures are synthetic.

    python bench/gen_national.py OUT_DIR [--counties 2850] [--years 1] [--seed 2027]

writes OUT_DIR/counties.csv, OUT_DIR/enrolment.csv and OUT_DIR/national.toml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

STANDARDS = {"primary": 19.0, "junior": 13.5, "senior": 12.5}


def generate(counties: int = 2850, years: int = 1, seed: int = 2027):
    rng = np.random.default_rng(seed)
    ids = [f"{110000 + i:06d}" for i in range(counties)]
    primary = np.rint(rng.lognormal(np.log(30_000), 0.7, counties)).astype(np.int64)
    junior = np.rint(primary * rng.uniform(0.4, 0.55, counties)).astype(np.int64)
    senior = np.rint(primary * rng.uniform(0.2, 0.4, counties)).astype(np.int64)
    need = primary / 19 + junior / 13.5 + senior / 12.5
    quota = np.rint(need * rng.uniform(0.85, 1.15, counties)).astype(np.int64)
    occupied = np.rint(quota * rng.uniform(0.9, 1.05, counties)).astype(np.int64)
    attrition = np.rint(occupied * rng.uniform(0.02, 0.08, counties)).astype(np.int64)
    capped = rng.random(counties) < 0.2
    floors = rng.random(counties) < 0.1
    frame = pd.DataFrame(
        {
            "county_id": ids,
            "name": [f"第{i + 1}县" for i in range(counties)],
            "quota": quota,
            "occupied": occupied,
            "attrition": attrition,
            "min_quota": pd.array(
                np.where(floors, np.rint(quota * 0.95), 0).astype(np.int64), dtype="Int64"
            ).astype("Int64"),
            "max_gain": pd.array(
                np.where(capped, np.rint(quota * 0.05), 0).astype(np.int64), dtype="Int64"
            ),
            "class": rng.choice(["urban", "town", "rural"], counties, p=[0.2, 0.3, 0.5]),
        }
    )
    frame.loc[~floors, "min_quota"] = pd.NA
    frame.loc[~capped, "max_gain"] = pd.NA
    rows = []
    for year_index in range(years):
        trend = (1 - 0.03 * year_index) if years > 1 else 1.0  # falling primary enrolment
        for level, pupils in (("primary", primary * trend), ("junior", junior), ("senior", senior)):
            rows.append(
                pd.DataFrame(
                    {
                        "county_id": ids,
                        "level": level,
                        "students": np.rint(pupils).astype(np.int64),
                        "year": 2027 + year_index if years > 1 else pd.NA,
                    }
                )
            )
    enrolment = pd.concat(rows, ignore_index=True)
    if years == 1:
        enrolment = enrolment.drop(columns="year")
    return frame, enrolment


def write(out: Path, counties: int = 2850, years: int = 1, seed: int = 2027) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    frame, enrolment = generate(counties, years, seed)
    frame.to_csv(out / "counties.csv", index=False)
    enrolment.to_csv(out / "enrolment.csv", index=False)
    scenario = out / "national.toml"
    scenario.write_text(
        'name = "national"\ncounties = "counties.csv"\nenrolment = "enrolment.csv"\n\n'
        "[standards]\nprimary = 19\njunior = 13.5\nsenior = 12.5\n\n"
        '[policy]\nextra_quota = 0\nobjective = "fair"\nsolver = "exact"\n',
        encoding="utf-8",
    )
    return scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--counties", type=int, default=2850)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    print(write(args.out, args.counties, args.years, args.seed))


if __name__ == "__main__":
    main()
