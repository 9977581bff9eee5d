import MeshMessages
import MeshRPC
import SwiftProtobuf

/// Every method of every mesh service with its message types, so tools can call any of them with JSON
/// (the protobuf JSON mapping) in and out, and list them.
public enum MethodRegistry {
    public struct Entry: Sendable {
        public let method: MethodDescriptor
        public let kind: MethodKind
        public let request: any SwiftProtobuf.Message.Type
        public let response: any SwiftProtobuf.Message.Type
        /// Calls the method: requests as JSON objects, responses as JSON, one per message.
        public let call: @Sendable (MeshClient, [String], CallOptions) async throws -> [String]
    }

    static func entry<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ kind: MethodKind, _ request: Request.Type, _ response: Response.Type
    ) -> Entry {
        Entry(method: method, kind: kind, request: request, response: response) { client, json, options in
            let requests = try json.map { try Request(jsonString: $0) }
            @Sendable func render(_ message: Response) throws -> String { try message.jsonString() }
            switch kind {
            case .unary:
                guard requests.count == 1 else {
                    throw RPCError(.invalidArgument, "\(method) takes one request, got \(requests.count)")
                }
                let response: Response = try await client.unary(method, requests[0], options: options)
                return [try render(response)]
            case .serverStreaming:
                guard requests.count == 1 else {
                    throw RPCError(.invalidArgument, "\(method) takes one request, got \(requests.count)")
                }
                return try await client.serverStreaming(method, requests[0], options: options) {
                    (responses: ResponseStream<Response>) in
                    var out: [String] = []
                    for try await response in responses { out.append(try render(response)) }
                    return out
                }
            case .clientStreaming:
                let response: Response = try await client.clientStreaming(method, options: options) { writer in
                    for request in requests { try await writer.write(request) }
                }
                return [try render(response)]
            case .bidirectional:
                return try await client.bidirectional(
                    method, options: options,
                    requests: { writer in
                        for request in requests { try await writer.write(request) }
                    },
                    responses: { (responses: ResponseStream<Response>) in
                        var out: [String] = []
                        for try await response in responses { out.append(try render(response)) }
                        return out
                    })
            }
        }
    }

    public static let entries: [Entry] = [
        entry(
            MethodDescriptor(service: "mesh.rpc.v1.Health", method: "Check"), .unary,
            Mesh_Rpc_V1_HealthCheckRequest.self, Mesh_Rpc_V1_HealthCheckResponse.self),
        entry(
            CatalogMethods.listDocuments, .unary, Jiaxing_Benefits_V1_ListDocumentsRequest.self,
            Jiaxing_Benefits_V1_ListDocumentsResponse.self),
        entry(
            CatalogMethods.getDocument, .unary, Jiaxing_Benefits_V1_GetDocumentRequest.self,
            Jiaxing_Benefits_V1_PolicyDocument.self),
        entry(
            CatalogMethods.getClause, .unary, Jiaxing_Benefits_V1_GetClauseRequest.self, Jiaxing_Benefits_V1_Clause.self
        ),
        entry(
            CatalogMethods.searchClauses, .unary, Jiaxing_Benefits_V1_SearchClausesRequest.self,
            Jiaxing_Benefits_V1_SearchClausesResponse.self),
        entry(
            CatalogMethods.getCatalog, .unary, Jiaxing_Benefits_V1_GetCatalogRequest.self,
            Jiaxing_Benefits_V1_CatalogSnapshot.self),
        entry(
            CatalogMethods.watch, .serverStreaming, Jiaxing_Benefits_V1_WatchCatalogRequest.self,
            Jiaxing_Benefits_V1_CatalogRevision.self),
        entry(
            EligibilityMethods.screen, .unary, Jiaxing_Benefits_V1_ScreenRequest.self,
            Jiaxing_Benefits_V1_ScreeningResult.self),
        entry(
            EligibilityMethods.screenBatch, .bidirectional, Jiaxing_Benefits_V1_ScreenRequest.self,
            Jiaxing_Benefits_V1_ScreeningResult.self),
        entry(
            EligibilityMethods.forecast, .clientStreaming, Jiaxing_Benefits_V1_ForecastRequest.self,
            Jiaxing_Benefits_V1_ForecastResult.self),
        entry(
            EligibilityMethods.screenCampaign, .unary, Jiaxing_Benefits_V1_CampaignScreenRequest.self,
            Jiaxing_Benefits_V1_CampaignScreenResponse.self),
        entry(
            DisbursementMethods.proposePayout, .unary, Jiaxing_Benefits_V1_ProposePayoutRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            DisbursementMethods.approve, .unary, Jiaxing_Benefits_V1_DecideRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            DisbursementMethods.reject, .unary, Jiaxing_Benefits_V1_DecideRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            DisbursementMethods.proposePayouts, .unary, Jiaxing_Benefits_V1_ProposePayoutsRequest.self,
            Jiaxing_Benefits_V1_ProposePayoutsResponse.self),
        entry(
            DisbursementMethods.decideOrdersBatch, .unary, Jiaxing_Benefits_V1_DecideOrdersBatchRequest.self,
            Jiaxing_Benefits_V1_DecideOrdersBatchResponse.self),
        entry(
            DisbursementMethods.getCampaignProgress, .unary, Jiaxing_Benefits_V1_CampaignProgressRequest.self,
            Jiaxing_Benefits_V1_CampaignProgress.self),
        entry(
            DisbursementMethods.clawback, .unary, Jiaxing_Benefits_V1_ClawbackRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            DisbursementMethods.getOrder, .unary, Jiaxing_Benefits_V1_GetOrderRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            DisbursementMethods.listOrders, .unary, Jiaxing_Benefits_V1_ListOrdersRequest.self,
            Jiaxing_Benefits_V1_ListOrdersResponse.self),
        entry(
            DisbursementMethods.openFund, .unary, Jiaxing_Benefits_V1_OpenFundRequest.self,
            Jiaxing_Benefits_V1_FundBalance.self),
        entry(
            DisbursementMethods.listFunds, .unary, Jiaxing_Benefits_V1_ListFundsRequest.self,
            Jiaxing_Benefits_V1_ListFundsResponse.self),
        entry(
            DisbursementMethods.getPayoutRates, .unary, Jiaxing_Benefits_V1_PayoutRateRequest.self,
            Jiaxing_Benefits_V1_PayoutRateResponse.self),
        entry(
            DisbursementMethods.subscribe, .serverStreaming, Jiaxing_Benefits_V1_SubscribeRequest.self,
            Jiaxing_Benefits_V1_DisbursementEvent.self),
        entry(
            DisbursementMethods.acknowledge, .unary, Jiaxing_Benefits_V1_AcknowledgeRequest.self,
            Jiaxing_Benefits_V1_AcknowledgeResponse.self),
        entry(
            DisbursementMethods.recordApplication, .unary, Jiaxing_Benefits_V1_RecordApplicationRequest.self,
            Jiaxing_Benefits_V1_Application.self),
        entry(
            DisbursementMethods.decideApplication, .unary, Jiaxing_Benefits_V1_DecideApplicationRequest.self,
            Jiaxing_Benefits_V1_Application.self),
        entry(
            DisbursementMethods.listApplications, .unary, Jiaxing_Benefits_V1_ListApplicationsRequest.self,
            Jiaxing_Benefits_V1_ListApplicationsResponse.self),
        entry(
            DisbursementMethods.getEvidence, .unary, Jiaxing_Benefits_V1_GetEvidenceRequest.self,
            Jiaxing_Benefits_V1_Evidence.self),
        entry(
            NotificationMethods.registerWebhook, .unary, Jiaxing_Benefits_V1_RegisterWebhookRequest.self,
            Jiaxing_Benefits_V1_RegisterWebhookResponse.self),
        entry(
            NotificationMethods.listInbox, .unary, Jiaxing_Benefits_V1_ListInboxRequest.self,
            Jiaxing_Benefits_V1_ListInboxResponse.self),
        entry(
            NotificationMethods.watchInbox, .serverStreaming, Jiaxing_Benefits_V1_WatchInboxRequest.self,
            Jiaxing_Benefits_V1_Notice.self),
        entry(
            NotificationMethods.listDeliveries, .unary, Jiaxing_Benefits_V1_ListDeliveriesRequest.self,
            Jiaxing_Benefits_V1_ListDeliveriesResponse.self),
        entry(
            NotificationMethods.replay, .unary, Jiaxing_Benefits_V1_ReplayRequest.self,
            Jiaxing_Benefits_V1_Delivery.self),
        entry(
            GatewayMethods.screen, .unary, Jiaxing_Benefits_V1_ScreenRequest.self,
            Jiaxing_Benefits_V1_ScreeningResult.self),
        entry(
            GatewayMethods.screenBatch, .bidirectional, Jiaxing_Benefits_V1_ScreenRequest.self,
            Jiaxing_Benefits_V1_ScreeningResult.self),
        entry(
            GatewayMethods.screenAndPropose, .unary, Jiaxing_Benefits_V1_ScreenAndProposeRequest.self,
            Jiaxing_Benefits_V1_ScreenAndProposeResponse.self),
        entry(
            GatewayMethods.proposePayout, .unary, Jiaxing_Benefits_V1_ProposePayoutRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            GatewayMethods.getOrder, .unary, Jiaxing_Benefits_V1_GetOrderRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            GatewayMethods.listOrders, .unary, Jiaxing_Benefits_V1_ListOrdersRequest.self,
            Jiaxing_Benefits_V1_ListOrdersResponse.self),
        entry(
            GatewayMethods.approve, .unary, Jiaxing_Benefits_V1_DecideRequest.self, Jiaxing_Benefits_V1_PayoutOrder.self
        ),
        entry(
            GatewayMethods.reject, .unary, Jiaxing_Benefits_V1_DecideRequest.self, Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            GatewayMethods.registerWebhook, .unary, Jiaxing_Benefits_V1_RegisterWebhookRequest.self,
            Jiaxing_Benefits_V1_RegisterWebhookResponse.self),
        entry(
            GatewayMethods.listInbox, .unary, Jiaxing_Benefits_V1_ListInboxRequest.self,
            Jiaxing_Benefits_V1_ListInboxResponse.self),
        entry(
            GatewayMethods.watchInbox, .serverStreaming, Jiaxing_Benefits_V1_WatchInboxRequest.self,
            Jiaxing_Benefits_V1_Notice.self),
        entry(
            GatewayMethods.getClause, .unary, Jiaxing_Benefits_V1_GetClauseRequest.self, Jiaxing_Benefits_V1_Clause.self
        ),
        entry(
            GatewayMethods.searchClauses, .unary, Jiaxing_Benefits_V1_SearchClausesRequest.self,
            Jiaxing_Benefits_V1_SearchClausesResponse.self),
        entry(
            GatewayMethods.listDocuments, .unary, Jiaxing_Benefits_V1_ListDocumentsRequest.self,
            Jiaxing_Benefits_V1_ListDocumentsResponse.self),
        entry(
            GatewayMethods.listFunds, .unary, Jiaxing_Benefits_V1_ListFundsRequest.self,
            Jiaxing_Benefits_V1_ListFundsResponse.self),
        entry(
            GatewayMethods.getPayoutRates, .unary, Jiaxing_Benefits_V1_PayoutRateRequest.self,
            Jiaxing_Benefits_V1_PayoutRateResponse.self),
        entry(
            GatewayMethods.openFund, .unary, Jiaxing_Benefits_V1_OpenFundRequest.self,
            Jiaxing_Benefits_V1_FundBalance.self),
        entry(
            GatewayMethods.clawback, .unary, Jiaxing_Benefits_V1_ClawbackRequest.self,
            Jiaxing_Benefits_V1_PayoutOrder.self),
        entry(
            GatewayMethods.fileApplication, .unary, Jiaxing_Benefits_V1_FileApplicationRequest.self,
            Jiaxing_Benefits_V1_Application.self),
        entry(
            GatewayMethods.decideApplication, .unary, Jiaxing_Benefits_V1_DecideApplicationRequest.self,
            Jiaxing_Benefits_V1_Application.self),
        entry(
            GatewayMethods.listApplications, .unary, Jiaxing_Benefits_V1_ListApplicationsRequest.self,
            Jiaxing_Benefits_V1_ListApplicationsResponse.self),
        entry(
            GatewayMethods.getEvidence, .unary, Jiaxing_Benefits_V1_GetEvidenceRequest.self,
            Jiaxing_Benefits_V1_Evidence.self),
        entry(
            GatewayMethods.registerEnterprises, .unary, Jiaxing_Benefits_V1_RegisterEnterprisesRequest.self,
            Jiaxing_Benefits_V1_RegisterEnterprisesResponse.self),
        entry(
            GatewayMethods.getEnterprise, .unary, Jiaxing_Benefits_V1_GetEnterpriseRequest.self,
            Jiaxing_Benefits_V1_EnterpriseProfile.self),
        entry(
            GatewayMethods.searchEnterprises, .unary, Jiaxing_Benefits_V1_SearchEnterprisesRequest.self,
            Jiaxing_Benefits_V1_SearchEnterprisesResponse.self),
        entry(
            GatewayMethods.publishRecords, .unary, Jiaxing_Benefits_V1_PublishRecordsRequest.self,
            Jiaxing_Benefits_V1_PublishRecordsResponse.self),
        entry(
            GatewayMethods.listPublishedRecords, .unary, Jiaxing_Benefits_V1_ListPublishedRecordsRequest.self,
            Jiaxing_Benefits_V1_ListPublishedRecordsResponse.self),
        entry(
            GatewayMethods.listClaims, .unary, Jiaxing_Benefits_V1_ListClaimsRequest.self,
            Jiaxing_Benefits_V1_ListClaimsResponse.self),
        entry(
            GatewayMethods.resolveClaim, .unary, Jiaxing_Benefits_V1_ResolveClaimRequest.self,
            Jiaxing_Benefits_V1_RegistrationClaim.self),
        entry(
            GatewayMethods.runCampaign, .unary, Jiaxing_Benefits_V1_CampaignRequest.self,
            Jiaxing_Benefits_V1_CampaignResult.self),
        entry(
            GatewayMethods.getCampaign, .unary, Jiaxing_Benefits_V1_GetCampaignRequest.self,
            Jiaxing_Benefits_V1_CampaignStatus.self),
        entry(
            GatewayMethods.listCampaigns, .unary, Jiaxing_Benefits_V1_ListCampaignsRequest.self,
            Jiaxing_Benefits_V1_ListCampaignsResponse.self),
        entry(
            GatewayMethods.listCampaignNearMisses, .unary, Jiaxing_Benefits_V1_ListCampaignNearMissesRequest.self,
            Jiaxing_Benefits_V1_ListCampaignNearMissesResponse.self),
        entry(
            GatewayMethods.decideOrders, .unary, Jiaxing_Benefits_V1_DecideOrdersRequest.self,
            Jiaxing_Benefits_V1_DecideOrdersResult.self),
        entry(
            GatewayMethods.forecastRegister, .unary, Jiaxing_Benefits_V1_ForecastRegisterRequest.self,
            Jiaxing_Benefits_V1_ForecastResult.self),
        entry(
            GatewayMethods.listDeliveries, .unary, Jiaxing_Benefits_V1_ListDeliveriesRequest.self,
            Jiaxing_Benefits_V1_ListDeliveriesResponse.self),
        entry(GatewayMethods.replay, .unary, Jiaxing_Benefits_V1_ReplayRequest.self, Jiaxing_Benefits_V1_Delivery.self),
    ]

    /// Finds a method by its full name (`package.Service/Method`) or by `Service/Method`.
    public static func find(_ name: String) -> Entry? {
        self.entries.first { $0.method.fullName == name }
            ?? self.entries.first { $0.method.fullName.hasSuffix("." + name) }
    }
}
