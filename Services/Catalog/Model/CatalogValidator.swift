import BenefitsDomain

/// The rules every catalog file must meet: unique ids, ordered dates, declared vocabulary, every amount and
/// rate of a formula present in the clause's own words, and every quoted text found in its source document.
struct CatalogValidator {
    let vocabulary: Vocabulary
    /// Source file name → its text without whitespace, or why it could not be read. Every source a
    /// document names must be here and readable: the verbatim check never skips.
    let sources: [String: Result<String, CatalogLoader.SourceError>]

    static func removingWhitespace(_ text: String) -> String {
        String(text.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
    }

    func validate(_ documents: [(file: String, document: PolicyDocument)]) -> [CatalogIssue] {
        var issues: [CatalogIssue] = self.checkLevels()
        let deliveries = Dictionary(
            documents.flatMap { $0.document.clauses.map { ($0.id, $0.delivery) } },
            uniquingKeysWith: { first, _ in first })
        let allClauseIDs = Set(deliveries.keys)
        var documentIDs: Set<String> = []
        var clauseIDs: Set<String> = []
        for (file, document) in documents {
            func issue(_ field: String, _ message: String, clause: String? = nil) {
                issues.append(CatalogIssue(file: file, clause: clause, field: field, message: message))
            }
            if !documentIDs.insert(document.id).inserted {
                issue("id", "document id '\(document.id)' is used by another file")
            }
            if file != "\(document.id).json" { issue("id", "file name must be the document id: \(document.id).json") }
            if let until = document.effectiveUntil {
                if document.effectiveFrom > until {
                    issue("effectiveUntil", "\(until) is before effectiveFrom \(document.effectiveFrom)")
                }
                if document.issueDate > until {
                    issue("effectiveUntil", "\(until) is before issueDate \(document.issueDate)")
                }
            }
            let sources = self.sourceTexts(document.sources) { issue("sources", $0) }
            func verbatim(_ text: String?, _ field: String, clause: String? = nil, within: String? = nil) {
                guard let text else { return }
                let stripped = Self.removingWhitespace(text)
                if stripped.isEmpty {
                    issue(field, "is empty", clause: clause)
                    return
                }
                if let sources, !sources.contains(where: { $0.containsBytes(of: stripped) }) {
                    issue(
                        field,
                        "text not found verbatim in \(document.sources.joined(separator: ", ")): \(text.prefix(40))…",
                        clause: clause)
                }
                if let within, !Self.removingWhitespace(within).containsBytes(of: stripped) {
                    issue(field, "fragment is not part of the clause text: \(text.prefix(40))", clause: clause)
                }
            }
            verbatim(document.title, "title")
            verbatim(document.effectiveText, "effectiveText")
            verbatim(document.stacking.text, "stacking.text")
            if document.stacking.rule != .unspecified, document.stacking.text == nil {
                issue("stacking.text", "a stated rule needs its text")
            }
            for (index, clawback) in document.clawbacks.enumerated() {
                verbatim(clawback.text, "clawbacks[\(index)].text")
            }
            for (index, target) in document.payoutTargets.enumerated() {
                verbatim(target.text, "payoutTargets[\(index)].text")
                if target.rateBasisPoints != 10_000, !Self.containsRate(target.rateBasisPoints, in: target.text) {
                    issue(
                        "payoutTargets[\(index)].rateBasisPoints",
                        "\(Money.percent(basisPoints: target.rateBasisPoints)) does not appear in its text")
                }
            }
            if let split = document.fundingSplit {
                verbatim(split.text, "fundingSplit.text")
                for (index, funded) in (split.countyFunded ?? []).enumerated() {
                    verbatim(funded.text, "fundingSplit.countyFunded[\(index)].text")
                    if funded.counties.isEmpty {
                        issue("fundingSplit.countyFunded[\(index)].counties", "name the counties it speaks of")
                    }
                }
                if split.shares.reduce(0, { $0 + $1.basisPoints }) != 10_000 {
                    issue("fundingSplit.shares", "shares must add up to 10000 basis points")
                }
            }
            if document.clauses.isEmpty { issue("clauses", "a document in the catalog has at least one clause") }
            for clause in document.clauses {
                let id = clause.id
                if !clauseIDs.insert(id).inserted { issue("id", "clause id is used twice", clause: id) }
                if !id.hasPrefix(document.id + "/") {
                    issue("id", "clause id must start with '\(document.id)/'", clause: id)
                }
                verbatim(clause.text, "text", clause: id)
                verbatim(clause.stacking?.text, "stacking.text", clause: id, within: clause.text)
                if !clause.cash, clause.delivery == .proactive, clause.benefitKind != .taxRelief,
                    clause.benefitKind != .feeDiscount
                {
                    // Non-cash benefits are kept for reference; nothing to check beyond the text.
                }
                if (clause.benefitKind == .taxRelief || clause.benefitKind == .feeDiscount) && clause.cash {
                    issue("cash", "a \(clause.benefitKind.rawValue) is not a cash payout", clause: id)
                }
                for (index, condition) in clause.conditions.enumerated() {
                    verbatim(condition.text, "conditions[\(index)].text", clause: id, within: clause.text)
                    for (field, text) in Self.quotedFragments(of: condition) {
                        verbatim(text, "conditions[\(index)].\(field)", clause: id, within: clause.text)
                    }
                    for problem in self.check(condition, clauseText: clause.text) {
                        issue("conditions[\(index)]", problem, clause: id)
                    }
                }
                for replaced in clause.replaces where replaced == id || !allClauseIDs.contains(replaced) {
                    issue("replaces", "'\(replaced)' is not another clause of the catalog", clause: id)
                }
                for replaced in clause.replaces
                where deliveries[replaced] == .proactive && clause.delivery != .proactive {
                    issue(
                        "replaces",
                        "'\(replaced)' is paid without an application: only a clause paid the same way may replace it",
                        clause: id)
                }
                for problem in Self.boundsEncodedAsExact(clause) { issue("formula", problem, clause: id) }
                for problem in self.check(clause.formula, clause: clause) {
                    issue("formula.\(problem.field)", problem.message, clause: id)
                }
                for (field, cap) in [
                    ("perYearCapFen", clause.perYearCapFen), ("cumulativeCapFen", clause.cumulativeCapFen),
                ] {
                    guard let cap else { continue }
                    if cap <= 0 { issue(field, "must be positive", clause: id) }
                    if !Self.containsMoney(cap, in: clause.text) {
                        issue(field, "\(Money.chinese(cap)) does not appear in the clause text", clause: id)
                    }
                }
                if let days = clause.decisionWorkingDays, !(1...120).contains(days) {
                    issue("decisionWorkingDays", "1 to 120 working days, got \(days)", clause: id)
                }
                if clause.delivery == .notQuantified {
                    if case .manual = clause.formula {
                    } else {
                        issue("formula", "a provision without an amount has a manual formula saying why", clause: id)
                    }
                } else if case .manual = clause.formula, clause.delivery != .manual {
                    issue(
                        "delivery", "a manual formula is never paid automatically: delivery must be manual", clause: id)
                }
                for problem in Self.perItemProblems(clause) { issue("perItem", problem, clause: id) }
                for (index, condition) in clause.conditions.enumerated() where condition.text?.contains("首年") == true {
                    if case .atLeast(_, _, _, .first) = condition.kind { continue }
                    issue(
                        "conditions[\(index)]", "the text reads the first year's figure (首年): set firstYear",
                        clause: id)
                }
                if clause.text.contains("首次"), clause.delivery != .notQuantified,
                    !clause.conditions.contains(where: {
                        if case .recognition(_, _, _, first: true) = $0.kind { true } else { false }
                    })
                {
                    issue(
                        "conditions",
                        "the text pays only a first recognition (首次): set first on its recognition condition",
                        clause: id)
                }
                if case .capOnly = clause.formula, clause.delivery == .proactive {
                    issue(
                        "delivery", "a capOnly amount is decided by the department: delivery cannot be proactive",
                        clause: id)
                }
            }
        }
        return issues
    }

    /// With `coverage.json`: every sentence of every source that promises an amount is quoted by a clause of
    /// a document reading that source (provisions without amounts included), or listed in the file; and every
    /// listed passage is verbatim in its source, with a reason.
    func checkCoverage(_ coverage: CatalogCoverage, of documents: [PolicyDocument]) -> [CatalogIssue] {
        var issues: [CatalogIssue] = []
        let file = CatalogLoader.coverageFile
        for (index, passage) in coverage.passages.enumerated() {
            let field = "passages[\(index)]"
            if passage.reason.trimmingCharacters(in: .whitespaces).isEmpty {
                issues.append(CatalogIssue(file: file, field: "\(field).reason", message: "say why no clause pays it"))
            }
            if case .failure? = self.sources[passage.source] { continue }  // reported once, with its document
            guard case .success(let text)? = self.sources[passage.source] else {
                issues.append(
                    CatalogIssue(
                        file: file, field: "\(field).source",
                        message: "'\(passage.source)' is not a source a document of the catalog reads"))
                continue
            }
            if !text.containsBytes(of: Self.removingWhitespace(passage.text)) {
                issues.append(
                    CatalogIssue(
                        file: file, field: "\(field).text",
                        message: "not found verbatim in \(passage.source): \(passage.text.prefix(40))…"))
            }
        }
        for name in Set(documents.flatMap(\.sources)).sorted() {
            guard case .success(let text)? = self.sources[name] else { continue }
            let quoted =
                documents.filter { $0.sources.contains(name) }.flatMap { $0.clauses.map(\.text) }
                + coverage.passages.filter { $0.source == name }.map(\.text)
            for sentence in CatalogCoverage.uncoveredPromises(in: text, quoted: quoted.map(Self.removingWhitespace)) {
                issues.append(
                    CatalogIssue(
                        file: file, field: "sources/\(name)",
                        message:
                            "「\(sentence.prefix(60))…」 promises an amount no clause quotes: encode it, or list it here with the reason"
                    ))
            }
        }
        return issues
    }

    /// Words by which a text pays each item on its own (每项最高50万元, 单个项目最高100万元).
    static let perItemMarkers = ["每项", "单个项目", "每个项目"]

    /// A clause whose text pays per item is encoded per item, and a per-item clause names its item: one
    /// project or recognition condition. One paid without an application is over a project's figures, by a
    /// formula the forecast computes per item, outside any overlap group (就高不重复 weighs enterprises).
    static func perItemProblems(_ clause: Clause) -> [String] {
        var problems: [String] = []
        let marker = Self.perItemMarkers.first { clause.text.contains($0) }
        if let marker, clause.cash, clause.delivery != .notQuantified, !clause.perItem {
            problems.append("the text pays per item ('\(marker)'): set perItem and name the item's condition")
        }
        guard clause.perItem else { return problems }
        guard let item = clause.itemCondition else {
            problems.append(
                "a per-item clause names its item: one project condition, or else one recognition condition")
            return problems
        }
        if case .recognition(let id, _, _, let first) = item.kind {
            if first {
                problems.append("首次 cannot be asked of each item: a per-item clause's recognition is the item")
            }
            if clause.delivery == .proactive {
                switch clause.formula {
                case .fixed: break
                case .tiers(id, _, upTo: false): break
                default:
                    problems.append(
                        "a per-item recognition paid without an application is fixed or tiered by the item's level")
                }
            }
        }
        if clause.delivery == .proactive {
            if case .project = item.kind {
                switch clause.formula {
                case .fixed, .percentage, .ratioMatch, .perUnit, .lowestOf: break
                default:
                    problems.append("a per-item clause paid without an application is fixed or over the item's figure")
                }
            }
            if clause.overlapGroup != nil {
                problems.append("a per-item clause paid without an application stands outside overlap groups")
            }
        }
        return problems
    }

    /// The texts of a document's sources; nil when one of them is missing or unreadable (reported here, once,
    /// instead of every quoted text of the document being reported as not found).
    private func sourceTexts(_ names: [String], report: (String) -> Void) -> [String]? {
        if names.isEmpty { report("a document names at least one source file") }
        var texts: [String] = []
        var complete = true
        for name in names {
            switch self.sources[name] {
            case .success(let text): texts.append(text)
            case .failure(let error):
                report(error.message)
                complete = false
            case nil:
                report("source file '\(name)' was not read")
                complete = false
            }
        }
        return complete ? texts : nil
    }

    /// Every level a recognition names is declared with its name, and there are few enough for the column
    /// engine's level sets; every recognition and project kind names the department that vouches for it.
    private func checkLevels() -> [CatalogIssue] {
        var issues: [CatalogIssue] = []
        let declared = Set(self.vocabulary.levels.map(\.id))
        if declared.count > Vocabulary.maximumLevels {
            issues.append(
                CatalogIssue(
                    file: "vocabulary.json", field: "levels",
                    message: "at most \(Vocabulary.maximumLevels) levels, got \(declared.count)"))
        }
        for recognition in self.vocabulary.recognitions {
            for level in recognition.levels where !declared.contains(level) {
                issues.append(
                    CatalogIssue(
                        file: "vocabulary.json", field: "recognitions[\(recognition.id)].levels",
                        message: "level '\(level)' is not declared under levels"))
            }
            if recognition.attestedBy.isEmpty {
                issues.append(
                    CatalogIssue(
                        file: "vocabulary.json", field: "recognitions[\(recognition.id)].attestedBy",
                        message: "name the department that awards it: only its attestation pays without an application")
                )
            }
        }
        for kind in self.vocabulary.projectKinds where kind.attestedBy.isEmpty {
            issues.append(
                CatalogIssue(
                    file: "vocabulary.json", field: "projectKinds[\(kind.id)].attestedBy",
                    message: "name the department that accepts such projects"))
        }
        return issues
    }

    /// The verbatim fragments a condition quotes besides its own `text`: its overrides' and its alternatives'.
    static func quotedFragments(of condition: Condition) -> [(field: String, text: String?)] {
        switch condition.kind {
        case .atLeast(_, _, let overrides, _):
            return overrides.enumerated().map { ("overrides[\($0)].text", $1.text) }
        case .anyOf(let conditions):
            return conditions.enumerated().flatMap { index, condition in
                [("conditions[\(index)].text", condition.text)]
                    + Self.quotedFragments(of: condition).map { ("conditions[\(index)].\($0.field)", $0.text) }
            }
        default:
            return []
        }
    }

    /// A bound the text sets (最高, 分别最高, 不超过, 不低于, 一定比例) encoded as an exact amount or rate: the
    /// formula would pay the bound itself where the text leaves the amount to the department. A clause left to
    /// the department (delivery manual) may keep the bound in its formula, shown for reference only.
    static func boundsEncodedAsExact(_ clause: Clause) -> [String] {
        guard clause.delivery != .manual else { return [] }
        let text = Self.removingWhitespace(clause.text)
        var problems: [String] = []
        func boundBefore(_ needle: String) -> String? {
            var searchStart = text.startIndex
            var allBounded = true
            var found: String?
            while let range = text.range(of: needle, range: searchStart..<text.endIndex) {
                let start = text.index(range.lowerBound, offsetBy: -8, limitedBy: text.startIndex) ?? text.startIndex
                let before = text[start..<range.lowerBound]
                let bounds = ["最高", "不超过", "不低于"]
                if let word = bounds.first(where: { before.hasSuffix($0) || before.hasSuffix($0 + "给予") }) {
                    found = word
                } else {
                    allBounded = false
                }
                searchStart = range.upperBound
            }
            return allBounded ? found : nil
        }
        switch clause.formula {
        case .fixed(let amount):
            if let word = boundBefore(Money.decimal(amount, scale: Money.fenPerWanYuan) + "万") {
                problems.append(
                    "\(Money.chinese(amount)) is a bound in the text (\(word)), not an exact amount: use capOnly")
            }
        case .tiers(_, _, let upTo):
            if !upTo, text.contains("分别最高") {
                problems.append("the text gives each tier as a cap (分别最高): set upTo")
            }
        case .percentage(_, let rate, _, _), .interestSubsidy(_, let rate, _, _), .insurancePremium(_, let rate, _, _):
            let percent = Money.decimal(Int64(rate), scale: 100)
            for bound in ["不低于", "最高"]
            where text.contains(bound + percent + "%") || text.contains(bound + percent + "％") {
                problems.append(
                    "\(percent)% is a bound in the text (\(bound)), not a rate: the department sets it (manual)")
            }
            if text.contains("一定比例") {
                problems.append("the text leaves the share open (一定比例): the department sets it (manual)")
            }
        default:
            break
        }
        return problems
    }

    private func check(_ condition: Condition, clauseText: String) -> [String] {
        switch condition.kind {
        case .recognition(let recognition, let levels, _, _):
            guard let declared = self.vocabulary.recognition(recognition) else {
                return ["recognition '\(recognition)' is not declared in vocabulary.json"]
            }
            let unknown = (levels ?? []).filter { !declared.levels.contains($0) }
            return unknown.isEmpty ? [] : ["levels \(unknown) are not levels of '\(recognition)'"]
        case .atLeast(let fact, _, let overrides, let year):
            guard let declared = self.vocabulary.fact(fact) else {
                return ["fact '\(fact)' is not declared in vocabulary.json"]
            }
            var problems = declared.unit == .bool ? ["fact '\(fact)' is a flag, not a number"] : []
            if year != .latest, !declared.perYear {
                problems.append("newlyReached and firstYear read years: fact '\(fact)' is not yearly")
            }
            for (index, override) in overrides.enumerated() {
                switch (override.whenRecognition, override.whenFlag) {
                case (let recognition?, nil):
                    if self.vocabulary.recognition(recognition) == nil {
                        problems.append(
                            "overrides[\(index)]: recognition '\(recognition)' is not declared in vocabulary.json")
                    }
                case (nil, let flag?):
                    if self.vocabulary.fact(flag)?.unit != .bool {
                        problems.append("overrides[\(index)]: '\(flag)' is not a flag of vocabulary.json")
                    }
                default:
                    problems.append("overrides[\(index)]: exactly one of whenRecognition and whenFlag")
                }
            }
            return problems
        case .below(let fact, _):
            guard let declared = self.vocabulary.fact(fact) else {
                return ["fact '\(fact)' is not declared in vocabulary.json"]
            }
            return declared.unit == .bool ? ["fact '\(fact)' is a flag, not a number"] : []
        case .flag(let fact):
            guard let declared = self.vocabulary.fact(fact) else {
                return ["fact '\(fact)' is not declared in vocabulary.json"]
            }
            return declared.unit == .bool ? [] : ["fact '\(fact)' is a number, not a flag"]
        case .project(let kind, let minimum, _):
            var problems: [String] = []
            if !self.vocabulary.projectKinds.contains(where: { $0.id == kind }) {
                problems.append("project kind '\(kind)' is not declared in vocabulary.json")
            }
            if let minimum, !Self.containsMoney(minimum, in: clauseText) {
                problems.append("minimumInvestmentFen \(Money.chinese(minimum)) does not appear in the clause text")
            }
            return problems
        case .industry(let industries):
            return industries.filter { id in !self.vocabulary.industries.contains { $0.id == id } }.map {
                "industry '\($0)' is not declared in vocabulary.json"
            }
        case .county:
            return []
        case .anyOf(let conditions):
            var problems = conditions.count < 2 ? ["anyOf needs at least two alternatives"] : []
            for (index, alternative) in conditions.enumerated() {
                switch alternative.kind {
                case .anyOf, .exclusion:
                    problems.append(
                        "conditions[\(index)]: an alternative is a plain condition, not \(alternative.kind)")
                default:
                    problems += self.check(alternative, clauseText: clauseText).map { "conditions[\(index)]: \($0)" }
                }
            }
            return problems
        case .exclusion(let fact, let industries):
            var problems: [String] = []
            if fact == nil, industries.isEmpty { problems.append("an exclusion names a flag or industries") }
            if let fact, self.vocabulary.fact(fact)?.unit != .bool {
                problems.append("'\(fact)' is not a flag of vocabulary.json")
            }
            problems += industries.filter { id in !self.vocabulary.industries.contains { $0.id == id } }.map {
                "industry '\($0)' is not declared in vocabulary.json"
            }
            return problems
        }
    }

    private func check(_ formula: Formula, clause: Clause) -> [(field: String, message: String)] {
        var problems: [(String, String)] = []
        for (field, fen) in formula.moneyAmounts {
            if fen <= 0 { problems.append((field, "must be positive")) }
            if !Self.containsMoney(fen, in: clause.text) {
                problems.append((field, "\(Money.chinese(fen)) does not appear in the clause text"))
            }
        }
        for (field, rate) in formula.rates {
            if rate <= 0 || rate > 10_000 { problems.append((field, "must be between 1 and 10000 basis points")) }
            if !Self.containsRate(rate, in: clause.text) {
                problems.append((field, "\(Money.percent(basisPoints: rate)) does not appear in the clause text"))
            }
        }
        if let base = formula.baseFact, self.vocabulary.fact(base) == nil {
            problems.append(("base", "fact '\(base)' is not declared in vocabulary.json"))
        }
        switch formula {
        case .thresholdTiers(let fact, let tiers, let newlyReached):
            guard let declared = self.vocabulary.fact(fact), declared.unit != .bool else {
                problems.append(("fact", "'\(fact)' is not a numeric fact of vocabulary.json"))
                break
            }
            if newlyReached, !declared.perYear {
                problems.append(("newlyReached", "compares years: fact '\(fact)' is not yearly"))
            }
            if tiers.isEmpty || zip(tiers, tiers.dropFirst()).contains(where: { $0.atLeast >= $1.atLeast }) {
                problems.append(("tiers", "thresholds are given in ascending order"))
            }
            for tier in tiers where declared.unit == .fen && !Self.containsMoney(tier.atLeast, in: clause.text) {
                problems.append(
                    (
                        "tiers[\(tier.atLeast)].atLeast",
                        "\(Money.chinese(tier.atLeast)) does not appear in the clause text"
                    ))
            }
        case .tiers(let recognition, let tiers, _), .tierShare(let recognition, let tiers, _):
            if let declared = self.vocabulary.recognition(recognition) {
                for tier in tiers where !declared.levels.contains(tier.level) {
                    problems.append(("tiers", "level '\(tier.level)' is not a level of '\(recognition)'"))
                }
            } else {
                problems.append(("recognition", "recognition '\(recognition)' is not declared in vocabulary.json"))
            }
        case .insurancePremium(_, _, _, let premiumRateCap?):
            if self.vocabulary.fact(premiumRateCap.insuredBase)?.unit != .fen {
                problems.append(
                    (
                        "premiumRateCap.insuredBase",
                        "'\(premiumRateCap.insuredBase)' is not a fact in fen of vocabulary.json"
                    ))
            }
        case .ratioMatch(_, let numerator, let denominator, _):
            if numerator <= 0 || denominator <= 0 { problems.append(("numerator", "ratio terms must be positive")) }
        case .lowestOf(let terms):
            if terms.count < 2 { problems.append(("terms", "the lowest of at least two terms")) }
            for (index, term) in terms.enumerated() {
                let field = "terms[\(index)]"
                if self.vocabulary.fact(term.base).map({ $0.unit != .bool }) != true {
                    problems.append(("\(field).base", "'\(term.base)' is not a numeric fact of vocabulary.json"))
                }
                switch (term.numerator, term.denominator, term.amountFenPerUnit) {
                case (let numerator?, let denominator?, nil):
                    if numerator <= 0 || denominator <= 0 {
                        problems.append((field, "numerator and denominator must be positive"))
                    } else if denominator != 1,
                        !Self.removingWhitespace(clause.text).contains("\(numerator)/\(denominator)")
                    {
                        problems.append((field, "\(numerator)/\(denominator) does not appear in the clause text"))
                    }
                case (nil, nil, _?): break
                default: problems.append((field, "either numerator and denominator, or amountFenPerUnit"))
                }
            }
        default:
            break
        }
        return problems
    }

    /// Whether the text names `fen` as 元, 万元 or 亿元 (not as the tail of a longer number).
    static func containsMoney(_ fen: Fen, in text: String) -> Bool {
        let text = self.removingWhitespace(text)
        var candidates = [
            "\(Money.decimal(fen, scale: Money.fenPerWanYuan))万", "\(Money.decimal(fen, scale: Money.fenPerYiYuan))亿",
        ]
        if fen % Money.fenPerYuan == 0 { candidates.append("\(Money.decimal(fen, scale: Money.fenPerYuan))元") }
        return candidates.contains { self.containsNumber($0, in: text) }
    }

    static func containsRate(_ basisPoints: Int, in text: String) -> Bool {
        let text = self.removingWhitespace(text)
        let percent = Money.decimal(Int64(basisPoints), scale: 100)
        let permille = Money.decimal(Int64(basisPoints), scale: 10)
        return self.containsNumber(percent + "%", in: text) || self.containsNumber(percent + "％", in: text)
            || self.containsNumber(permille + "‰", in: text)
    }

    /// Finds `needle` where the character before it is not a digit or a decimal point.
    static func containsNumber(_ needle: String, in text: String) -> Bool {
        var searchStart = text.startIndex
        while let range = text.range(of: needle, range: searchStart..<text.endIndex) {
            if range.lowerBound == text.startIndex { return true }
            let previous = text[text.index(before: range.lowerBound)]
            if !previous.isNumber && previous != "." { return true }
            searchStart = text.index(after: range.lowerBound)
        }
        return false
    }
}
