#!/usr/bin/env python3
"""Screen a JSON Lines file of EnterpriseProfiles with the OpenFisca encoding, all enterprises at once.

    python run.py FILE [--as-of YYYY-MM-DD]

Prints one JSON object on stdout:
{"engine":"openfisca","count":N,"loadSeconds":..,"computeSeconds":..,"totalFen":..,"byClause":{..},"eligibleEnterprises":..}
byClause has every clause of clauses.txt (0 where none is proposed), counting only amounts proposed
after 就高不重复. loadSeconds: reading and parsing the JSONL into columns. computeSeconds: building the
simulation, setting the inputs and calculating every clause and the total. A breakdown goes to stderr.
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from jiaxing_openfisca import CountryTaxBenefitSystem, profiles  # noqa: E402
from jiaxing_openfisca.variables.stacking import CLAUSES, proposed_variable  # noqa: E402


def read_clauses(path):
    clauses, as_of = [], None
    with open(path, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if line.startswith("# as-of"):
                as_of = line.split()[2]
            elif line and not line.startswith("#"):
                clauses.append(line)
    return clauses, as_of


def main(argv=None):
    clauses, default_as_of = read_clauses(os.path.join(HERE, "clauses.txt"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--as-of", default=default_as_of)
    args = parser.parse_args(argv)
    missing = [c for c in clauses if c not in CLAUSES]
    if missing:
        parser.error(f"clauses.txt names clauses the package does not encode: {missing}")

    tax_benefit_system = CountryTaxBenefitSystem()

    started = time.perf_counter()
    data = profiles.load(args.file)
    loaded = time.perf_counter()

    simulation = profiles.simulation(tax_benefit_system, data)
    built = time.perf_counter()
    by_clause = {}
    for clause_id in clauses:
        by_clause[clause_id] = int(simulation.calculate(proposed_variable(clause_id), args.as_of).sum())
    total = simulation.calculate("total_proposed", args.as_of)
    computed = time.perf_counter()

    result = {
        "engine": "openfisca",
        "count": data.count,
        "loadSeconds": round(loaded - started, 3),
        "computeSeconds": round(computed - loaded, 3),
        "totalFen": int(total.sum()),
        "byClause": by_clause,
        "eligibleEnterprises": int((total > 0).sum()),
    }
    assert result["totalFen"] == sum(by_clause.values()) or set(clauses) != set(CLAUSES)
    print(f"as of {args.as_of}: {data.count} enterprises, {len(data.owner)} recognition records; "
          f"load {loaded - started:.3f}s, build+inputs {built - loaded:.3f}s, calculate {computed - built:.3f}s",
          file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
