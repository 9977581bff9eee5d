import BenefitsAPI
import EligibilityEngine
import MeshMessages
import MeshRPC

/// The eligibility service's methods over the mesh.
public struct EligibilityHandlers: EligibilityServiceProtocol {
    let holder: EngineHolder
    /// Most profiles one `Forecast` takes.
    let maximumForecastProfiles: Int
    /// The default. Two million enterprises of the benchmark's kind are about 50 MB of columns, and each fact
    /// the clauses read adds a dense 16 MB column while the forecast is computed.
    public static let defaultMaximumForecastProfiles = 2_000_000

    /// Signs decisions for proposals; nil in a replica without a key of its own, which refuses `seal`.
    let sealer: DecisionSealer?

    public init(
        holder: EngineHolder, sealer: DecisionSealer?,
        maximumForecastProfiles: Int = Self.defaultMaximumForecastProfiles
    ) {
        self.holder = holder
        self.sealer = sealer
        self.maximumForecastProfiles = maximumForecastProfiles
    }

    /// The screening of `request`, its fixed cash decisions sealed when the request asks for it.
    func screen(_ request: Jiaxing_Benefits_V1_ScreenRequest, on engine: EligibilityEngine) throws
        -> Jiaxing_Benefits_V1_ScreeningResult
    {
        var result = engine.screen(request)
        guard request.seal, !result.hasError else { return result }
        guard let sealer = self.sealer else {
            throw RPCError(.failedPrecondition, "seal: this eligibility replica has no signing key")
        }
        try sealer.seal(&result, of: request)
        return result
    }

    func engine() throws -> EligibilityEngine {
        guard let engine = self.holder.engine else {
            throw RPCError(.unavailable, "the catalog has not loaded yet; retry shortly")
        }
        return engine
    }

    public func register(into router: inout RPCRouter) {
        self.registerMethods(into: &router)
    }

    public func screen(request: Jiaxing_Benefits_V1_ScreenRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ScreeningResult
    {
        let result = try self.screen(request, on: self.engine())
        if result.hasError { throw RPCError(.invalidArgument, result.error.message) }
        return result
    }

    /// Results go back in the order the profiles came, one per profile, as they are computed. The stream's
    /// flow control bounds memory: a caller that stops reading stops the reading of its profiles.
    public func screenBatch(
        requests: RequestStream<Jiaxing_Benefits_V1_ScreenRequest>,
        writer: ResponseWriter<Jiaxing_Benefits_V1_ScreeningResult>, context _: ServerContext
    ) async throws {
        let engine = try self.engine()
        for try await request in requests {
            try await writer.write(self.screen(request, on: engine))
        }
    }

    public func screenCampaign(request: Jiaxing_Benefits_V1_CampaignScreenRequest, context _: ServerContext)
        async throws -> Jiaxing_Benefits_V1_CampaignScreenResponse
    {
        // A page of a campaign is hundreds of profiles screened and sealed: on the pool, not the event loop.
        try await onCooperativePool { try self.screenCampaign(request, on: self.engine()) }
    }

    /// Amounts only over many profiles (a register), for budgets: one answer when the stream ends.
    public func forecast(requests: RequestStream<Jiaxing_Benefits_V1_ForecastRequest>, context _: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ForecastResult
    {
        // Up to millions of profiles: on the pool, not the event loop.
        try await onCooperativePool {
            var accumulator = ForecastAccumulator(
                engine: try self.engine(), maximumProfiles: self.maximumForecastProfiles)
            for try await request in requests { try accumulator.add(request) }
            return try accumulator.result()
        }
    }
}
