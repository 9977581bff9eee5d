import BenefitsAPI
import BenefitsDomain
import MeshIdentity
import MeshMessages
import MeshRPC
import NotificationCore

extension NotificationError: RPCErrorConvertible {
    public var rpcError: RPCError {
        RPCError(self.field == "notice_id" ? .notFound : .invalidArgument, self.description)
    }
}

/// The notification service's methods. A county registers its own webhook and reads its own inbox; a
/// department reads its own; the operator and services read any.
public struct NotificationHandlers: NotificationServiceProtocol {
    /// How long an inbox watch with nothing new waits for the notices' signal before it looks again anyway
    /// (a replica sharing PostgreSQL without a listener rings nothing here).
    static let idleWatchLook = Duration.seconds(1)

    let center: Notifier

    public init(center: Notifier) {
        self.center = center
    }

    static func audience(_ requested: String, _ context: ServerContext) throws -> String {
        guard let peer = context.peer, let role = peer.role else {
            throw RPCError(.unauthenticated, "no certificate identity")
        }
        let own = "\(role.rawValue)/\(peer.commonName)"
        if requested.isEmpty || requested == own { return own }
        guard role == .operator || role == .service else {
            throw RPCError(.permissionDenied, "\(own) reads only its own inbox, not \(requested)")
        }
        return requested
    }

    /// The longest text a request may carry in a string field, checked again here where it is stored (the
    /// gateway holds parties to 1,000 characters; an order's explanation, which the gateway derives, runs to
    /// 4,000).
    public static let textLimit = TextLimit(maximumCharacters: 4_000)

    /// Deliveries one ListDeliveries page holds at most.
    public static let maximumDeliveriesPerPage: Int32 = 1_000

    public func register(into router: inout RPCRouter) {
        router.requestCheck = { try Self.textLimit.check($0) }
        self.registerMethods(into: &router)
    }

    public func registerWebhook(request: Jiaxing_Benefits_V1_RegisterWebhookRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_RegisterWebhookResponse
    {
        guard context.peer?.role == .county, let county = context.peer?.commonName else {
            throw RPCError(.permissionDenied, "only a county system registers a webhook, for itself")
        }
        try await self.center.registerWebhook(
            county: county, url: request.url, secrets: request.secrets, batchSize: Int(request.batchSize))
        var response = Jiaxing_Benefits_V1_RegisterWebhookResponse()
        response.batchSize = max(1, request.batchSize)
        response.county = county
        response.url = request.url
        response.secretCount = Int32(request.secrets.split(separator: " ").count)
        return response
    }

    public func listInbox(request: Jiaxing_Benefits_V1_ListInboxRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListInboxResponse
    {
        let audience = try Self.audience(request.audience, context)
        guard (0...500).contains(request.limit) else {
            throw RPCError(.invalidArgument, "limit: 1 to 500, got \(request.limit)")
        }
        let before = try PageToken.position(in: request.pageToken, parts: 1) { Int64($0[0]) } ?? Int64.max
        let limit = request.limit == 0 ? 50 : Int(request.limit)
        var response = Jiaxing_Benefits_V1_ListInboxResponse()
        response.notices = try await self.center.inbox(audience: audience, limit: limit, before: before)
        if response.notices.count == limit, let last = response.notices.last {
            response.nextPageToken = PageToken(["\(last.eventSequence)"]).encoded
        }
        return response
    }

    public func watchInbox(
        request: Jiaxing_Benefits_V1_WatchInboxRequest, writer: ResponseWriter<Jiaxing_Benefits_V1_Notice>,
        context: ServerContext
    ) async throws {
        let audience = try Self.audience(request.audience, context)
        var after = try await self.center.replayStart(
            audience: audience, afterSequence: request.afterEventSequence)
        // Accepted: the head says so before any notice, however long the inbox stays quiet.
        try await writer.sendHead()
        let signal = self.center.noticeSignal
        while !Task.isCancelled {
            let seen = signal.generation
            let notices = try await self.center.notices(audience: audience, afterSequence: after)
            for notice in notices {
                try await writer.write(notice)
                after = max(after, notice.eventSequence)
            }
            if notices.isEmpty { await signal.wait(after: seen, timeout: Self.idleWatchLook) }
        }
    }

    public func listDeliveries(request: Jiaxing_Benefits_V1_ListDeliveriesRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListDeliveriesResponse
    {
        guard context.peer?.role == .operator || context.peer?.role == .service else {
            throw RPCError(.permissionDenied, "deliveries are for the operator")
        }
        guard (0...Self.maximumDeliveriesPerPage).contains(request.limit) else {
            throw RPCError(
                .invalidArgument, "limit: 1 to \(Self.maximumDeliveriesPerPage), got \(request.limit)")
        }
        let after: Notifier.DeliveryPosition? = try PageToken.position(in: request.pageToken, parts: 2) { parts in
            Int64(parts[0]).map { ($0, parts[1]) }
        }
        let page = try await self.center.deliveries(
            status: request.status == .unspecified ? nil : request.status,
            limit: request.limit == 0 ? 100 : Int(request.limit), after: after)
        var response = Jiaxing_Benefits_V1_ListDeliveriesResponse()
        response.deliveries = page.deliveries
        if let last = page.last {
            response.nextPageToken = PageToken(["\(last.createdAtMillis)", last.noticeID]).encoded
        }
        return response
    }

    public func replay(request: Jiaxing_Benefits_V1_ReplayRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Delivery
    {
        guard context.peer?.role == .operator else {
            throw RPCError(.permissionDenied, "only the operator replays deliveries")
        }
        return try await self.center.replay(noticeID: request.noticeID)
    }
}
