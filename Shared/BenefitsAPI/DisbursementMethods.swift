import MeshRPC

/// The methods of `jiaxing.benefits.v1.DisbursementService` (see disbursement.proto).
public enum DisbursementMethods {
    public static let service = "jiaxing.benefits.v1.DisbursementService"
    public static let proposePayout = MethodDescriptor(service: service, method: "ProposePayout")
    public static let approve = MethodDescriptor(service: service, method: "Approve")
    public static let reject = MethodDescriptor(service: service, method: "Reject")
    public static let proposePayouts = MethodDescriptor(service: service, method: "ProposePayouts")
    public static let decideOrdersBatch = MethodDescriptor(service: service, method: "DecideOrdersBatch")
    public static let getCampaignProgress = MethodDescriptor(service: service, method: "GetCampaignProgress")
    public static let clawback = MethodDescriptor(service: service, method: "Clawback")
    public static let getOrder = MethodDescriptor(service: service, method: "GetOrder")
    public static let listOrders = MethodDescriptor(service: service, method: "ListOrders")
    public static let openFund = MethodDescriptor(service: service, method: "OpenFund")
    public static let listFunds = MethodDescriptor(service: service, method: "ListFunds")
    public static let getPayoutRates = MethodDescriptor(service: service, method: "GetPayoutRates")
    public static let subscribe = MethodDescriptor(service: service, method: "Subscribe")
    public static let acknowledge = MethodDescriptor(service: service, method: "Acknowledge")
    public static let recordApplication = MethodDescriptor(service: service, method: "RecordApplication")
    public static let decideApplication = MethodDescriptor(service: service, method: "DecideApplication")
    public static let listApplications = MethodDescriptor(service: service, method: "ListApplications")
    public static let getEvidence = MethodDescriptor(service: service, method: "GetEvidence")
}
