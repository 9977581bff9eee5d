/// The counties, county-level cities and districts of Jiaxing, and its two special zones (县(市、区)).
public enum County: String, Sendable, Hashable, CaseIterable, Codable {
    case nanhu, xiuzhou, jiashan, pinghu, haiyan, haining, tongxiang, economicDevelopmentZone, portDistrict

    /// The name the documents use.
    public var chineseName: String {
        switch self {
        case .nanhu: return "南湖区"
        case .xiuzhou: return "秀洲区"
        case .jiashan: return "嘉善县"
        case .pinghu: return "平湖市"
        case .haiyan: return "海盐县"
        case .haining: return "海宁市"
        case .tongxiang: return "桐乡市"
        case .economicDevelopmentZone: return "嘉兴经济技术开发区"
        case .portDistrict: return "嘉兴港区"
        }
    }

    /// The name of the county system's certificate (see Compose/topology.json).
    public var partyName: String {
        switch self {
        case .economicDevelopmentZone: return "jingkai"
        case .portDistrict: return "gangqu"
        default: return self.rawValue
        }
    }

    public init?(partyName: String) {
        guard let county = County.allCases.first(where: { $0.partyName == partyName }) else { return nil }
        self = county
    }
}
