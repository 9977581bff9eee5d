import MeshMessages

extension Jiaxing_Benefits_V1_DecideOrdersRequest {
    /// Whether a pending order is one this bulk decision's filter selects: its clause, its amount's range, and
    /// whether a cap or 就高不重复 reduced it (the county is the ledger's filter). The gateway decides by it and
    /// the console counts its groups by it, so the totals an officer reads are the orders decided.
    public func selects(_ order: Jiaxing_Benefits_V1_PayoutOrder) -> Bool {
        guard self.clauseID.isEmpty || order.clauseID == self.clauseID, order.amountFen >= self.minimumFen,
            self.maximumFen == 0 || order.amountFen <= self.maximumFen
        else { return false }
        switch self.adjustment {
        case .reduced: return order.amountFen != order.requestedFen
        case .asRequested: return order.amountFen == order.requestedFen
        case .any, .UNRECOGNIZED: return true
        }
    }
}
