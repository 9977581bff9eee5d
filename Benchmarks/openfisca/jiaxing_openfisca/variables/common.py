"""Helpers the clause formulas share: the engine's rules for recognitions, yearly facts and periods.

Mirrors Services/Eligibility/Engine/EligibilityEngine+Context.swift:
- a recognition record counts when recognized_on <= the as-of day, its level is one the condition
  accepts (any level, also none, when the condition names no level), and, for 新认定 (newInPeriod),
  recognized_on lies in the document's period: effectiveFrom ... min(asOf, effectiveUntil);
- a yearly fact is the value of the latest year <= the as-of day's year that the profile reports.
"""

import datetime

import numpy

from jiaxing_openfisca.entities import Enterprise
from jiaxing_openfisca.variables.inputs import NOT_REPORTED, RecognitionKind, RecognitionLevel


def as_of(period) -> numpy.datetime64:
    """The as-of day: the first day of the period the clause amounts are computed for."""
    start = period.start
    return numpy.datetime64(datetime.date(start.year, start.month, start.day), "D")


def in_force(parameters, period, document: str) -> bool:
    value = getattr(parameters(period), document).in_force
    return bool(value) if value is not None else False


def period_start(enterprise, period, document: str) -> numpy.datetime64:
    """First day of the stretch of ``in_force`` that contains the as-of day (the document's effectiveFrom)."""
    parameter = getattr(enterprise.simulation.tax_benefit_system.parameters, document).in_force
    day = as_of(period)
    start = None
    for value in parameter.values_list:  # newest first
        instant = numpy.datetime64(value.instant_str, "D")
        if instant > day:
            continue
        if not value.value:
            break
        start = instant
    if start is None:
        raise ValueError(f"{document} is not in force on {day}")
    return start


def holds(enterprise, period, kind: str, levels=None, since=None):
    """Per enterprise: whether it holds a record of ``kind`` recognised by the as-of day, at one of
    ``levels`` (level names of RecognitionLevel; None = any level, also none), recognised on or after
    ``since`` when given (新认定)."""
    kinds = enterprise.members("recognition_kind", period)
    dates = enterprise.members("recognized_on", period)
    mask = (kinds == RecognitionKind[kind]) & (dates <= as_of(period))
    if levels is not None:
        recorded = enterprise.members("recognition_level", period)
        accepted = numpy.zeros(len(mask), dtype=bool)
        for level in levels:
            accepted |= recorded == RecognitionLevel[level]
        mask &= accepted
    if since is not None:
        mask &= dates >= since
    return enterprise.any(mask, role=Enterprise.RECORD)


def held_before(enterprise, period, kind: str, before):
    """Per enterprise: whether it held a record of ``kind`` at any level recognised before ``before``: for
    首次 (a first recognition), what makes one in the period a re-recognition."""
    kinds = enterprise.members("recognition_kind", period)
    dates = enterprise.members("recognized_on", period)
    return enterprise.any((kinds == RecognitionKind[kind]) & (dates < before), role=Enterprise.RECORD)


def latest_reported(enterprise, period, variable: str):
    """The value of a yearly fact for the latest year up to the as-of year that holds one, per enterprise;
    NOT_REPORTED where no such year does."""
    holder = enterprise.get_holder(variable)
    years = sorted({p.start.year for p in holder.get_known_periods() if p.start.year <= period.start.year}, reverse=True)
    result = numpy.full(enterprise.count, NOT_REPORTED, dtype=numpy.int64)
    for year in years:
        values = enterprise(variable, str(year))
        result = numpy.where(result == NOT_REPORTED, values, result)
    return result
