import MeshMessages

extension Jiaxing_Benefits_V1_Decision {
    /// Whether eligibility signs this decision when asked to: it pays cash, and its formula fixed the amount,
    /// either without an application (ELIGIBLE) or on one decided at once (NEEDS_APPLICATION, amount fixed).
    public var isSealable: Bool {
        guard self.cash, self.amountFen > 0 else { return false }
        switch self.status {
        case .eligible: return true
        case .needsApplication: return self.amountFixed
        default: return false
        }
    }
}

extension Jiaxing_Benefits_V1_DecisionStatement {
    /// The statement for `decision`, made on `profile` as of `asOf`.
    public init(
        decision: Jiaxing_Benefits_V1_Decision, profile: Jiaxing_Benefits_V1_EnterpriseProfile,
        profileSHA256: String, asOf: Jiaxing_Benefits_V1_Date, catalogRevision: String, sealedAtMillis: Int64
    ) {
        self.init()
        self.creditCode = profile.creditCode
        self.county = profile.county
        self.clauseID = decision.citation.clauseID
        self.subject = decision.orderSubject
        self.amountFen = decision.amountFen
        self.asOf = asOf
        self.catalogRevision = catalogRevision
        self.profileSha256 = profileSHA256
        self.sealedAtMillis = sealedAtMillis
        self.status = decision.status
        self.period = decision.period
    }

    /// What a proposal or a decided-at-once application says that this statement does not, one line per
    /// field, named as the request names it; empty when the statement vouches for all of it. `subject` nil:
    /// not compared (an application names its own subject).
    public func differences(
        creditCode: String, county: Jiaxing_Benefits_V1_County, clauseID: String, subject: String?, period: Int32,
        amountFen: Int64
    ) -> [String] {
        var differences: [String] = []
        if creditCode != self.creditCode {
            differences.append("credit_code \(creditCode), but eligibility decided for \(self.creditCode)")
        }
        if county != self.county {
            differences.append("county \(county), but the enterprise screened is in \(self.county)")
        }
        if clauseID != self.clauseID {
            differences.append("clause_id \(clauseID), but eligibility decided \(self.clauseID)")
        }
        if let subject, subject != self.subject {
            differences.append("subject \(subject), but eligibility decided it for \(self.subject)")
        }
        if period != self.period {
            differences.append("period \(period), but eligibility decided it for \(self.period)")
        }
        if amountFen != self.amountFen {
            differences.append("amount_fen \(amountFen), but eligibility computed \(self.amountFen)")
        }
        return differences
    }
}
