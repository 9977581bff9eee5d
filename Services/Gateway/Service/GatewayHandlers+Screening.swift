import BenefitsAPI
import BenefitsDomain
import GatewayStore
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    func screen(_ request: Jiaxing_Benefits_V1_ScreenRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_ScreeningResult
    {
        try await self.services.eligibility.call(idempotent: true) { client in
            try await client.unary(EligibilityMethods.screen, request, options: caller.options)
        }
    }

    public func screen(request: Jiaxing_Benefits_V1_ScreenRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Passthrough
    {
        let caller = try self.caller(context)
        try self.requireCounty(request.profile.county, caller, context)
        // Sealed decisions vouch for amounts the gateway proposes; a caller's own profile gets none.
        var request = request
        request.seal = false
        // The gateway reads nothing of the result: its bytes go back as the replica wrote them.
        return try await self.services.eligibility.call(idempotent: true) { [request] client in
            try await client.unary(EligibilityMethods.screen, request, options: caller.options)
        }
    }

    /// Profiles in, results out in the same order; up to `batchWindow` screened at once across the
    /// eligibility replicas. A profile refused (another county's, or invalid) is reported on its line and
    /// the rest go on.
    public func screenBatch(
        requests: RequestStream<Jiaxing_Benefits_V1_ScreenRequest>,
        writer: ResponseWriter<Jiaxing_Benefits_V1_ScreeningResult>, context: ServerContext
    ) async throws {
        let caller = try self.caller(context)
        try await withThrowingTaskGroup(of: (Int, Jiaxing_Benefits_V1_ScreeningResult).self) { group in
            var next = 0
            var sent = 0
            var ready: [Int: Jiaxing_Benefits_V1_ScreeningResult] = [:]
            func flush() async throws {
                while let result = ready.removeValue(forKey: sent) {
                    try await writer.write(result)
                    sent += 1
                }
            }
            for try await received in requests {
                let index = next
                next += 1
                var request = received
                request.seal = false
                group.addTask { [request] in
                    do {
                        try Self.textLimit.check(request)
                        try self.requireCounty(request.profile.county, caller, context)
                        return (index, try await self.screen(request, caller))
                    } catch {
                        let status = RPCError.from(error)
                        var result = Jiaxing_Benefits_V1_ScreeningResult()
                        result.requestID = request.requestID
                        result.creditCode = request.profile.creditCode
                        result.error.code = status.code.rawValue
                        result.error.message = status.message
                        return (index, result)
                    }
                }
                if next - sent >= Self.batchWindow, let (index, result) = try await group.next() {
                    ready[index] = result
                    try await flush()
                }
            }
            while let (index, result) = try await group.next() {
                ready[index] = result
                try await flush()
            }
        }
    }

    /// One call, three services: the county's profile is registered (its own enterprises only), the register's
    /// trusted profile is screened, and every cash entitlement it pays without an application is proposed
    /// at once. What the county's own records alone would pay is reported, not proposed.
    public func screenAndPropose(request: Jiaxing_Benefits_V1_ScreenAndProposeRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ScreenAndProposeResponse
    {
        let caller = try self.caller(context)
        try self.requireCounty(request.screen.profile.county, caller, context)
        try await self.requireNotRegisteredElsewhere(
            request.screen.profile.creditCode, request.screen.profile.county, caller, context)
        try await self.registerForMoneyPath(request.screen.profile, caller)
        guard let registered = try await self.store.enterprise(creditCode: request.screen.profile.creditCode)
        else { throw RPCError(.notFound, "credit_code: \(request.screen.profile.creditCode) is not registered") }
        var trustedRequest = request.screen
        trustedRequest.profile = try await self.trustedProfile(registered, caller)
        trustedRequest.seal = true
        var claimedRequest = request.screen
        claimedRequest.profile = registered
        claimedRequest.seal = false
        async let trustedScreening = self.screen(trustedRequest, caller)
        async let claimedScreening = self.screen(claimedRequest, caller)
        let screening = try await trustedScreening
        let claimed = try await claimedScreening
        let eligible = screening.decisions.filter { $0.status == .eligible && $0.cash }
        let payable = Set(eligible.map(\.citation.clauseID))
        var response = Jiaxing_Benefits_V1_ScreenAndProposeResponse()
        response.screening = screening
        // The seals are for disbursement; the county reads the decisions.
        for index in response.screening.decisions.indices { response.screening.decisions[index].clearSeal() }
        response.unattested = claimed.decisions.filter {
            $0.status == .eligible && $0.cash && !payable.contains($0.citation.clauseID)
        }
        response.proposals = try await withThrowingTaskGroup(of: Jiaxing_Benefits_V1_ProposalOutcome.self) {
            group in
            for decision in eligible {
                let propose = Jiaxing_Benefits_V1_ProposePayoutRequest(
                    decision: decision, for: registered)
                group.addTask {
                    var outcome = Jiaxing_Benefits_V1_ProposalOutcome()
                    outcome.clauseID = decision.citation.clauseID
                    do {
                        outcome.order = try await self.propose(propose, caller, context)
                    } catch {
                        let status = RPCError.from(error)
                        outcome.code = status.code.rawValue
                        outcome.message = status.message
                    }
                    return outcome
                }
            }
            var outcomes: [Jiaxing_Benefits_V1_ProposalOutcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.clauseID < $1.clauseID }
        }
        return response
    }
}
