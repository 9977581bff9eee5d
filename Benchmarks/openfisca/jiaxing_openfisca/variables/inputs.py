"""Input variables: what an EnterpriseProfile says that the encoded clauses read.

Money is integer fen and rates are basis points, both numpy int64 (OpenFisca's ``int`` is int32, too
small for fen: ``FenVariable`` widens the storage). A yearly fact not reported for a year holds
``NOT_REPORTED`` (-1): every reported amount is >= 0 (the engine refuses negative amounts).
"""

from datetime import date

import numpy

from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from jiaxing_openfisca.entities import Enterprise, Recognition

NOT_REPORTED = -1


class FenVariable(Variable):
    """An integer variable stored as int64 (fen, basis points, counts). OpenFisca reads a variable's
    attributes from its own class only, so each subclass still declares ``value_type = int``."""

    def __init__(self, baseline_variable=None) -> None:
        super().__init__(baseline_variable)
        self.dtype = numpy.int64


# Recognition records (the person entity) ----------------------------------------------------------


class RecognitionKind(Enum):
    """The recognition ids of the catalog vocabulary (Services/Catalog/Data/vocabulary.json)."""

    firstSetEquipment = "首台(套)装备/首批次新材料/首版次软件"
    firstVersionSoftware = "首版次软件产品"
    internationalDesignAward = "iF设计金奖/“红点之星”/“红点至尊”奖"
    singleChampion = "制造业单项冠军企业"
    littleGiant = "专精特新“小巨人”企业"
    hiddenChampion = "隐形冠军企业"
    specialisedSme = "专精特新中小企业"
    digitalTransformationDemoSample = "数字化改造示范样本项目"
    futureFactory = "未来工厂示范企业"
    futureFactoryPilot = "未来工厂培育(试点)企业"
    smartFactory = "智能工厂(数字化车间)"
    greenFactory = "绿色工厂"
    greenPark = "绿色园区"
    greenSupplyChainEnterprise = "绿色供应链管理企业"
    greenDesignDemoEnterprise = "绿色设计示范企业"
    manufacturingInnovationCentre = "制造业创新中心"
    enterpriseTechCentre = "制造业企业技术中心"
    industryChainCommunity = "产业链上下游企业共同体"
    smallMicroEnterprisePark = "星级小微企业园"
    highEnergyServiceInnovationZone = "服务业高能级创新发展区"
    serviceInnovationZone = "现代服务业创新发展区"
    nationalKeySoftwareEnterprise = "国家鼓励的重点软件企业"
    nationalKeyIcDesignEnterprise = "国家鼓励的重点集成电路设计企业"
    chinaSoftwareTop100 = "中国软件业务收入前百强企业"
    highTechEnterprise = "高新技术企业"
    advancedTechServiceEnterprise = "技术先进型服务企业"
    techLeadingEnterprise = "科技领军企业"
    techLittleGiant = "科技小巨人企业"
    techIncubator = "科技企业孵化器"
    makerSpace = "众创空间"
    keyEnterpriseResearchInstitute = "重点企业研究院"
    enterpriseResearchInstitute = "企业研究院"
    innovationContestWinner = "创新创业大赛获奖"
    overseasTalentOrTenThousandTalentProgramme = "海外引才计划和万人计划入选者"
    starSouthLakeTopTalent = "“星耀南湖”顶尖人才计划入选者"
    starSouthLakeLeadingTalent = "“星耀南湖”领军人才计划入选者"
    starSouthLakeTopNotchTalent = "“星耀南湖”拔尖人才计划入选者"
    starSouthLakeFlexibleTalent = "“星耀南湖”柔性人才计划入选者"
    agriEntrepreneur = "农创客"
    agriLeadingEnterpriseOrDemoCooperative = "农业龙头企业或示范性农民专业合作社"
    intelligentRenovationGrade = "智能化改造项目评价档次"


class RecognitionLevel(Enum):
    none = "未标级别"
    national = "国家级"
    provincial = "省级"
    municipal = "市级"
    county = "县级"
    # The vocabulary's other levels: no encoded clause names them, but a record may carry one.
    international = "国际"
    domestic = "国内"
    withinProvince = "省内"
    withinCity = "市内"
    threeStar = "三星级"
    fourStar = "四星级"
    fiveStar = "五星级"
    gradeA = "A档"
    gradeB = "B档"
    gradeC = "C档"
    gradeD = "D档"
    gradeE = "E档"


class recognition_kind(Variable):
    value_type = Enum
    possible_values = RecognitionKind
    default_value = RecognitionKind.firstSetEquipment
    entity = Recognition
    definition_period = DateUnit.ETERNITY
    label = "Which recognition (RecognitionRecord.recognition)"


class recognition_level(Variable):
    value_type = Enum
    possible_values = RecognitionLevel
    default_value = RecognitionLevel.none
    entity = Recognition
    definition_period = DateUnit.ETERNITY
    label = "Level of the recognition (RecognitionRecord.level; none when empty)"


class recognized_on(Variable):
    value_type = date
    entity = Recognition
    definition_period = DateUnit.ETERNITY
    label = "Day of the recognition (RecognitionRecord.recognized_on)"


# Facts of the enterprise ---------------------------------------------------------------------------


class rd_expense(FenVariable):
    value_type = int
    default_value = NOT_REPORTED
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "研发费用 (fact rdExpense, fen), by year"


class rd_expense_growth(FenVariable):
    value_type = int
    default_value = NOT_REPORTED
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "研发费用增幅 (fact rdExpenseGrowth, basis points), by year"


class rd_intensity(FenVariable):
    value_type = int
    default_value = NOT_REPORTED
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "研发费用占营业收入比重 (fact rdIntensity, basis points), by year"


class rd_expense_increase(FenVariable):
    value_type = int
    default_value = NOT_REPORTED
    entity = Enterprise
    definition_period = DateUnit.YEAR
    label = "研发费用增量 (fact rdExpenseIncrease, fen), by year"


class community_lead_unit(Variable):
    value_type = bool
    default_value = False
    entity = Enterprise
    definition_period = DateUnit.ETERNITY
    label = "共同体牵头单位 (fact communityLeadUnit, not yearly): true only when reported as flag true"


class above_designated_size(Variable):
    value_type = bool
    default_value = False
    entity = Enterprise
    definition_period = DateUnit.ETERNITY
    label = "规上企业 (fact aboveDesignatedSize, not yearly): true only when reported as flag true"


#: fact id of the vocabulary -> yearly input variable
YEARLY_FACTS = {
    "rdExpense": "rd_expense",
    "rdExpenseGrowth": "rd_expense_growth",
    "rdIntensity": "rd_intensity",
    "rdExpenseIncrease": "rd_expense_increase",
}
#: fact id -> non-yearly flag input variable
FLAG_FACTS = {
    "communityLeadUnit": "community_lead_unit",
    "aboveDesignatedSize": "above_designated_size",
}
