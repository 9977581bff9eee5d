extension County {
    /// The administrative division codes (行政区划代码) of the registration authorities whose enterprises this
    /// county may register: its own; the two zones have none of their own and take their host districts'.
    public var divisionCodes: Set<String> {
        switch self {
        case .nanhu: return ["330402"]
        case .xiuzhou: return ["330411"]
        case .jiashan: return ["330421"]
        case .haiyan: return ["330424"]
        case .haining: return ["330481"]
        case .pinghu: return ["330482"]
        case .tongxiang: return ["330483"]
        case .economicDevelopmentZone: return ["330402", "330411"]
        case .portDistrict: return ["330482"]
        }
    }

    /// The city's own registration authority (嘉兴市市场监督管理局): its enterprises may be in any county.
    public static let cityDivisionCode = "330400"

    /// Whether a credit code's registration authority (characters 3–8) lets this county register it without
    /// the operator: its own division, or the city's.
    public func mayRegister(_ code: CreditCode) -> Bool {
        let division = code.divisionCode
        return division == Self.cityDivisionCode || self.divisionCodes.contains(division)
    }

    /// The county or district whose division a credit code names (a zone's enterprises carry their host's).
    public static func owning(_ code: CreditCode) -> County? {
        County.allCases.first {
            $0 != .economicDevelopmentZone && $0 != .portDistrict && $0.divisionCodes.contains(code.divisionCode)
        }
    }
}

extension CreditCode {
    /// Characters 3–8: the administrative division of the authority that registered the enterprise.
    public var divisionCode: String { String(self.value.dropFirst(2).prefix(6)) }
}
