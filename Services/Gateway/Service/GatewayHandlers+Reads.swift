import BenefitsAPI
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    func registerReads(into router: inout RPCRouter) {
        router.unary(GatewayMethods.registerWebhook) { (request: Jiaxing_Benefits_V1_RegisterWebhookRequest, context) in
            let caller = try self.caller(context)
            try self.requireRole(["county"], caller, context)
            return try await self.forward(self.services.notification, NotificationMethods.registerWebhook, request, caller, idempotent: true, as: Jiaxing_Benefits_V1_RegisterWebhookResponse.self)
        }
        router.unary(GatewayMethods.listInbox) { (request: Jiaxing_Benefits_V1_ListInboxRequest, context) in
            let caller = try self.caller(context)
            return try await self.forward(self.services.notification, NotificationMethods.listInbox, request, caller, idempotent: true, as: Jiaxing_Benefits_V1_ListInboxResponse.self)
        }
        router.serverStreaming(GatewayMethods.watchInbox) { (request: Jiaxing_Benefits_V1_WatchInboxRequest, writer: ResponseWriter<Jiaxing_Benefits_V1_Notice>, context) in
            let caller = try self.caller(context)
            try await self.services.notification.call(idempotent: false) { client in
                try await client.serverStreaming(NotificationMethods.watchInbox, request, options: caller.options) { (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                    for try await notice in notices { try await writer.write(notice) }
                }
            }
        }
        router.unary(GatewayMethods.getClause) { (request: Jiaxing_Benefits_V1_GetClauseRequest, context) in
            let caller = try self.caller(context)
            return try await self.forward(self.services.catalog, CatalogMethods.getClause, request, caller, idempotent: true, as: Jiaxing_Benefits_V1_Clause.self)
        }
        router.unary(GatewayMethods.searchClauses) { (request: Jiaxing_Benefits_V1_SearchClausesRequest, context) in
            let caller = try self.caller(context)
            return try await self.forward(self.services.catalog, CatalogMethods.searchClauses, request, caller, idempotent: true, as: Jiaxing_Benefits_V1_SearchClausesResponse.self)
        }
        router.unary(GatewayMethods.listDocuments) { (request: Jiaxing_Benefits_V1_ListDocumentsRequest, context) in
            let caller = try self.caller(context)
            return try await self.forward(self.services.catalog, CatalogMethods.listDocuments, request, caller, idempotent: true, as: Jiaxing_Benefits_V1_ListDocumentsResponse.self)
        }
    }
}
