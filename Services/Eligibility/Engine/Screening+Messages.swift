import BenefitsDomain
import CatalogModel
import MeshMessages

extension Decision.Status {
    var message: Jiaxing_Benefits_V1_Decision.Status {
        switch self {
        case .eligible: return .eligible
        case .superseded: return .superseded
        case .nearMiss: return .nearMiss
        case .needsApplication: return .needsApplication
        case .manualAssessment: return .manualAssessment
        case .ineligible: return .ineligible
        }
    }
}

extension Decision {
    public var message: Jiaxing_Benefits_V1_Decision {
        var decision = Jiaxing_Benefits_V1_Decision()
        decision.status = self.status.message
        decision.citation.documentID = self.document.id
        decision.citation.documentNumber = self.document.documentNumber ?? ""
        decision.citation.documentTitle = self.document.title
        decision.citation.clauseID = self.clause.id
        decision.citation.article = self.clause.article
        decision.citation.clauseText = self.clause.text
        decision.citation.responsibleDepartments = self.clause.responsibleDepartments
        decision.amountFen = self.amountFen
        decision.amountText = self.amountFen > 0 ? Money.chinese(self.amountFen) : ""
        decision.calculation = self.calculation
        decision.amountFixed = self.amountFixed
        decision.conditions = self.checks.map { check in
            var message = Jiaxing_Benefits_V1_ConditionCheck()
            message.met = check.met
            message.conditionText = check.conditionText
            message.factUsed = check.factUsed
            message.explanation = check.explanation
            return message
        }
        decision.missing = self.missing
        decision.overlapGroup = self.clause.overlapGroup ?? ""
        decision.stackingRule = self.stacking.rule.rawValue
        decision.supersededBy = self.supersededBy ?? ""
        decision.reason = self.reason
        decision.cash = self.clause.cash
        decision.delivery = self.clause.delivery.rawValue
        decision.item = self.item?.id ?? ""
        decision.period = Int32(self.year)
        return decision
    }
}

extension Screening {
    public func message(requestID: String) -> Jiaxing_Benefits_V1_ScreeningResult {
        var result = Jiaxing_Benefits_V1_ScreeningResult()
        result.requestID = requestID
        result.creditCode = self.creditCode.value
        result.asOf = self.asOf.message
        result.catalogRevision = self.catalogRevision
        result.decisions = self.decisions.map(\.message)
        result.totalEligibleFen = self.totalEligibleFen
        return result
    }
}

extension EligibilityEngine {
    /// Screens a request message. A refused profile becomes a result carrying the error, so a batch goes on.
    public func screen(_ request: Jiaxing_Benefits_V1_ScreenRequest) -> Jiaxing_Benefits_V1_ScreeningResult {
        guard request.hasAsOf, let asOf = CalendarDate(message: request.asOf) else {
            return Self.refusal(
                request, field: "as_of",
                message: request.hasAsOf
                    ? "\(request.asOf.year)-\(request.asOf.month)-\(request.asOf.day) is not a date in 1900-2200"
                    : "the screening date is required")
        }
        do {
            let profile = try EnterpriseProfile(message: request.profile, vocabulary: self.catalog.vocabulary)
            return self.screen(profile, asOf: asOf, includeIneligible: request.includeIneligible).message(
                requestID: request.requestID)
        } catch {
            return Self.refusal(request, field: error.field, message: error.message)
        }
    }

    static func refusal(_ request: Jiaxing_Benefits_V1_ScreenRequest, field: String, message: String)
        -> Jiaxing_Benefits_V1_ScreeningResult
    {
        var result = Jiaxing_Benefits_V1_ScreeningResult()
        result.requestID = request.requestID
        result.creditCode = request.profile.creditCode
        result.error.code = 3
        result.error.message = "\(field): \(message)"
        return result
    }
}
