import MeshMessages

extension Jiaxing_Benefits_V1_RecordSource {
    /// Who vouches for a record, in the words an officer reads beside the fact: 据市经信局 浙经信〔2023〕45号#17,
    /// 据嘉善县登记, 企业申报. nil for a record nobody vouches for (a what-if profile).
    public var chineseDescription: String? {
        switch self.kind {
        case .attested:
            let department = Department(rawValue: self.party)?.chineseName ?? self.party
            return "据\(department)" + (self.reference.isEmpty ? "" : " \(self.reference)")
        case .registered:
            return "据\(County(partyName: self.party)?.chineseName ?? self.party)登记"
        case .declared:
            return "企业申报"
        default:
            return nil
        }
    }

    /// A record's source as the gateway stamps it.
    public static func vouched(
        _ kind: Kind, by party: String, reference: String = "", at millis: Int64
    ) -> Jiaxing_Benefits_V1_RecordSource {
        var source = Jiaxing_Benefits_V1_RecordSource()
        source.kind = kind
        source.party = party
        source.reference = reference
        source.recordedAtMillis = millis
        return source
    }
}
