/// The city departments that approve and pay (责任单位), by the name of their certificate.
public enum Department: String, Sendable, Hashable, CaseIterable, Codable {
    case jingxin, fagai, keji, shangwu, nongye, caizheng, jiaotong, jinrong, shichang, ziranziyuan, shuili

    /// The name the documents print.
    public var chineseName: String {
        switch self {
        case .jingxin: return "市经信局"
        case .fagai: return "市发展改革委"
        case .keji: return "市科技局"
        case .shangwu: return "市商务局"
        case .nongye: return "市农业农村局"
        case .caizheng: return "市财政局"
        case .jiaotong: return "市交通运输局"
        case .jinrong: return "市金融办"
        case .shichang: return "市市场监管局"
        case .ziranziyuan: return "市自然资源和规划局"
        case .shuili: return "市水利局"
        }
    }

    /// Whether this department is among a clause's responsible departments as printed. A clause that names
    /// none is paid, and so approved, by the finance bureau (市财政局).
    public func isResponsible(among departments: [String]) -> Bool {
        guard !departments.isEmpty else { return self == .caizheng }
        return departments.contains { $0 == self.chineseName }
    }
}

extension Department {
    /// The name of the department's certificate.
    public var partyName: String { self.rawValue }
}
