import BenefitsDomain
import CatalogModel

/// Many validated profiles laid out by column, for computing amounts over a whole register at once (a
/// budget forecast, the benchmark against OpenFisca): facts as the enterprises that reported each (per fact
/// and year), recognitions and projects as flat records grouped by kind, county and industry as small
/// integers. Built once; `EligibilityEngine.amounts(_:asOf:)` reads it, resolving each fact a clause reads
/// into a dense column for the day.
public struct EnterpriseColumns: Sendable {
    /// A value a fact column holds for an enterprise that did not report the fact.
    static let notReported = Int64.min
    /// The levels a recognition may carry, by index (a record's level is stored as its index, -1 for none).
    static let levels = Vocabulary.levels.sorted()

    struct Recognitions: Sendable {
        var owner: [Int32] = []
        var level: [Int8] = []
        var recognizedOn: [Int32] = []
    }

    /// The enterprises that reported a fact for a year, ascending, and their values: a register reports few of
    /// the vocabulary's facts each, so a dense column per fact and year would mostly hold "not reported".
    struct Reported: Sendable {
        var owner: [Int32] = []
        var value: [Int64] = []
    }

    struct Projects: Sendable {
        var owner: [Int32] = []
        var investmentFen: [Int64] = []
        /// Day number of acceptance; `Int32.min` where not yet accepted.
        var completedOn: [Int32] = []
    }

    public private(set) var count = 0
    var county: [UInt8] = []
    /// Index into the vocabulary's industries; -1 where none is registered.
    var industry: [Int16] = []
    /// Records of each recognition, in the order of their enterprises.
    var recognitions: [String: Recognitions] = [:]
    var projects: [String: Projects] = [:]
    /// fact → year (0 for facts that are not yearly) → who reported it, and the value.
    var amounts: [String: [Int: Reported]] = [:]
    var flags: [String: [Int: Reported]] = [:]
    let industries: [String: Int16]

    public init(vocabulary: Vocabulary) {
        self.industries = Dictionary(uniqueKeysWithValues: vocabulary.industries.enumerated().map { ($1.id, Int16($0)) })
    }

    public init(_ profiles: some Sequence<EnterpriseProfile>, vocabulary: Vocabulary) {
        self.init(vocabulary: vocabulary)
        for profile in profiles { self.append(profile) }
    }

    /// Adds one profile as the next enterprise (its index is the count before the call).
    public mutating func append(_ profile: EnterpriseProfile) {
        let index = self.count
        let owner = Int32(index)
        self.count += 1
        self.county.append(UInt8(County.allCases.firstIndex(of: profile.county)!))
        self.industry.append(profile.industry.flatMap { self.industries[$0] } ?? -1)
        for (id, records) in profile.recognitions {
            for record in records {
                self.recognitions[id, default: Recognitions()].owner.append(owner)
                self.recognitions[id]!.level.append(record.level.flatMap { level in Self.levels.firstIndex(of: level).map(Int8.init) } ?? -1)
                self.recognitions[id]!.recognizedOn.append(Int32(record.recognizedOn.dayNumber))
            }
        }
        for (kind, records) in profile.projects {
            for record in records {
                self.projects[kind, default: Projects()].owner.append(owner)
                self.projects[kind]!.investmentFen.append(record.investmentFen)
                self.projects[kind]!.completedOn.append(record.completedOn.map { Int32($0.dayNumber) } ?? Int32.min)
            }
        }
        for (fact, values) in profile.facts {
            for (year, value) in values {
                switch value {
                case .amount(let amount): Self.add(&self.amounts[fact, default: [:]][year, default: Reported()], owner, amount)
                case .flag(let flag): Self.add(&self.flags[fact, default: [:]][year, default: Reported()], owner, flag ? 1 : 0)
                }
            }
        }
    }

    private static func add(_ reported: inout Reported, _ owner: Int32, _ value: Int64) {
        reported.owner.append(owner)
        reported.value.append(value)
    }

    /// Each enterprise's value of a fact as of `year`, as `EnterpriseProfile.fact(_:asOfYear:)` chooses it: the
    /// value of a fact that is not yearly, else the latest year reported up to `year`.
    func resolved(_ fact: String, asOfYear year: Int, flags: Bool) -> [Int64] {
        var result = [Int64](repeating: Self.notReported, count: self.count)
        guard let byYear = (flags ? self.flags : self.amounts)[fact] else { return result }
        for reported in byYear.keys.filter({ $0 != 0 && $0 <= year }).sorted() {
            Self.overlay(&result, byYear[reported]!)
        }
        if let single = byYear[0] { Self.overlay(&result, single) }
        return result
    }

    private static func overlay(_ result: inout [Int64], _ reported: Reported) {
        for (owner, value) in zip(reported.owner, reported.value) { result[Int(owner)] = value }
    }
}
