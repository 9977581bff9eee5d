"""One variable per clause (int64 fen, on the as-of day, before 就高不重复): the amount the engine
decides for an ELIGIBLE decision, 0 otherwise.

Each formula mirrors the clause's conditions and formula in Services/Catalog/Data (see the catalog id in
``reference``). A clause whose document is not in force on the as-of day gives 0. All amounts are
int64 fen, rounded down (floor) at each rate, caps applied after rounding.
"""

import numpy

from openfisca_core.periods import DateUnit

from jiaxing_openfisca.entities import Enterprise
from jiaxing_openfisca.variables.common import held_before, holds, in_force, latest_reported, period_start
from jiaxing_openfisca.variables.inputs import FenVariable


def _zeros(enterprise):
    return numpy.zeros(enterprise.count, dtype=numpy.int64)


# 嘉政办发〔2023〕32号 四、(一): 新认定 (any level), 就高不重复 with 嘉政发〔2023〕3号 三、21. -------------


def _new_recognition_32(enterprise, period, parameters, kind, key):
    if not in_force(parameters, period, "jzbf_2023_32"):
        return _zeros(enterprise)
    amount = getattr(parameters(period).jzbf_2023_32.new_recognition_award, key)
    since = period_start(enterprise, period, "jzbf_2023_32")
    return numpy.where(holds(enterprise, period, kind, since=since), amount, 0).astype(numpy.int64)


class new_single_champion_award_32(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定单项冠军企业奖励 300万元"
    reference = "jzbf-2023-32/4.1a"

    def formula(enterprise, period, parameters):
        return _new_recognition_32(enterprise, period, parameters, "singleChampion", "single_champion")


class new_little_giant_award_32(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定专精特新“小巨人”企业奖励 150万元"
    reference = "jzbf-2023-32/4.1b"

    def formula(enterprise, period, parameters):
        return _new_recognition_32(enterprise, period, parameters, "littleGiant", "little_giant")


class new_hidden_champion_award_32(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定隐形冠军企业奖励 100万元"
    reference = "jzbf-2023-32/4.1c"

    def formula(enterprise, period, parameters):
        return _new_recognition_32(enterprise, period, parameters, "hiddenChampion", "hidden_champion")


# 嘉政发〔2023〕3号 -----------------------------------------------------------------------------------


def _recognition_3(enterprise, period, parameters, kind, amount_of, levels=None, new=False, first=False):
    """Fixed amount for a recognition (at ``levels``, 新认定 in the document period when ``new``; 首次 when
    ``first``: also none of ``kind`` at any level before the period)."""
    if not in_force(parameters, period, "jzf_2023_3"):
        return _zeros(enterprise)
    amount = amount_of(parameters(period).jzf_2023_3)
    since = period_start(enterprise, period, "jzf_2023_3") if (new or first) else None
    met = holds(enterprise, period, kind, levels=levels, since=since)
    if first:
        met &= ~held_before(enterprise, period, kind, since)
    return numpy.where(met, amount, 0).astype(numpy.int64)


def _tiers_3(enterprise, period, parameters, kind, tiers_of):
    """Tiers: the highest tier amount among the levels held (condition accepts any level, 经认定)."""
    if not in_force(parameters, period, "jzf_2023_3"):
        return _zeros(enterprise)
    tiers = tiers_of(parameters(period).jzf_2023_3)
    result = _zeros(enterprise)
    for level, amount in tiers.items():
        held = holds(enterprise, period, kind, levels=[level])
        result = numpy.maximum(result, numpy.where(held, amount, 0))
    return result


class rd_investment_subsidy(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "企业研发投入奖补: 研发费用增量×10%, 最高500万元"
    reference = "jzf-2023-3/2.12"

    def formula(enterprise, period, parameters):
        if not in_force(parameters, period, "jzf_2023_3"):
            return _zeros(enterprise)
        p = parameters(period).jzf_2023_3.rd_investment_subsidy
        expense = latest_reported(enterprise, period, "rd_expense")
        growth = latest_reported(enterprise, period, "rd_expense_growth")
        intensity = latest_reported(enterprise, period, "rd_intensity")
        increase = latest_reported(enterprise, period, "rd_expense_increase")
        # 占比: 高新技术企业 (holding the recognition on the day) 4%, else 规上企业 (flag true) 3%, else none asked.
        high_tech = holds(enterprise, period, "highTechEnterprise")
        above_size = enterprise("above_designated_size", period)
        minimum_intensity = numpy.where(high_tech, p.minimum_intensity_high_tech,
                                        numpy.where(above_size, p.minimum_intensity, 0))
        met = (expense >= p.minimum_rd_expense) & (growth >= p.minimum_growth) & (increase >= 0)
        met &= (minimum_intensity <= 0) | (intensity >= minimum_intensity)
        amount = numpy.minimum(numpy.maximum(increase, 0) * p.rate // 10_000, p.cap)
        return numpy.where(met, amount, 0).astype(numpy.int64)


class future_factory_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "省级未来工厂示范企业奖励 150万元"
    reference = "jzf-2023-3/3.18e"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "futureFactory", lambda p: p.intelligent_manufacturing_award.future_factory, levels=["provincial"])


class future_factory_pilot_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "省级未来工厂培育（试点）企业奖励 50万元"
    reference = "jzf-2023-3/3.18f"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "futureFactoryPilot", lambda p: p.intelligent_manufacturing_award.future_factory_pilot, levels=["provincial"])


class smart_factory_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "省级智能工厂（数字化车间）奖励 30万元"
    reference = "jzf-2023-3/3.18g"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "smartFactory", lambda p: p.intelligent_manufacturing_award.smart_factory, levels=["provincial"])


class green_factory_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "绿色工厂奖励 国家级150万元/省级50万元/市级20万元"
    reference = "jzf-2023-3/3.19b"

    def formula(enterprise, period, parameters):
        return _tiers_3(enterprise, period, parameters, "greenFactory", lambda p: {
            "national": p.green_factory_award.national,
            "provincial": p.green_factory_award.provincial,
            "municipal": p.green_factory_award.municipal,
        })


class green_supply_chain_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "国家级绿色供应链管理企业奖励 150万元"
    reference = "jzf-2023-3/3.19d"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "greenSupplyChainEnterprise", lambda p: p.green_national_award.green_supply_chain, levels=["national"])


class green_design_demo_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "国家级绿色设计示范企业奖励 150万元"
    reference = "jzf-2023-3/3.19e"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "greenDesignDemoEnterprise", lambda p: p.green_national_award.green_design_demo, levels=["national"])


class enterprise_tech_centre_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "制造业企业技术中心奖励 国家级150万元/省级50万元/市级20万元"
    reference = "jzf-2023-3/3.20b"

    def formula(enterprise, period, parameters):
        return _tiers_3(enterprise, period, parameters, "enterpriseTechCentre", lambda p: {
            "national": p.enterprise_tech_centre_award.national,
            "provincial": p.enterprise_tech_centre_award.provincial,
            "municipal": p.enterprise_tech_centre_award.municipal,
        })


class industry_chain_community_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "省级产业链上下游企业共同体奖励 (牵头单位) 30万元"
    reference = "jzf-2023-3/3.20e"

    def formula(enterprise, period, parameters):
        amount = _recognition_3(enterprise, period, parameters, "industryChainCommunity", lambda p: p.industry_chain_community_award, levels=["provincial"])
        return numpy.where(enterprise("community_lead_unit", period), amount, 0).astype(numpy.int64)


class new_single_champion_award_3(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定国家级“单项冠军”奖励 300万元"
    reference = "jzf-2023-3/3.21a"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "singleChampion", lambda p: p.new_recognition_award.single_champion, levels=["national"], new=True)


class new_little_giant_award_3(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定专精特新“小巨人”奖励 150万元"
    reference = "jzf-2023-3/3.21b"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "littleGiant", lambda p: p.new_recognition_award.little_giant, levels=["national"], new=True)


class new_hidden_champion_award_3(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "新认定省级“隐形冠军”奖励 100万元"
    reference = "jzf-2023-3/3.21c"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "hiddenChampion", lambda p: p.new_recognition_award.hidden_champion, levels=["provincial"], new=True)


class first_version_software_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "首版次软件产品奖励 市级20万元/省级50万元"
    reference = "jzf-2023-3/4.31"

    def formula(enterprise, period, parameters):
        return _tiers_3(enterprise, period, parameters, "firstVersionSoftware", lambda p: {
            "municipal": p.first_version_software_award.municipal,
            "provincial": p.first_version_software_award.provincial,
        })


class key_software_enterprise_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "首次列入国家鼓励的重点软件企业奖励 150万元"
    reference = "jzf-2023-3/4.32b"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "nationalKeySoftwareEnterprise", lambda p: p.first_listing_award.key_software_enterprise, levels=["national"], new=True, first=True)


class key_ic_design_enterprise_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "首次列入国家鼓励的重点集成电路设计企业奖励 150万元"
    reference = "jzf-2023-3/4.32c"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "nationalKeyIcDesignEnterprise", lambda p: p.first_listing_award.key_ic_design_enterprise, levels=["national"], new=True, first=True)


class software_top100_award(FenVariable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "首次列入中国软件业务收入前百强企业奖励 150万元"
    reference = "jzf-2023-3/4.32d"

    def formula(enterprise, period, parameters):
        return _recognition_3(enterprise, period, parameters, "chinaSoftwareTop100", lambda p: p.first_listing_award.software_top100, levels=["national"], new=True, first=True)
