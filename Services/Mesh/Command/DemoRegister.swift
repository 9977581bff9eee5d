import BenefitsDomain
import Foundation
import MeshMessages

/// The demo's register grown past its five hand-written samples: enterprises generated from the samples'
/// own patterns (a recognition at some level, a digital project of some size), in the samples' counties,
/// so a campaign has thousands of orders to propose and a department has whole clauses to decide in bulk.
///
/// Invariant: the same `count` gives the same enterprises, credit codes and figures on every run, so a
/// second `mesh demo` on the same state registers nothing new and every campaign order is replayed.
enum DemoRegister {
    /// Characters 9–10 of every generated credit code; no sample's code carries them.
    static let codeMark = "DM"

    static func generated(_ count: Int, like samples: [Jiaxing_Benefits_V1_EnterpriseProfile])
        -> [Jiaxing_Benefits_V1_EnterpriseProfile]
    {
        let counties = Array(Set(samples.compactMap { County(message: $0.county) })).sorted {
            $0.partyName < $1.partyName
        }
        guard !counties.isEmpty else { return [] }
        return (0..<count).map { index in
            let county = counties[index % counties.count]
            var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
            let division = county.divisionCodes.sorted()[0]
            profile.creditCode =
                CreditCode.completing("91" + division + Self.codeMark + String(format: "%07d", index))!.value
            profile.name = Self.name(index)
            profile.county = county.message
            // A spread like a city's: most enterprises hold one municipal or provincial recognition, some a
            // national one, a share carry a digital project from a few hundred thousand yuan to millions.
            let pattern = (index / counties.count) % 10
            switch pattern {
            case 0...5:
                let level = pattern < 4 ? "municipal" : pattern == 4 ? "provincial" : "national"
                profile.recognitions = [Self.recognition("greenFactory", level, month: 1 + index % 6)]
            case 6:
                profile.recognitions = [Self.recognition("littleGiant", "national", month: 1 + index % 6)]
            default:
                let investment = Int64(300_000 + (index * 7_919) % 4_700_000) * 100
                var project = Jiaxing_Benefits_V1_ProjectRecord()
                project.kind = "pureDigitalTransformation"
                project.name = "数字化改造项目"
                project.investmentFen = investment
                project.completedOn = CalendarDate(year: 2023, month: 1 + index % 7, day: 15)!.message
                profile.projects = [project]
                var fact = Jiaxing_Benefits_V1_FactRecord()
                fact.fact = "digitalInvestment"
                fact.amount = investment
                profile.facts = [fact]
            }
            return profile
        }
    }

    static func recognition(_ kind: String, _ level: String, month: Int) -> Jiaxing_Benefits_V1_RecognitionRecord {
        var recognition = Jiaxing_Benefits_V1_RecognitionRecord()
        recognition.recognition = kind
        recognition.level = level
        recognition.recognizedOn = CalendarDate(year: 2023, month: month, day: 10)!.message
        return recognition
    }

    /// A company name of the region's usual shape (字号 + 行业 + 有限公司), varied by the index.
    static func name(_ index: Int) -> String {
        let first = ["恒", "华", "新", "永", "金", "瑞", "宏", "盛", "达", "嘉", "禾", "振", "博", "远", "广", "中"]
        let second = ["昌", "泰", "源", "信", "丰", "隆", "创", "佳", "越", "通", "明", "诚", "安", "锦", "和", "立"]
        let trade = ["纺织", "机械", "新材料", "电子", "化纤", "食品", "家居", "光伏", "汽车零部件", "智能装备", "印染", "服饰"]
        let a = first[index % first.count]
        let b = second[(index / first.count) % second.count]
        let c = trade[(index / (first.count * second.count)) % trade.count]
        return "\(a)\(b)\(c)有限公司"
    }
}
