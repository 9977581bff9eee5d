"""EnterpriseProfile JSON Lines (protobuf JSON mapping) -> columns -> one vectorised OpenFisca simulation.

Only what the encoded clauses read is kept: recognition records, the yearly R&D facts and the
communityLeadUnit flag. Profiles are assumed valid (the engine refuses invalid ones before screening;
generate.py writes only valid ones). As in EnterpriseProfile.swift, a fact repeated for the same year
keeps the last value of the message.
"""

import gc
import json
from dataclasses import dataclass, field

import numpy

from openfisca_core import periods
from openfisca_core.simulations import SimulationBuilder

from jiaxing_openfisca.variables.inputs import FLAG_FACTS, NOT_REPORTED, YEARLY_FACTS, RecognitionKind, RecognitionLevel

_KIND_INDEX = {item.name: item.index for item in RecognitionKind}
_LEVEL_INDEX = {item.name: item.index for item in RecognitionLevel}
_LEVEL_INDEX[""] = RecognitionLevel.none.index


@dataclass
class Columns:
    count: int = 0
    credit_codes: list = field(default_factory=list)
    # recognition records
    owner: numpy.ndarray = None
    kind: numpy.ndarray = None
    level: numpy.ndarray = None
    recognized_on: numpy.ndarray = None
    # (variable, year) -> int64 array over enterprises, NOT_REPORTED where absent
    yearly: dict = field(default_factory=dict)
    # variable -> bool array over enterprises
    flags: dict = field(default_factory=dict)


def _dates(years, months, days):
    y = (numpy.asarray(years, dtype=numpy.int64) - 1970).astype("datetime64[Y]")
    m = y.astype("datetime64[M]") + (numpy.asarray(months, dtype=numpy.int64) - 1).astype("timedelta64[M]")
    return m.astype("datetime64[D]") + (numpy.asarray(days, dtype=numpy.int64) - 1).astype("timedelta64[D]")


def parse_lines(text: str) -> list:
    lines = [line for line in text.split("\n") if line.strip()]
    return json.loads("[" + ",".join(lines) + "]")


def columns(profiles) -> Columns:
    """Columns from an iterable of profile messages (dicts of the protobuf JSON mapping)."""
    out = Columns()
    owner, kind, level, ry, rm, rd = [], [], [], [], [], []
    yearly = {}  # (variable, year) -> ([index], [value])
    flags = {}  # variable -> ([index], [flag])
    for index, profile in enumerate(profiles):
        out.credit_codes.append(profile.get("creditCode", ""))
        for record in profile.get("recognitions", ()):
            owner.append(index)
            kind.append(_KIND_INDEX[record["recognition"]])
            level.append(_LEVEL_INDEX[record.get("level", "")])
            day = record["recognizedOn"]
            ry.append(day.get("year", 0))
            rm.append(day.get("month", 0))
            rd.append(day.get("day", 0))
        for fact in profile.get("facts", ()):
            name = fact["fact"]
            variable = YEARLY_FACTS.get(name)
            if variable is not None:
                slot = yearly.setdefault((variable, int(fact.get("year", 0))), ([], []))
                slot[0].append(index)
                slot[1].append(int(fact["amount"]))
                continue
            variable = FLAG_FACTS.get(name)
            if variable is not None:
                slot = flags.setdefault(variable, ([], []))
                slot[0].append(index)
                slot[1].append(bool(fact.get("flag", False)))
    out.count = len(out.credit_codes)
    out.owner = numpy.asarray(owner, dtype=numpy.int64)
    out.kind = numpy.asarray(kind, dtype=numpy.int16)
    out.level = numpy.asarray(level, dtype=numpy.int16)
    out.recognized_on = _dates(ry, rm, rd) if owner else numpy.array([], dtype="datetime64[D]")
    for key, (indices, values) in yearly.items():
        array = numpy.full(out.count, NOT_REPORTED, dtype=numpy.int64)
        array[numpy.asarray(indices)] = numpy.asarray(values, dtype=numpy.int64)  # repeated: last wins
        out.yearly[key] = array
    for variable, (indices, values) in flags.items():
        array = numpy.zeros(out.count, dtype=bool)
        array[numpy.asarray(indices)] = numpy.asarray(values, dtype=bool)
        out.flags[variable] = array
    return out


def load(path: str) -> Columns:
    """Reads a JSONL file line by line into columns, without keeping the parsed messages. The cyclic
    garbage collector is paused meanwhile: a million small dicts otherwise trigger it over and over."""
    loads = json.loads
    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, encoding="utf-8") as file:
            return columns(loads(line) for line in file if not line.isspace())
    finally:
        if enabled:
            gc.enable()


def simulation(tax_benefit_system, data: Columns):
    """One simulation holding every enterprise (group entity) and every recognition record (person)."""
    builder = SimulationBuilder()
    builder.create_entities(tax_benefit_system)
    builder.declare_person_entity("recognition", range(len(data.owner)))
    enterprises = builder.declare_entity("enterprise", range(data.count))
    # Set directly rather than with join_with_persons, which renumbers groups by the ids that have
    # members and so misplaces records when some enterprises have none.
    enterprises.members_entity_id = data.owner
    enterprises.members_role = numpy.repeat(enterprises.entity.flattened_roles[0], len(data.owner))
    simulation = builder.build(tax_benefit_system)
    eternity = periods.period(periods.DateUnit.ETERNITY)
    simulation.set_input("recognition_kind", eternity, data.kind)
    simulation.set_input("recognition_level", eternity, data.level)
    simulation.set_input("recognized_on", eternity, data.recognized_on)
    for (variable, year), array in data.yearly.items():
        simulation.set_input(variable, periods.period(str(year)), array)
    for variable, array in data.flags.items():
        simulation.set_input(variable, eternity, array)
    return simulation
