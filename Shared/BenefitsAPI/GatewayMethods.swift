import MeshRPC

/// The methods of `jiaxing.benefits.v1.Gateway` (see gateway.proto).
public enum GatewayMethods {
    public static let service = "jiaxing.benefits.v1.Gateway"
    public static let screen = MethodDescriptor(service: service, method: "Screen")
    public static let screenBatch = MethodDescriptor(service: service, method: "ScreenBatch")
    public static let screenAndPropose = MethodDescriptor(service: service, method: "ScreenAndPropose")
    public static let proposePayout = MethodDescriptor(service: service, method: "ProposePayout")
    public static let getOrder = MethodDescriptor(service: service, method: "GetOrder")
    public static let listOrders = MethodDescriptor(service: service, method: "ListOrders")
    public static let approve = MethodDescriptor(service: service, method: "Approve")
    public static let reject = MethodDescriptor(service: service, method: "Reject")
    public static let registerWebhook = MethodDescriptor(service: service, method: "RegisterWebhook")
    public static let listInbox = MethodDescriptor(service: service, method: "ListInbox")
    public static let watchInbox = MethodDescriptor(service: service, method: "WatchInbox")
    public static let getClause = MethodDescriptor(service: service, method: "GetClause")
    public static let searchClauses = MethodDescriptor(service: service, method: "SearchClauses")
    public static let listDocuments = MethodDescriptor(service: service, method: "ListDocuments")
    public static let listFunds = MethodDescriptor(service: service, method: "ListFunds")
    public static let getPayoutRates = MethodDescriptor(service: service, method: "GetPayoutRates")
    public static let openFund = MethodDescriptor(service: service, method: "OpenFund")
    public static let clawback = MethodDescriptor(service: service, method: "Clawback")
    public static let fileApplication = MethodDescriptor(service: service, method: "FileApplication")
    public static let decideApplication = MethodDescriptor(service: service, method: "DecideApplication")
    public static let listApplications = MethodDescriptor(service: service, method: "ListApplications")
    public static let getEvidence = MethodDescriptor(service: service, method: "GetEvidence")
    public static let registerEnterprises = MethodDescriptor(service: service, method: "RegisterEnterprises")
    public static let getEnterprise = MethodDescriptor(service: service, method: "GetEnterprise")
    public static let searchEnterprises = MethodDescriptor(service: service, method: "SearchEnterprises")
    public static let forecastRegister = MethodDescriptor(service: service, method: "ForecastRegister")
    public static let listDeliveries = MethodDescriptor(service: service, method: "ListDeliveries")
    public static let replay = MethodDescriptor(service: service, method: "Replay")
}
