import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayStore
import MeshMessages
import MeshRPC

extension GatewayStoreError {
    var rpcError: RPCError {
        switch self.code {
        case .invalidArgument: return RPCError(.invalidArgument, self.description)
        case .notFound: return RPCError(.notFound, self.description)
        case .permissionDenied: return RPCError(.permissionDenied, self.description)
        case .alreadyExists: return RPCError(.alreadyExists, self.description)
        }
    }
}

extension GatewayHandlers {
    public func registerEnterprises(request: Jiaxing_Benefits_V1_RegisterEnterprisesRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_RegisterEnterprisesResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.county, .operator], caller, context)
        do {
            // Up to a thousand profiles encoded and written: not on an event loop.
            let outcome = try await onCooperativePool {
                try await self.store.register(request.profiles, registeringCounty: caller.county, at: Self.nowMillis())
            }
            self.audit.record(
                caller: caller.description, method: "RegisterEnterprises", outcome: "registered",
                detail: [
                    "added": "\(outcome.added)", "updated": "\(outcome.updated)", "held": "\(outcome.held)",
                ])
            for claim in outcome.claims {
                self.audit.record(
                    caller: caller.description, method: "RegisterEnterprises", outcome: "held",
                    detail: ["creditCode": claim.creditCode, "reason": claim.reason])
            }
            var response = Jiaxing_Benefits_V1_RegisterEnterprisesResponse()
            response.added = Int32(outcome.added)
            response.updated = Int32(outcome.updated)
            response.held = Int32(outcome.held)
            response.claims = outcome.claims
            return response
        } catch let error as GatewayStoreError {
            if error.code == .permissionDenied {
                throw self.refuse(caller, context, error.description)
            }
            throw error.rpcError
        }
    }

    public func listClaims(request: Jiaxing_Benefits_V1_ListClaimsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListClaimsResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.county, .operator], caller, context)
        guard (0...Self.maximumClaimsPerPage).contains(request.limit) else {
            throw RPCError(.invalidArgument, "limit: 1 to \(Self.maximumClaimsPerPage), got \(request.limit)")
        }
        let after: GatewayStore.ClaimPosition? = try PageToken.position(in: request.pageToken, parts: 3) {
            parts in
            guard let millis = Int64(parts[0]), let claimant = Int64(parts[2]) else { return nil }
            return (millis, parts[1], claimant)
        }
        let limit = request.limit == 0 ? 100 : Int(request.limit)
        var response = Jiaxing_Benefits_V1_ListClaimsResponse()
        response.claims = try await self.store.claims(
            visibleTo: caller.county, status: request.status, limit: limit, after: after)
        if response.claims.count == limit, let last = response.claims.last {
            response.nextPageToken =
                PageToken(["\(last.claimedAtMillis)", last.creditCode, "\(last.claimant.rawValue)"]).encoded
        }
        return response
    }

    public func resolveClaim(request: Jiaxing_Benefits_V1_ResolveClaimRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_RegistrationClaim
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        guard let claimant = County(message: request.claimant) else {
            throw RPCError(.invalidArgument, "claimant: the county that made the claim is required")
        }
        let reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= Self.maximumReasonLength else {
            throw RPCError(
                .invalidArgument, "reason: a reason of 1 to \(Self.maximumReasonLength) characters is required")
        }
        do {
            let claim = try await self.store.resolveClaim(
                creditCode: request.creditCode, claimant: claimant, transfer: request.transfer, reason: reason,
                by: caller.description, at: Self.nowMillis())
            self.audit.record(
                caller: caller.description, method: "ResolveClaim", outcome: "\(claim.status)",
                detail: ["creditCode": claim.creditCode, "claimant": claimant.partyName, "reason": reason])
            return claim
        } catch let error as GatewayStoreError {
            throw error.rpcError
        }
    }

    public func getEnterprise(request: Jiaxing_Benefits_V1_GetEnterpriseRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        let caller = try self.caller(context)
        return try await self.registeredEnterprise(request.creditCode, caller, context)
    }

    public func searchEnterprises(request: Jiaxing_Benefits_V1_SearchEnterprisesRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_SearchEnterprisesResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.county, .operator], caller, context)
        var county = caller.county
        if caller.role == .operator, request.county != .unspecified { county = County(message: request.county) }
        if let own = caller.county, request.county != .unspecified, request.county != own.message {
            try self.requireCounty(request.county, caller, context)
        }
        guard request.query.count <= 100 else { throw RPCError(.invalidArgument, "query: at most 100 characters") }
        let after: (name: String, creditCode: String)? = try PageToken.position(
            in: request.pageToken, parts: 2
        ) { ($0[0], $0[1]) }
        do {
            var response = Jiaxing_Benefits_V1_SearchEnterprisesResponse()
            response.enterprises = try await self.store.searchEnterprises(
                query: request.query, county: county, limit: Int(request.limit), after: after)
            let size = request.limit == 0 ? 50 : Int(request.limit)
            if response.enterprises.count == size, let last = response.enterprises.last {
                response.nextPageToken = PageToken([last.name, last.creditCode]).encoded
            }
            return response
        } catch let error as GatewayStoreError {
            throw error.rpcError
        }
    }

    /// The register's trusted profiles, a page at a time, streamed to one eligibility replica's Forecast:
    /// what the clauses in force would propose to the city's (or one county's) registered enterprises on
    /// the facts a proposal rests on.
    public func forecastRegister(request: Jiaxing_Benefits_V1_ForecastRegisterRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ForecastResult
    {
        // Pages of a thousand profiles read and built, for as long as the register takes: not on an event loop.
        try await onCooperativePool { try await self.forecastRegisterPages(request: request, context: context) }
    }

    private func forecastRegisterPages(request: Jiaxing_Benefits_V1_ForecastRegisterRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ForecastResult
    {
        let caller = try self.caller(context)
        try self.requireRole([.county, .operator], caller, context)
        var county = caller.county
        if caller.role == .operator, request.county != .unspecified {
            guard let chosen = County(message: request.county) else {
                throw RPCError(.invalidArgument, "county: not a county or district of Jiaxing")
            }
            county = chosen
        } else if request.county != .unspecified {
            try self.requireCounty(request.county, caller, context)
        }
        guard request.hasAsOf else { throw RPCError(.invalidArgument, "as_of: the forecast date is required") }
        let scope = county
        let vocabulary = try await self.vocabulary.vocabulary(from: self.services.catalog, options: caller.options)
        return try await self.services.eligibility.call(idempotent: true) {
            client -> Jiaxing_Benefits_V1_ForecastResult in
            try await client.clientStreaming(EligibilityMethods.forecast, options: caller.options) {
                (writer: RequestWriter<Jiaxing_Benefits_V1_ForecastRequest>) in
                var after = ""
                var first = true
                while true {
                    let page = try await self.store.registeredProfiles(
                        county: scope, after: after, limit: Self.forecastPage)
                    // What would be paid: each profile as the trusted facts give it, as a proposal sees it.
                    let attested = try await self.store.attestedRecords(creditCodes: page.map(\.creditCode))
                    var message = Jiaxing_Benefits_V1_ForecastRequest()
                    if first { message.asOf = request.asOf }
                    message.profiles = page.map { profile in
                        TrustedProfile.build(
                            registered: profile, attested: attested[profile.creditCode] ?? [],
                            vocabulary: vocabulary)
                    }
                    if first || !page.isEmpty { try await writer.write(message) }
                    first = false
                    guard page.count == Self.forecastPage, let last = page.last else { return }
                    after = last.creditCode
                }
            }
        }
    }

    public func listDeliveries(request: Jiaxing_Benefits_V1_ListDeliveriesRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListDeliveriesResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        return try await self.forward(
            self.services.notification, NotificationMethods.listDeliveries, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListDeliveriesResponse.self)
    }

    public func replay(request: Jiaxing_Benefits_V1_ReplayRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Delivery
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        let delivery = try await self.forward(
            self.services.notification, NotificationMethods.replay, request, caller, idempotent: false,
            as: Jiaxing_Benefits_V1_Delivery.self)
        self.audit.record(
            caller: caller.description, method: "Replay", outcome: "replayed",
            detail: ["notice": request.noticeID, "endpoint": delivery.endpoint])
        return delivery
    }

    /// Characters of the operator's reason for resolving a claim.
    static let maximumReasonLength = 500

    /// Registers the profile a money path was sent (a county's own enterprise), refusing the call when the
    /// register holds it as a claim for the operator instead.
    func registerForMoneyPath(_ profile: Jiaxing_Benefits_V1_EnterpriseProfile, _ caller: Caller) async throws {
        let outcome: RegistrationOutcome
        do {
            outcome = try await self.store.register([profile], registeringCounty: caller.county, at: Self.nowMillis())
        } catch let error as GatewayStoreError {
            throw error.rpcError
        }
        if let claim = outcome.claims.first {
            self.audit.record(
                caller: caller.description, method: "RegisterEnterprises", outcome: "held",
                detail: ["creditCode": claim.creditCode, "reason": claim.reason])
            throw RPCError(
                .failedPrecondition,
                "credit_code: \(claim.creditCode) is held for the operator (\(claim.reason)); nothing is paid until the claim is resolved"
            )
        }
    }

    /// Claims one ListClaims page holds at most.
    static let maximumClaimsPerPage: Int32 = 1_000

    /// Profiles read from the register and sent to eligibility per message of a forecast.
    static let forecastPage = 1_000

    /// A registered profile the caller may see: a county its own, the operator any.
    func registeredEnterprise(_ creditCode: String, _ caller: Caller, _ context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        try self.requireRole([.county, .operator], caller, context)
        guard let profile = try await self.store.enterprise(creditCode: creditCode) else {
            throw RPCError(.notFound, "credit_code: \(creditCode) is not registered")
        }
        try self.requireCounty(profile.county, caller, context)
        return profile
    }

    /// Money paths: a county may not claim, for its own county, an enterprise the register puts in another.
    func requireNotRegisteredElsewhere(
        _ creditCode: String, _ county: Jiaxing_Benefits_V1_County, _ caller: Caller, _ context: ServerContext
    ) async throws {
        guard caller.role == .county, let registered = try await self.store.registeredCounty(creditCode: creditCode),
            registered != county
        else { return }
        let owner = BenefitsDomain.County(message: registered)?.chineseName ?? "another county"
        throw self.refuse(
            caller, context,
            "\(creditCode) is registered in \(owner), not in \(caller.county?.chineseName ?? "the caller's county")")
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
