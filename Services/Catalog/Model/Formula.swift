import BenefitsDomain

/// How a clause's amount is computed, as typed data. Integer arithmetic; amounts round down to the fen.
public enum Formula: Sendable, Hashable, Codable {
    public struct Tier: Sendable, Hashable, Codable {
        public var level: String
        public var amountFen: Fen
    }

    public struct Band: Sendable, Hashable, Codable {
        public var band: String
        public var amountFen: Fen
    }

    /// One term of `lowestOf`: a figure times `amountFenPerUnit` (2000元/亩), or times `numerator` / `denominator`
    /// (投资总额的1/3; 同等比例 is 1/1).
    public struct Term: Sendable, Hashable, Codable {
        public var base: String
        public var numerator: Int?
        public var denominator: Int?
        public var amountFenPerUnit: Fen?
    }

    /// 在投保费率2%的上限内: the premium counts only up to this share of the insured amount.
    public struct PremiumRateCap: Sendable, Hashable, Codable {
        /// The insured amount, a fact in fen.
        public var insuredBase: String
        public var basisPoints: Int
    }

    /// One step of an amount chosen by the highest threshold a figure reaches.
    public struct ThresholdTier: Sendable, Hashable, Codable {
        public var atLeast: Int64
        public var amountFen: Fen
    }

    /// 给予50万元奖励.
    case fixed(amountFen: Fen)
    /// 国家级、省级、市级分别给予150万元、50万元、20万元: the tier of the highest level held; any level the
    /// vocabulary declares for the recognition (国际/国内/省内/市内, A–E, 三星级…). With `upTo` (分别最高给予) each
    /// tier's amount is a cap and the department decides the amount.
    case tiers(recognition: String, tiers: [Tier], upTo: Bool)
    /// 对…专业型科技企业孵化器，奖励资金上浮20%: a share of the tier the text names for the highest level held,
    /// paid beside it (the uplift stacks with the tier's own clause).
    case tierShare(recognition: String, tiers: [Tier], rateBasisPoints: Int)
    /// 软件业务收入新达到2000万元、3000万元、5000万元…分别给予20万元、50万元、100万元: the amount of the highest
    /// threshold `fact` reaches (with `newlyReached`, reaches in its latest year and not the year before).
    case thresholdTiers(fact: String, tiers: [ThresholdTier], newlyReached: Bool)
    /// Graded bands (A–E 档): the band is decided by an evaluation.
    case bands([Band])
    /// 给予数字化投入20%的补助, 投入不低于100万元, 最高300万元.
    case percentage(base: String, rateBasisPoints: Int, minimumBaseFen: Fen?, capFen: Fen?)
    /// 按1:1.5给予配套: amount = base × numerator / denominator.
    case ratioMatch(base: String, numerator: Int, denominator: Int, capFen: Fen?)
    case interestSubsidy(base: String, rateBasisPoints: Int, capFen: Fen?, maxYears: Int?)
    /// 按保费的70%给予补偿: a share of the premium, the premium counted up to `premiumRateCap` of the insured
    /// amount where the text sets one (在投保费率2%的上限内), then capped.
    case insurancePremium(base: String, rateBasisPoints: Int, capFen: Fen?, premiumRateCap: PremiumRateCap?)
    /// 每台/每人/每平方米 …
    case perUnit(base: String, amountFenPerUnit: Fen, capFen: Fen?)
    /// 按…给予同等比例补助（最高不超过投资总额的1/3，且不超过2000元/亩）: the lowest of the terms, each computed
    /// from its figure; a term whose figure is not reported leaves the amount unknown.
    case lowestOf(terms: [Term])
    /// 最高X万元 with no rule below the cap: the department decides.
    case capOnly(capFen: Fen)
    /// The text leaves the amount open.
    case manual(reason: String)

    /// Every money amount the formula names, with the field it is in (for validation against the text).
    public var moneyAmounts: [(field: String, fen: Fen)] {
        switch self {
        case .fixed(let amount): return [("amountFen", amount)]
        case .tiers(_, let tiers, _), .tierShare(_, let tiers, _):
            return tiers.map { ("tiers[\($0.level)].amountFen", $0.amountFen) }
        case .thresholdTiers(_, let tiers, _): return tiers.map { ("tiers[\($0.atLeast)].amountFen", $0.amountFen) }
        case .bands(let bands): return bands.map { ("tiers[\($0.band)].amountFen", $0.amountFen) }
        case .percentage(_, _, let minimum, let cap):
            return [minimum.map { ("minimumBaseFen", $0) }, cap.map { ("capFen", $0) }].compactMap { $0 }
        case .ratioMatch(_, _, _, let cap), .interestSubsidy(_, _, let cap, _), .insurancePremium(_, _, let cap, _):
            return cap.map { [("capFen", $0)] } ?? []
        case .perUnit(_, let perUnit, let cap):
            return [("amountFenPerUnit", perUnit)] + (cap.map { [("capFen", $0)] } ?? [])
        case .capOnly(let cap): return [("capFen", cap)]
        case .lowestOf(let terms):
            return terms.enumerated().compactMap { index, term in
                term.amountFenPerUnit.map { ("terms[\(index)].amountFenPerUnit", $0) }
            }
        case .manual: return []
        }
    }

    /// Every rate the formula names, in basis points.
    public var rates: [(field: String, basisPoints: Int)] {
        switch self {
        case .percentage(_, let rate, _, _), .interestSubsidy(_, let rate, _, _), .tierShare(_, _, let rate):
            return [("rateBasisPoints", rate)]
        case .insurancePremium(_, let rate, _, let premiumRateCap):
            return [("rateBasisPoints", rate)]
                + (premiumRateCap.map { [("premiumRateCap.basisPoints", $0.basisPoints)] } ?? [])
        default:
            return []
        }
    }

    /// The fact the amount is computed from, if any.
    public var baseFact: String? {
        switch self {
        case .percentage(let base, _, _, _), .ratioMatch(let base, _, _, _), .interestSubsidy(let base, _, _, _),
            .insurancePremium(let base, _, _, _), .perUnit(let base, _, _):
            return base
        default:
            return nil
        }
    }

    /// Every fact the amount is computed from: the base, the insured amount, each term of `lowestOf`.
    public var baseFacts: [String] {
        switch self {
        case .insurancePremium(let base, _, _, let cap?): return [base, cap.insuredBase]
        case .lowestOf(let terms): return terms.map(\.base)
        default: return self.baseFact.map { [$0] } ?? []
        }
    }

    public var kindName: String {
        switch self {
        case .fixed: return "fixed"
        case .tiers: return "tiers"
        case .tierShare: return "tierShare"
        case .thresholdTiers: return "thresholdTiers"
        case .bands: return "bands"
        case .percentage: return "percentage"
        case .ratioMatch: return "ratioMatch"
        case .interestSubsidy: return "interestSubsidy"
        case .insurancePremium: return "insurancePremium"
        case .perUnit: return "perUnit"
        case .capOnly: return "capOnly"
        case .lowestOf: return "lowestOf"
        case .manual: return "manual"
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, amountFen, recognition, tiers, base, rateBasisPoints, minimumBaseFen, capFen, numerator, denominator,
            maxYears, amountFenPerUnit, reason, upTo, fact, newlyReached, premiumRateCap, terms
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        func fen(_ key: CodingKeys) throws -> Fen? { try container.decodeIfPresent(Fen.self, forKey: key) }
        func string(_ key: CodingKeys) throws -> String { try container.decode(String.self, forKey: key) }
        func int(_ key: CodingKeys) throws -> Int { try container.decode(Int.self, forKey: key) }
        switch kind {
        case "fixed": self = .fixed(amountFen: try container.decode(Fen.self, forKey: .amountFen))
        case "tiers":
            self = .tiers(
                recognition: try string(.recognition), tiers: try container.decode([Tier].self, forKey: .tiers),
                upTo: try container.decodeIfPresent(Bool.self, forKey: .upTo) ?? false)
        case "tierShare":
            self = .tierShare(
                recognition: try string(.recognition), tiers: try container.decode([Tier].self, forKey: .tiers),
                rateBasisPoints: try int(.rateBasisPoints))
        case "thresholdTiers":
            self = .thresholdTiers(
                fact: try string(.fact), tiers: try container.decode([ThresholdTier].self, forKey: .tiers),
                newlyReached: try container.decodeIfPresent(Bool.self, forKey: .newlyReached) ?? false)
        case "bands": self = .bands(try container.decode([Band].self, forKey: .tiers))
        case "percentage":
            self = .percentage(
                base: try string(.base), rateBasisPoints: try int(.rateBasisPoints),
                minimumBaseFen: try fen(.minimumBaseFen), capFen: try fen(.capFen))
        case "ratioMatch":
            self = .ratioMatch(
                base: try string(.base), numerator: try int(.numerator), denominator: try int(.denominator),
                capFen: try fen(.capFen))
        case "interestSubsidy":
            self = .interestSubsidy(
                base: try string(.base), rateBasisPoints: try int(.rateBasisPoints), capFen: try fen(.capFen),
                maxYears: try container.decodeIfPresent(Int.self, forKey: .maxYears))
        case "insurancePremium":
            self = .insurancePremium(
                base: try string(.base), rateBasisPoints: try int(.rateBasisPoints), capFen: try fen(.capFen),
                premiumRateCap: try container.decodeIfPresent(PremiumRateCap.self, forKey: .premiumRateCap))
        case "perUnit":
            self = .perUnit(
                base: try string(.base), amountFenPerUnit: try container.decode(Fen.self, forKey: .amountFenPerUnit),
                capFen: try fen(.capFen))
        case "capOnly": self = .capOnly(capFen: try container.decode(Fen.self, forKey: .capFen))
        case "lowestOf": self = .lowestOf(terms: try container.decode([Term].self, forKey: .terms))
        case "manual": self = .manual(reason: try string(.reason))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown formula kind '\(kind)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.kindName, forKey: .kind)
        switch self {
        case .fixed(let amount): try container.encode(amount, forKey: .amountFen)
        case .tiers(let recognition, let tiers, let upTo):
            try container.encode(recognition, forKey: .recognition)
            try container.encode(tiers, forKey: .tiers)
            if upTo { try container.encode(true, forKey: .upTo) }
        case .tierShare(let recognition, let tiers, let rate):
            try container.encode(recognition, forKey: .recognition)
            try container.encode(tiers, forKey: .tiers)
            try container.encode(rate, forKey: .rateBasisPoints)
        case .thresholdTiers(let fact, let tiers, let newlyReached):
            try container.encode(fact, forKey: .fact)
            try container.encode(tiers, forKey: .tiers)
            if newlyReached { try container.encode(true, forKey: .newlyReached) }
        case .bands(let bands): try container.encode(bands, forKey: .tiers)
        case .percentage(let base, let rate, let minimum, let cap):
            try container.encode(base, forKey: .base)
            try container.encode(rate, forKey: .rateBasisPoints)
            try container.encode(minimum, forKey: .minimumBaseFen)
            try container.encode(cap, forKey: .capFen)
        case .ratioMatch(let base, let numerator, let denominator, let cap):
            try container.encode(base, forKey: .base)
            try container.encode(numerator, forKey: .numerator)
            try container.encode(denominator, forKey: .denominator)
            try container.encode(cap, forKey: .capFen)
        case .interestSubsidy(let base, let rate, let cap, let maxYears):
            try container.encode(base, forKey: .base)
            try container.encode(rate, forKey: .rateBasisPoints)
            try container.encode(cap, forKey: .capFen)
            try container.encode(maxYears, forKey: .maxYears)
        case .insurancePremium(let base, let rate, let cap, let premiumRateCap):
            try container.encode(base, forKey: .base)
            try container.encode(rate, forKey: .rateBasisPoints)
            try container.encode(cap, forKey: .capFen)
            try container.encodeIfPresent(premiumRateCap, forKey: .premiumRateCap)
        case .perUnit(let base, let perUnit, let cap):
            try container.encode(base, forKey: .base)
            try container.encode(perUnit, forKey: .amountFenPerUnit)
            try container.encode(cap, forKey: .capFen)
        case .capOnly(let cap): try container.encode(cap, forKey: .capFen)
        case .lowestOf(let terms): try container.encode(terms, forKey: .terms)
        case .manual(let reason): try container.encode(reason, forKey: .reason)
        }
    }
}
