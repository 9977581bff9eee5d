import BenefitsAPI
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    public func registerWebhook(request: Jiaxing_Benefits_V1_RegisterWebhookRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_RegisterWebhookResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.county], caller, context)
        return try await self.forward(
            self.services.notification, NotificationMethods.registerWebhook, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_RegisterWebhookResponse.self)
    }

    public func listInbox(request: Jiaxing_Benefits_V1_ListInboxRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListInboxResponse
    {
        let caller = try self.caller(context)
        // A county reads what its own registered enterprises were told: the gateway checks the register,
        // then reads that inbox as itself.
        if caller.role == .county, request.audience.hasPrefix("enterprise/") {
            _ = try await self.registeredEnterprise(
                String(request.audience.dropFirst("enterprise/".count)), caller, context)
            return try await self.services.notification.call(idempotent: true) { client in
                try await client.unary(NotificationMethods.listInbox, request)
                    as Jiaxing_Benefits_V1_ListInboxResponse
            }
        }
        return try await self.forward(
            self.services.notification, NotificationMethods.listInbox, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListInboxResponse.self)
    }

    public func watchInbox(
        request: Jiaxing_Benefits_V1_WatchInboxRequest, writer: ResponseWriter<Jiaxing_Benefits_V1_Notice>,
        context: ServerContext
    ) async throws {
        let caller = try self.caller(context)
        guard self.watches.acquire(caller.description) else {
            throw RPCError(
                .resourceExhausted,
                "\(caller.description) has \(WatchSlots.maximumPerCaller) WatchInbox streams open, the most a caller may; close one first"
            )
        }
        defer { self.watches.release(caller.description) }
        try await self.services.notification.call(idempotent: false) { client in
            try await client.serverStreaming(NotificationMethods.watchInbox, request, options: caller.options) {
                (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                // Accepted once notification accepted it too (the audience is the caller's, the inbox is
                // there): the head goes out then, so a caller tells this watch from a refused one at once,
                // however long its inbox stays quiet (the HTTP face answers 200 only then).
                for try await event in notices.events {
                    switch event {
                    case .head: try await writer.sendHead()
                    case .response(let notice): try await writer.write(notice)
                    }
                }
            }
        }
    }

    public func getClause(request: Jiaxing_Benefits_V1_GetClauseRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Clause
    {
        let caller = try self.caller(context)
        return try await self.forward(
            self.services.catalog, CatalogMethods.getClause, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_Clause.self)
    }

    public func searchClauses(request: Jiaxing_Benefits_V1_SearchClausesRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_SearchClausesResponse
    {
        let caller = try self.caller(context)
        return try await self.forward(
            self.services.catalog, CatalogMethods.searchClauses, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_SearchClausesResponse.self)
    }

    public func listDocuments(request: Jiaxing_Benefits_V1_ListDocumentsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListDocumentsResponse
    {
        let caller = try self.caller(context)
        return try await self.forward(
            self.services.catalog, CatalogMethods.listDocuments, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListDocumentsResponse.self)
    }
}
