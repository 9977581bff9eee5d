import BenefitsDomain

extension Vocabulary.Fact.Unit {
    /// An amount in this unit as the documents write it: 150万元, 50万美元, 3.5%, 2000平方米, 是.
    public func words(_ amount: Int64) -> String {
        switch self {
        case .fen: return Money.chinese(amount)
        case .usdCents:
            if amount % 1_000_000 == 0 || amount >= 100_000_000 {
                return "\(Money.decimal(amount, scale: 1_000_000))万美元"
            }
            return "\(Money.decimal(amount, scale: 100))美元"
        case .count: return "\(amount)"
        case .basisPoints: return Money.percent(basisPoints: Int(amount))
        case .squareMetres: return "\(amount)平方米"
        case .bool: return amount == 0 ? "否" : "是"
        }
    }
}

extension Vocabulary {
    public func projectKind(_ id: String) -> Term? { self.projectKinds.first { $0.id == id } }
}
