import BenefitsDomain
import MeshMessages

// Conversion between the catalog model and the shared messages (`jiaxing.benefits.v1`).

extension Stacking {
    var message: Jiaxing_Benefits_V1_Stacking {
        var stacking = Jiaxing_Benefits_V1_Stacking()
        switch self.rule {
        case .highestOnly: stacking.rule = .highestOnly
        case .stacks: stacking.rule = .stacks
        case .unspecified: stacking.rule = .unspecified
        }
        stacking.text = self.text ?? ""
        return stacking
    }

    init(message: Jiaxing_Benefits_V1_Stacking) {
        switch message.rule {
        case .highestOnly: self.rule = .highestOnly
        case .stacks: self.rule = .stacks
        default: self.rule = .unspecified
        }
        self.text = message.text.isEmpty ? nil : message.text
    }
}

extension PolicyDocument {
    /// The document as a message; `includeClauses: false` for listings.
    public func message(includeClauses: Bool = true) -> Jiaxing_Benefits_V1_PolicyDocument {
        var document = Jiaxing_Benefits_V1_PolicyDocument()
        document.id = self.id
        document.documentNumber = self.documentNumber ?? ""
        document.title = self.title
        document.issuer = self.issuer
        document.issueDate = self.issueDate.message
        document.effectiveFrom = self.effectiveFrom.message
        if let until = self.effectiveUntil { document.effectiveUntil = until.message }
        document.effectiveInferred = self.effectiveInferred
        document.effectiveText = self.effectiveText ?? ""
        document.sources = self.sources
        document.stacking = self.stacking.message
        document.clawbacks = self.clawbacks.map { clawback in
            var message = Jiaxing_Benefits_V1_Clawback()
            message.trigger = clawback.trigger.rawValue
            message.withinMonths = Int32(clawback.withinMonths ?? 0)
            message.text = clawback.text
            return message
        }
        document.payoutTargets = self.payoutTargets.map { target in
            var message = Jiaxing_Benefits_V1_PayoutTarget()
            message.by = target.by.message
            message.rateBasisPoints = Int32(target.rateBasisPoints)
            message.text = target.text
            return message
        }
        if let split = self.fundingSplit {
            document.fundingSplit.text = split.text
            document.fundingSplit.shares = split.shares.map { share in
                var message = Jiaxing_Benefits_V1_FundingShare()
                message.payer = share.payer.rawValue
                message.basisPoints = Int32(share.basisPoints)
                return message
            }
            document.fundingSplit.countyFunded = (split.countyFunded ?? []).map { funded in
                var message = Jiaxing_Benefits_V1_CountyFunded()
                message.counties = funded.counties.map(\.message)
                message.text = funded.text
                return message
            }
        }
        if includeClauses { document.clauses = self.clauses.map { $0.message(in: self) } }
        return document
    }

    public init(message: Jiaxing_Benefits_V1_PolicyDocument) throws {
        func date(_ value: Jiaxing_Benefits_V1_Date, _ field: String) throws -> CalendarDate {
            guard let date = CalendarDate(message: value) else {
                throw CatalogMessageError(field: "\(message.id).\(field)")
            }
            return date
        }
        self.id = message.id
        self.documentNumber = message.documentNumber.isEmpty ? nil : message.documentNumber
        self.title = message.title
        self.issuer = message.issuer
        self.issueDate = try date(message.issueDate, "issueDate")
        self.effectiveFrom = try date(message.effectiveFrom, "effectiveFrom")
        self.effectiveUntil = message.hasEffectiveUntil ? try date(message.effectiveUntil, "effectiveUntil") : nil
        self.effectiveInferred = message.effectiveInferred
        self.effectiveText = message.effectiveText.isEmpty ? nil : message.effectiveText
        self.sources = message.sources
        self.stacking = Stacking(message: message.stacking)
        self.clawbacks = message.clawbacks.map {
            Clawback(
                trigger: Clawback.Trigger(rawValue: $0.trigger) ?? .other,
                withinMonths: $0.withinMonths == 0 ? nil : Int($0.withinMonths), text: $0.text)
        }
        self.payoutTargets = try message.payoutTargets.map {
            PayoutTarget(
                by: try date($0.by, "payoutTargets.by"), rateBasisPoints: Int($0.rateBasisPoints), text: $0.text)
        }
        self.fundingSplit =
            message.hasFundingSplit
            ? FundingSplit(
                shares: message.fundingSplit.shares.map {
                    .init(payer: .init(rawValue: $0.payer) ?? .county, basisPoints: Int($0.basisPoints))
                },
                text: message.fundingSplit.text,
                countyFunded: message.fundingSplit.countyFunded.isEmpty
                    ? nil
                    : message.fundingSplit.countyFunded.map {
                        FundingSplit.CountyFunded(
                            counties: $0.counties.compactMap(County.init(message:)), text: $0.text)
                    }
            ) : nil
        self.clauses = try message.clauses.map(Clause.init(message:))
    }
}

/// A catalog message that does not convert back (a field out of range).
public struct CatalogMessageError: Error, CustomStringConvertible {
    public var field: String
    public var description: String { "catalog message has an invalid \(self.field)" }
}

extension Clause {
    /// The clause as a message, carrying the rule that applies to it (its own, else its document's).
    public func message(in document: PolicyDocument) -> Jiaxing_Benefits_V1_Clause {
        var clause = Jiaxing_Benefits_V1_Clause()
        clause.id = self.id
        clause.documentID = document.id
        clause.article = self.article
        clause.title = self.title
        clause.text = self.text
        clause.responsibleDepartments = self.responsibleDepartments
        clause.beneficiary = self.beneficiary.rawValue
        clause.benefitKind = self.benefitKind.rawValue
        clause.cash = self.cash
        clause.delivery = self.delivery.rawValue
        clause.overlapGroup = self.overlapGroup ?? ""
        clause.stacking = Catalog.stacking(of: self, in: document).message
        clause.conditions = self.conditions.map(\.message)
        clause.formula = self.formula.message
        clause.perYearCapFen = self.perYearCapFen ?? 0
        clause.cumulativeCapFen = self.cumulativeCapFen ?? 0
        clause.decisionWorkingDays = Int32(self.decisionWorkingDays ?? 0)
        clause.replaces = self.replaces
        clause.perItem = self.perItem
        clause.notes = self.notes ?? ""
        return clause
    }

    public init(message: Jiaxing_Benefits_V1_Clause) throws {
        self.id = message.id
        self.article = message.article
        self.title = message.title
        self.text = message.text
        self.responsibleDepartments = message.responsibleDepartments
        guard let beneficiary = Beneficiary(rawValue: message.beneficiary) else {
            throw CatalogMessageError(field: "\(message.id).beneficiary")
        }
        guard let kind = BenefitKind(rawValue: message.benefitKind) else {
            throw CatalogMessageError(field: "\(message.id).benefitKind")
        }
        guard let delivery = Delivery(rawValue: message.delivery) else {
            throw CatalogMessageError(field: "\(message.id).delivery")
        }
        self.beneficiary = beneficiary
        self.benefitKind = kind
        self.cash = message.cash
        self.delivery = delivery
        self.overlapGroup = message.overlapGroup.isEmpty ? nil : message.overlapGroup
        self.stacking = Stacking(message: message.stacking)
        self.conditions = try message.conditions.map { try Condition(message: $0, clause: message.id) }
        self.formula = try Formula(message: message.formula, clause: message.id)
        self.perYearCapFen = message.perYearCapFen == 0 ? nil : message.perYearCapFen
        self.cumulativeCapFen = message.cumulativeCapFen == 0 ? nil : message.cumulativeCapFen
        self.decisionWorkingDays = message.decisionWorkingDays == 0 ? nil : Int(message.decisionWorkingDays)
        self.replaces = message.replaces
        self.perItem = message.perItem
        self.notes = message.notes.isEmpty ? nil : message.notes
    }
}

extension Condition {
    var message: Jiaxing_Benefits_V1_Condition {
        var condition = Jiaxing_Benefits_V1_Condition()
        condition.text = self.text ?? ""
        switch self.kind {
        case .recognition(let recognition, let levels, let newInPeriod, let first):
            condition.recognition.recognition = recognition
            condition.recognition.levels = levels ?? []
            condition.recognition.newInPeriod = newInPeriod
            condition.recognition.first = first
        case .atLeast(let fact, let value, let overrides, let year):
            condition.atLeast.newlyReached = year == .newlyReached
            condition.atLeast.firstYear = year == .first
            condition.atLeast.fact = fact
            condition.atLeast.value = value
            condition.atLeast.overrides = overrides.map { override in
                var message = Jiaxing_Benefits_V1_ThresholdOverride()
                message.whenRecognition = override.whenRecognition ?? ""
                message.whenFlag = override.whenFlag ?? ""
                message.value = override.value
                message.text = override.text ?? ""
                return message
            }
        case .below(let fact, let value):
            condition.below.fact = fact
            condition.below.value = value
        case .flag(let fact):
            condition.flag.fact = fact
        case .project(let kind, let minimum, let completedInPeriod):
            condition.project.projectKind = kind
            condition.project.minimumInvestmentFen = minimum ?? 0
            condition.project.completedInPeriod = completedInPeriod
        case .industry(let industries):
            condition.industry.industries = industries
        case .county(let counties):
            condition.county.counties = counties
        case .anyOf(let conditions):
            condition.anyOf.conditions = conditions.map(\.message)
        case .exclusion(let fact, let industries):
            condition.exclusion.fact = fact ?? ""
            condition.exclusion.industries = industries
        }
        return condition
    }

    init(message: Jiaxing_Benefits_V1_Condition, clause: String) throws {
        let text = message.text.isEmpty ? nil : message.text
        switch message.kind {
        case .recognition(let value):
            self.init(
                kind: .recognition(
                    recognition: value.recognition, levels: value.levels.isEmpty ? nil : value.levels,
                    newInPeriod: value.newInPeriod, first: value.first), text: text)
        case .atLeast(let value):
            self.init(
                kind: .atLeast(
                    fact: value.fact, value: value.value,
                    overrides: value.overrides.map {
                        ThresholdOverride(
                            whenRecognition: $0.whenRecognition.isEmpty ? nil : $0.whenRecognition,
                            whenFlag: $0.whenFlag.isEmpty ? nil : $0.whenFlag, value: $0.value,
                            text: $0.text.isEmpty ? nil : $0.text)
                    },
                    year: value.firstYear ? .first : value.newlyReached ? .newlyReached : .latest), text: text)
        case .below(let value): self.init(kind: .below(fact: value.fact, value: value.value), text: text)
        case .flag(let value): self.init(kind: .flag(fact: value.fact), text: text)
        case .project(let value):
            self.init(
                kind: .project(
                    projectKind: value.projectKind,
                    minimumInvestmentFen: value.minimumInvestmentFen == 0 ? nil : value.minimumInvestmentFen,
                    completedInPeriod: value.completedInPeriod), text: text)
        case .industry(let value): self.init(kind: .industry(industries: value.industries), text: text)
        case .county(let value): self.init(kind: .county(counties: value.counties), text: text)
        case .anyOf(let value):
            self.init(kind: .anyOf(try value.conditions.map { try Condition(message: $0, clause: clause) }), text: text)
        case .exclusion(let value):
            self.init(
                kind: .exclusion(fact: value.fact.isEmpty ? nil : value.fact, industries: value.industries), text: text)
        case nil: throw CatalogMessageError(field: "\(clause).conditions.kind")
        }
    }
}

extension Formula {
    var message: Jiaxing_Benefits_V1_Formula {
        var formula = Jiaxing_Benefits_V1_Formula()
        switch self {
        case .fixed(let amount): formula.fixed.amountFen = amount
        case .tiers(let recognition, let tiers, let upTo):
            formula.tiers = Self.tierTable(recognition, tiers)
            formula.tiers.upTo = upTo
        case .tierShare(let recognition, let tiers, let rate):
            formula.tiers = Self.tierTable(recognition, tiers)
            formula.tiers.shareBasisPoints = Int32(rate)
        case .thresholdTiers(let fact, let tiers, let newlyReached):
            formula.thresholdTiers.fact = fact
            formula.thresholdTiers.tiers = tiers.map { tier in
                var message = Jiaxing_Benefits_V1_ThresholdTier()
                message.atLeast = tier.atLeast
                message.amountFen = tier.amountFen
                return message
            }
            formula.thresholdTiers.newlyReached = newlyReached
        case .bands(let bands):
            formula.bands.bands = bands.map { band in
                var message = Jiaxing_Benefits_V1_Band()
                message.band = band.band
                message.amountFen = band.amountFen
                return message
            }
        case .percentage(let base, let rate, let minimum, let cap):
            formula.percentage.base = base
            formula.percentage.rateBasisPoints = Int32(rate)
            formula.percentage.minimumBaseFen = minimum ?? 0
            formula.percentage.capFen = cap ?? 0
        case .ratioMatch(let base, let numerator, let denominator, let cap):
            formula.ratioMatch.base = base
            formula.ratioMatch.numerator = Int32(numerator)
            formula.ratioMatch.denominator = Int32(denominator)
            formula.ratioMatch.capFen = cap ?? 0
        case .interestSubsidy(let base, let rate, let cap, let maxYears):
            formula.interestSubsidy.base = base
            formula.interestSubsidy.rateBasisPoints = Int32(rate)
            formula.interestSubsidy.capFen = cap ?? 0
            formula.interestSubsidy.maxYears = Int32(maxYears ?? 0)
        case .insurancePremium(let base, let rate, let cap, let premiumRateCap):
            formula.insurancePremium.base = base
            formula.insurancePremium.rateBasisPoints = Int32(rate)
            formula.insurancePremium.capFen = cap ?? 0
            formula.insurancePremium.insuredBase = premiumRateCap?.insuredBase ?? ""
            formula.insurancePremium.premiumRateCapBasisPoints = Int32(premiumRateCap?.basisPoints ?? 0)
        case .perUnit(let base, let perUnit, let cap):
            formula.perUnit.base = base
            formula.perUnit.amountFenPerUnit = perUnit
            formula.perUnit.capFen = cap ?? 0
        case .capOnly(let cap): formula.capOnly.capFen = cap
        case .lowestOf(let terms):
            formula.lowestOf.terms = terms.map { term in
                var message = Jiaxing_Benefits_V1_LowestOf.Term()
                message.base = term.base
                message.numerator = Int32(term.numerator ?? 0)
                message.denominator = Int32(term.denominator ?? 0)
                message.amountFenPerUnit = term.amountFenPerUnit ?? 0
                return message
            }
        case .manual(let reason): formula.manual.reason = reason
        }
        return formula
    }

    static func tierTable(_ recognition: String, _ tiers: [Tier]) -> Jiaxing_Benefits_V1_TierTable {
        var table = Jiaxing_Benefits_V1_TierTable()
        table.recognition = recognition
        table.tiers = tiers.map { tier in
            var message = Jiaxing_Benefits_V1_Tier()
            message.level = tier.level
            message.amountFen = tier.amountFen
            return message
        }
        return table
    }

    init(message: Jiaxing_Benefits_V1_Formula, clause: String) throws {
        func optional(_ value: Int64) -> Fen? { value == 0 ? nil : value }
        switch message.kind {
        case .fixed(let value): self = .fixed(amountFen: value.amountFen)
        case .tiers(let value) where value.shareBasisPoints != 0:
            self = .tierShare(
                recognition: value.recognition,
                tiers: value.tiers.map { .init(level: $0.level, amountFen: $0.amountFen) },
                rateBasisPoints: Int(value.shareBasisPoints))
        case .tiers(let value):
            self = .tiers(
                recognition: value.recognition,
                tiers: value.tiers.map { .init(level: $0.level, amountFen: $0.amountFen) }, upTo: value.upTo)
        case .thresholdTiers(let value):
            self = .thresholdTiers(
                fact: value.fact, tiers: value.tiers.map { .init(atLeast: $0.atLeast, amountFen: $0.amountFen) },
                newlyReached: value.newlyReached)
        case .bands(let value): self = .bands(value.bands.map { .init(band: $0.band, amountFen: $0.amountFen) })
        case .percentage(let value):
            self = .percentage(
                base: value.base, rateBasisPoints: Int(value.rateBasisPoints),
                minimumBaseFen: optional(value.minimumBaseFen), capFen: optional(value.capFen))
        case .ratioMatch(let value):
            self = .ratioMatch(
                base: value.base, numerator: Int(value.numerator), denominator: Int(value.denominator),
                capFen: optional(value.capFen))
        case .interestSubsidy(let value):
            self = .interestSubsidy(
                base: value.base, rateBasisPoints: Int(value.rateBasisPoints), capFen: optional(value.capFen),
                maxYears: value.maxYears == 0 ? nil : Int(value.maxYears))
        case .insurancePremium(let value):
            self = .insurancePremium(
                base: value.base, rateBasisPoints: Int(value.rateBasisPoints), capFen: optional(value.capFen),
                premiumRateCap: value.insuredBase.isEmpty
                    ? nil
                    : .init(insuredBase: value.insuredBase, basisPoints: Int(value.premiumRateCapBasisPoints)))
        case .perUnit(let value):
            self = .perUnit(base: value.base, amountFenPerUnit: value.amountFenPerUnit, capFen: optional(value.capFen))
        case .capOnly(let value): self = .capOnly(capFen: value.capFen)
        case .lowestOf(let value):
            self = .lowestOf(
                terms: value.terms.map {
                    Term(
                        base: $0.base, numerator: $0.denominator == 0 ? nil : Int($0.numerator),
                        denominator: $0.denominator == 0 ? nil : Int($0.denominator),
                        amountFenPerUnit: $0.amountFenPerUnit == 0 ? nil : $0.amountFenPerUnit)
                })
        case .manual(let value): self = .manual(reason: value.reason)
        case nil: throw CatalogMessageError(field: "\(clause).formula.kind")
        }
    }
}

extension Vocabulary {
    public var message: Jiaxing_Benefits_V1_Vocabulary {
        var vocabulary = Jiaxing_Benefits_V1_Vocabulary()
        vocabulary.facts = self.facts.map { fact in
            var message = Jiaxing_Benefits_V1_Fact()
            message.id = fact.id
            message.unit = fact.unit.rawValue
            message.perYear = fact.perYear
            message.name = fact.name
            message.description_p = fact.description
            message.attestedBy = fact.attestedBy.map(\.rawValue)
            return message
        }
        vocabulary.recognitions = self.recognitions.map { recognition in
            var message = Jiaxing_Benefits_V1_Recognition()
            message.id = recognition.id
            message.name = recognition.name
            message.levels = recognition.levels
            message.attestedBy = recognition.attestedBy.map(\.rawValue)
            return message
        }
        func terms(_ terms: [Term]) -> [Jiaxing_Benefits_V1_NamedTerm] {
            terms.map { term in
                var message = Jiaxing_Benefits_V1_NamedTerm()
                message.id = term.id
                message.name = term.name
                message.attestedBy = term.attestedBy.map(\.rawValue)
                return message
            }
        }
        vocabulary.projectKinds = terms(self.projectKinds)
        vocabulary.industries = terms(self.industries)
        vocabulary.levels = terms(self.levels)
        return vocabulary
    }

    public init(message: Jiaxing_Benefits_V1_Vocabulary) {
        self.facts = message.facts.map {
            Fact(
                id: $0.id, unit: Fact.Unit(rawValue: $0.unit) ?? .count, perYear: $0.perYear, name: $0.name,
                description: $0.description_p, attestedBy: $0.attestedBy.compactMap(Department.init(rawValue:)))
        }
        self.recognitions = message.recognitions.map {
            Recognition(
                id: $0.id, name: $0.name, levels: $0.levels,
                attestedBy: $0.attestedBy.compactMap(Department.init(rawValue:)))
        }
        self.projectKinds = message.projectKinds.map {
            Term(id: $0.id, name: $0.name, attestedBy: $0.attestedBy.compactMap(Department.init(rawValue:)))
        }
        self.industries = message.industries.map { Term(id: $0.id, name: $0.name) }
        self.levels = message.levels.map { Term(id: $0.id, name: $0.name) }
    }
}

extension Catalog {
    /// The whole catalog as one message, optionally only the documents in force on a date.
    public func snapshot(asOf: CalendarDate? = nil) -> Jiaxing_Benefits_V1_CatalogSnapshot {
        var snapshot = Jiaxing_Benefits_V1_CatalogSnapshot()
        snapshot.revision = self.revision
        snapshot.documents = self.documents(inForceOn: asOf).map { $0.message() }
        snapshot.vocabulary = self.vocabulary.message
        snapshot.calendar = self.calendar.yearsGiven.map(\.message)
        return snapshot
    }

    public init(snapshot: Jiaxing_Benefits_V1_CatalogSnapshot) throws {
        let years = try snapshot.calendar.enumerated().map { index, year in
            try WorkingCalendar.Year(message: year, field: "calendar[\(index)]")
        }
        self.init(
            revision: snapshot.revision,
            documents: try snapshot.documents.map(PolicyDocument.init(message:)),
            vocabulary: Vocabulary(message: snapshot.vocabulary),
            calendar: try WorkingCalendar(years: years)
        )
    }
}

extension WorkingCalendar.Year {
    var message: Jiaxing_Benefits_V1_CalendarYear {
        var message = Jiaxing_Benefits_V1_CalendarYear()
        message.year = Int32(self.year)
        message.source = self.source
        message.holidays = self.holidays.map { holiday in
            var item = Jiaxing_Benefits_V1_CalendarHoliday()
            item.name = holiday.name
            item.from = holiday.from.message
            item.to = holiday.to.message
            return item
        }
        message.workingWeekends = self.workingWeekends.map(\.message)
        message.provisional = self.provisional
        return message
    }

    init(message: Jiaxing_Benefits_V1_CalendarYear, field: String) throws {
        func date(_ value: Jiaxing_Benefits_V1_Date, _ name: String) throws -> CalendarDate {
            guard let date = CalendarDate(message: value) else {
                throw CatalogValidationError(issues: [
                    CatalogIssue(file: "calendar", field: "\(field).\(name)", message: "not a date")
                ])
            }
            return date
        }
        self.init(
            year: Int(message.year), source: message.source,
            holidays: try message.holidays.enumerated().map { index, holiday in
                Holiday(
                    name: holiday.name, from: try date(holiday.from, "holidays[\(index)].from"),
                    to: try date(holiday.to, "holidays[\(index)].to"))
            },
            workingWeekends: try message.workingWeekends.enumerated().map { try date($1, "working_weekends[\($0)]") },
            provisional: message.provisional
        )
    }
}
