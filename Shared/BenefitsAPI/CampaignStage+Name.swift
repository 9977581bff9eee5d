import MeshMessages

extension Jiaxing_Benefits_V1_CampaignStage.Stage {
    /// The stage's name in `mesh campaign status` and in the metrics' `stage` dimension.
    public var name: String {
        switch self {
        case .screened: return "screened"
        case .proposed: return "proposed"
        case .decided: return "decided"
        case .posted: return "posted"
        case .notified: return "notified"
        case .unspecified, .UNRECOGNIZED: return "unspecified"
        }
    }
}
