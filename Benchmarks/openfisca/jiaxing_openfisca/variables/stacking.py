"""就高不重复 and the totals: what the engine proposes after stacking.

Mirrors EligibilityEngine.applyStacking: among an enterprise's ELIGIBLE cash decisions, those with the
same overlapGroup (and whose effective stacking rule is not ``stacks``) form a group; where the group has
two or more members and at least one of them belongs to a document whose rule is highestOnly, only the
highest amount is paid (tie: the smallest clause id), the others are superseded.
"""

import numpy

from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from jiaxing_openfisca.entities import Enterprise
from jiaxing_openfisca.variables.inputs import FenVariable

#: clause id -> (amount variable, document parameter node, overlapGroup of the catalog or None).
#: No encoded clause overrides its document's stacking rule; both documents are highestOnly/unspecified.
CLAUSES = {
    "jzbf-2023-32/4.1a": ("new_single_champion_award_32", "jzbf_2023_32", "singleChampion"),
    "jzbf-2023-32/4.1b": ("new_little_giant_award_32", "jzbf_2023_32", "littleGiant"),
    "jzbf-2023-32/4.1c": ("new_hidden_champion_award_32", "jzbf_2023_32", "hiddenChampion"),
    "jzf-2023-3/2.12": ("rd_investment_subsidy", "jzf_2023_3", "rdInvestmentSubsidy"),
    "jzf-2023-3/3.18e": ("future_factory_award", "jzf_2023_3", None),
    "jzf-2023-3/3.18f": ("future_factory_pilot_award", "jzf_2023_3", None),
    "jzf-2023-3/3.18g": ("smart_factory_award", "jzf_2023_3", None),
    "jzf-2023-3/3.19b": ("green_factory_award", "jzf_2023_3", None),
    "jzf-2023-3/3.19d": ("green_supply_chain_award", "jzf_2023_3", None),
    "jzf-2023-3/3.19e": ("green_design_demo_award", "jzf_2023_3", None),
    "jzf-2023-3/3.20b": ("enterprise_tech_centre_award", "jzf_2023_3", "enterpriseTechCentre"),
    "jzf-2023-3/3.20e": ("industry_chain_community_award", "jzf_2023_3", None),
    "jzf-2023-3/3.21a": ("new_single_champion_award_3", "jzf_2023_3", "singleChampion"),
    "jzf-2023-3/3.21b": ("new_little_giant_award_3", "jzf_2023_3", "littleGiant"),
    "jzf-2023-3/3.21c": ("new_hidden_champion_award_3", "jzf_2023_3", "hiddenChampion"),
    "jzf-2023-3/4.31": ("first_version_software_award", "jzf_2023_3", "firstSetEquipment"),
    "jzf-2023-3/4.32b": ("key_software_enterprise_award", "jzf_2023_3", None),
    "jzf-2023-3/4.32c": ("key_ic_design_enterprise_award", "jzf_2023_3", None),
    "jzf-2023-3/4.32d": ("software_top100_award", "jzf_2023_3", None),
}


def _groups():
    groups = {}
    for clause_id in sorted(CLAUSES):  # sorted: ties go to the smallest clause id
        group = CLAUSES[clause_id][2]
        if group is not None:
            groups.setdefault(group, []).append(clause_id)
    return {group: members for group, members in groups.items() if len(members) > 1}


#: overlapGroup -> its encoded clause ids, sorted; only groups with two or more encoded clauses
OVERLAP_GROUPS = _groups()


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def winner_variable(group: str) -> str:
    return f"overlap_{_snake(group)}_paid"


def proposed_variable(clause_id: str) -> str:
    return CLAUSES[clause_id][0] + "_proposed"


def _make_winner(group: str, members: list):
    def formula(enterprise, period, parameters):
        amounts = numpy.stack([enterprise(CLAUSES[c][0], period) for c in members])
        eligible = amounts > 0
        highest_only = numpy.array([bool(getattr(parameters(period), CLAUSES[c][1]).highest_only or False) for c in members])
        applies = (eligible.sum(axis=0) > 1) & (eligible & highest_only[:, None]).any(axis=0)
        winner = numpy.argmax(amounts, axis=0)  # first maximum: the smallest clause id among equals
        return numpy.where(applies, winner, -1)

    return type(winner_variable(group), (Variable,), {
        "value_type": int,
        "entity": Enterprise,
        "definition_period": DateUnit.DAY,
        "default_value": -1,
        "label": f"就高不重复 {group}: index in {members} of the clause paid where the rule applies, -1 where it does not",
        "formula": formula,
    })


def _make_proposed(clause_id: str):
    variable, _, group = CLAUSES[clause_id]
    if group in OVERLAP_GROUPS:
        index = OVERLAP_GROUPS[group].index(clause_id)
        winner = winner_variable(group)

        def formula(enterprise, period, parameters):
            amount = enterprise(variable, period)
            paid = enterprise(winner, period)
            superseded = (paid >= 0) & (paid != index)
            return numpy.where(superseded, 0, amount).astype(numpy.int64)
    else:
        def formula(enterprise, period, parameters):
            return enterprise(variable, period)

    return type(proposed_variable(clause_id), (FenVariable,), {
        "value_type": int,
        "entity": Enterprise,
        "definition_period": DateUnit.DAY,
        "default_value": 0,
        "label": f"{clause_id}: amount proposed after 就高不重复 (0 where superseded or not eligible)",
        "reference": clause_id,
        "formula": formula,
    })


class total_proposed(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    default_value = 0
    label = "Cash proposed to the enterprise without an application (the engine's totalEligibleFen)"

    def formula(enterprise, period, parameters):
        total = numpy.zeros(enterprise.count, dtype=numpy.int64)
        for clause_id in CLAUSES:
            total += enterprise(proposed_variable(clause_id), period)
        return total


GENERATED = [_make_winner(g, m) for g, m in OVERLAP_GROUPS.items()] + [_make_proposed(c) for c in CLAUSES]
