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
    /// The levels a recognition may carry (the vocabulary's), by index: a record's level is stored as its
    /// index, -1 for none.
    let levels: [String]
    private let levelIndex: [String: Int8]

    struct Recognitions: Sendable {
        var owner: [Int32] = []
        var level: [Int8] = []
        var recognizedOn: [Int32] = []

        mutating func append(_ owner: Int32, _ record: EnterpriseProfile.RecognitionRecord, level: Int8) {
            self.owner.append(owner)
            self.level.append(level)
            self.recognizedOn.append(Int32(record.recognizedOn.dayNumber))
        }
    }

    /// The enterprises that reported a fact for a year, ascending, and their values: a register reports few of
    /// the vocabulary's facts each, so a dense column per fact and year would mostly hold "not reported".
    struct Reported: Sendable {
        var owner: [Int32] = []
        var value: [Int64] = []

        mutating func append(_ owner: Int32, _ value: Int64) {
            self.owner.append(owner)
            self.value.append(value)
        }
    }

    struct Projects: Sendable {
        var owner: [Int32] = []
        var investmentFen: [Int64] = []
        /// Day number of acceptance; `Int32.min` where not yet accepted.
        var completedOn: [Int32] = []
        /// Each record's own figures (empty for most): what a per-item clause's base reads.
        var figures: [[String: Int64]] = []

        mutating func append(_ owner: Int32, _ record: EnterpriseProfile.ProjectRecord) {
            self.owner.append(owner)
            self.figures.append(record.figures)
            self.investmentFen.append(record.investmentFen)
            self.completedOn.append(record.completedOn.map { Int32($0.dayNumber) } ?? Int32.min)
        }
    }

    public private(set) var count = 0
    var county: [UInt8] = []

    /// The codes `county` holds for the counties `included` accepts: each county's index in `County.allCases`.
    static func countyCodes(where included: (County) -> Bool) -> Set<UInt8> {
        Set(County.allCases.indices.filter { included(County.allCases[$0]) }.map(UInt8.init))
    }
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
        self.industries = Dictionary(
            uniqueKeysWithValues: vocabulary.industries.enumerated().map { ($1.id, Int16($0)) })
        self.levels = vocabulary.levels.map(\.id)
        self.levelIndex = Dictionary(
            self.levels.enumerated().map { ($1, Int8($0)) }, uniquingKeysWith: { first, _ in first })
    }

    public init(_ profiles: some Sequence<EnterpriseProfile>, vocabulary: Vocabulary) {
        self.init(vocabulary: vocabulary)
        for profile in profiles { self.append(profile) }
    }

    /// Adds one profile as the next enterprise (its index is the count before the call).
    public mutating func append(_ profile: EnterpriseProfile) {
        let owner = Int32(self.count)
        self.count += 1
        self.county.append(UInt8(County.allCases.firstIndex(of: profile.county)!))
        self.industry.append(profile.industry.flatMap { self.industries[$0] } ?? -1)
        for (id, records) in profile.recognitions {
            for record in records {
                let level = record.level.flatMap { self.levelIndex[$0] } ?? -1
                self.recognitions[id, default: Recognitions()].append(owner, record, level: level)
            }
        }
        for (kind, records) in profile.projects {
            for record in records { self.projects[kind, default: Projects()].append(owner, record) }
        }
        for (fact, values) in profile.facts {
            for (year, value) in values {
                switch value {
                case .amount(let amount):
                    self.amounts[fact, default: [:]][year, default: Reported()].append(owner, amount)
                case .flag(let flag):
                    self.flags[fact, default: [:]][year, default: Reported()].append(owner, flag ? 1 : 0)
                }
            }
        }
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

    /// Each enterprise's value of a fact in the first year reported up to `year` (首年), or its single value.
    func resolvedFirst(_ fact: String, asOfYear year: Int) -> [Int64] {
        var result = [Int64](repeating: Self.notReported, count: self.count)
        guard let byYear = self.amounts[fact] else { return result }
        for reported in byYear.keys.filter({ $0 != 0 && $0 <= year }).sorted(by: >) {
            Self.overlay(&result, byYear[reported]!)
        }
        if let single = byYear[0] { Self.overlay(&result, single) }
        return result
    }

    /// Each enterprise's value of a yearly fact in the latest year reported up to `year`, and its value in the
    /// year before that one (`notReported` where that year is missing): what 新达到 compares.
    func resolvedWithPrevious(_ fact: String, asOfYear year: Int) -> (value: [Int64], previous: [Int64]) {
        var value = [Int64](repeating: Self.notReported, count: self.count)
        var previous = [Int64](repeating: Self.notReported, count: self.count)
        guard let byYear = self.amounts[fact] else { return (value, previous) }
        var latestYear = [Int32](repeating: 0, count: self.count)
        for reported in byYear.keys.filter({ $0 != 0 && $0 <= year }).sorted() {
            for (owner, amount) in zip(byYear[reported]!.owner, byYear[reported]!.value) {
                value[Int(owner)] = amount
                latestYear[Int(owner)] = Int32(reported)
            }
        }
        for index in 0..<self.count where latestYear[index] != 0 {
            guard let before = byYear[Int(latestYear[index]) - 1] else { continue }
            // Reported lists are ascending by owner: a binary search finds the enterprise's value.
            var (low, high) = (0, before.owner.count)
            while low < high {
                let middle = (low + high) / 2
                if before.owner[middle] < Int32(index) { low = middle + 1 } else { high = middle }
            }
            if low < before.owner.count, before.owner[low] == Int32(index) { previous[index] = before.value[low] }
        }
        return (value, previous)
    }

    private static func overlay(_ result: inout [Int64], _ reported: Reported) {
        for (owner, value) in zip(reported.owner, reported.value) { result[Int(owner)] = value }
    }
}
