import MeshMessages

extension Jiaxing_Benefits_V1_Decision {
    /// What an order keeps of its screening for the department that approves it: the calculation, then each
    /// condition met with the fact it used, in the clause's words.
    public var orderExplanation: String {
        let parts = [self.calculation] + self.conditions.filter(\.met).map { "\($0.conditionText)：\($0.factUsed)" }
        let text = parts.filter { !$0.isEmpty }.joined(separator: "；")
        return text.count <= 4000 ? text : String(text.prefix(3999)) + "…"
    }

    /// What an order for this decision pays for, the subject part of the ledger's idempotency key: the overlap
    /// group where the clause has one (so 就高不重复 finds the same thing under another clause), else the clause;
    /// for a per-item clause followed by `@` and the item's id, so each project, contract or award is paid once
    /// and on its own, whatever a caller writes.
    public var orderSubject: String {
        let thing = self.overlapGroup.isEmpty ? self.citation.clauseID : self.overlapGroup
        return self.item.isEmpty ? thing : "\(thing)@\(self.item)"
    }
}

extension Jiaxing_Benefits_V1_ProposePayoutRequest {
    /// The proposal a decision gives for an enterprise of the register: its amount, subject, period and
    /// explanation, never a caller's.
    public init(decision: Jiaxing_Benefits_V1_Decision, for enterprise: Jiaxing_Benefits_V1_EnterpriseProfile) {
        self.init()
        self.creditCode = enterprise.creditCode
        self.enterpriseName = enterprise.name
        self.county = enterprise.county
        self.clauseID = decision.citation.clauseID
        self.subject = decision.orderSubject
        self.period = decision.period
        self.amountFen = decision.amountFen
        self.explanation = decision.orderExplanation
        if decision.hasSeal { self.seal = decision.seal }
    }
}
