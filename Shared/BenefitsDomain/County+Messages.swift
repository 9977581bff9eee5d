import MeshMessages

extension County {
    /// nil for COUNTY_UNSPECIFIED or a number this version does not know.
    public init?(message: Jiaxing_Benefits_V1_County) {
        switch message {
        case .nanhu: self = .nanhu
        case .xiuzhou: self = .xiuzhou
        case .jiashan: self = .jiashan
        case .pinghu: self = .pinghu
        case .haiyan: self = .haiyan
        case .haining: self = .haining
        case .tongxiang: self = .tongxiang
        case .economicDevelopmentZone: self = .economicDevelopmentZone
        case .portDistrict: self = .portDistrict
        default: return nil
        }
    }

    public var message: Jiaxing_Benefits_V1_County {
        switch self {
        case .nanhu: return .nanhu
        case .xiuzhou: return .xiuzhou
        case .jiashan: return .jiashan
        case .pinghu: return .pinghu
        case .haiyan: return .haiyan
        case .haining: return .haining
        case .tongxiang: return .tongxiang
        case .economicDevelopmentZone: return .economicDevelopmentZone
        case .portDistrict: return .portDistrict
        }
    }
}
