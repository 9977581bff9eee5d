import NIOConcurrencyHelpers

/// How a caller spreads calls over the replicas of one service: the replica with the fewest calls
/// outstanding (ties taken in turn), a replica whose call failed unavailable ejected for a rest, and a call
/// that failed unavailable tried on another replica when that is safe — the server never took it, or the
/// method is idempotent — and a retry budget allows, so a failing service is not stormed.
///
/// Generic over what a replica is (the gateway's `ReplicaPool` keeps a connection and its address; the
/// simulation a replica on a simulated network) and over time (`now`, a monotonic offset), so the same rules
/// run in the mesh and under the simulation's clock.
///
/// Invariants: a member's `outstanding` counts the calls picked and not yet finished on it; a replica
/// retired while calls are in flight is kept until they finish; retry tokens stay within 0...`maximumTokens`.
public final class ReplicaBalancer<Replica: Sendable>: Sendable {
    public let service: String
    /// How long an ejected replica rests before it is preferred again.
    public let ejection: Duration
    let now: @Sendable () -> Duration
    private let state: NIOLockedValueBox<State>

    struct Member {
        let id: Int
        let replica: Replica
        var outstanding = 0
        var ejectedUntil: Duration? = nil
    }

    struct State {
        var members: [Member] = []
        /// Replicas no longer in use, kept until their calls in flight finish.
        var retired: [Member] = []
        var nextID = 0
        /// Which of the replicas tied on outstanding calls goes next.
        var turn = 0
        /// Retry tokens: each call adds a tenth, each retry spends one; at most `maximumTokens`.
        var retryTokens: Double = ReplicaBalancer.maximumTokens

        mutating func admit(_ replica: Replica) {
            self.members.append(Member(id: self.nextID, replica: replica))
            self.nextID += 1
        }
    }

    public static var maximumTokens: Double { 10 }

    /// - Parameter now: monotonic time since any fixed origin; by default the continuous clock's.
    public init(
        service: String, replicas: [Replica] = [], ejection: Duration,
        now: (@Sendable () -> Duration)? = nil
    ) {
        self.service = service
        self.ejection = ejection
        if let now {
            self.now = now
        } else {
            let origin = ContinuousClock.now
            self.now = { origin.duration(to: .now) }
        }
        var state = State()
        for replica in replicas { state.admit(replica) }
        self.state = NIOLockedValueBox(state)
    }

    /// The replicas in use now, in the order they were admitted.
    public var replicas: [Replica] { self.state.withLockedValue { $0.members.map(\.replica) } }

    /// The replicas in use now with their calls outstanding.
    public var load: [(replica: Replica, outstanding: Int)] {
        self.state.withLockedValue { $0.members.map { ($0.replica, $0.outstanding) } }
    }

    public var count: Int { self.state.withLockedValue { $0.members.count } }

    /// The replica to use now: healthy ones first, fewest outstanding calls, ties taken in turn (a caller that
    /// waits for each answer still spreads its calls over every replica).
    func pick(excluding: Set<Int>) -> (id: Int, replica: Replica)? {
        let now = self.now()
        return self.state.withLockedValue { state in
            let candidates = state.members.indices.filter { !excluding.contains(state.members[$0].id) }
            let healthy = candidates.filter { state.members[$0].ejectedUntil.map { $0 <= now } ?? true }
            let usable = healthy.isEmpty ? candidates : healthy
            guard let least = usable.map({ state.members[$0].outstanding }).min() else { return nil }
            let tied = usable.filter { state.members[$0].outstanding == least }
            let chosen = tied[state.turn % tied.count]
            state.turn &+= 1
            state.members[chosen].outstanding += 1
            state.retryTokens = min(Self.maximumTokens, state.retryTokens + 0.1)
            return (state.members[chosen].id, state.members[chosen].replica)
        }
    }

    func finish(_ id: Int, failed: Bool) {
        let now = self.now()
        self.state.withLockedValue { state in
            if let index = state.members.firstIndex(where: { $0.id == id }) {
                state.members[index].outstanding -= 1
                state.members[index].ejectedUntil = failed ? now + self.ejection : nil
            } else if let index = state.retired.firstIndex(where: { $0.id == id }) {
                state.retired[index].outstanding -= 1
            }
        }
    }

    func spendRetryToken() -> Bool {
        self.state.withLockedValue { state in
            guard state.retryTokens >= 1 else { return false }
            state.retryTokens -= 1
            return true
        }
    }

    /// Runs `body` on a replica. An unavailable answer ejects the replica; the call then goes to another one
    /// if the server never took it or `idempotent` says a second run is harmless, while untried replicas and
    /// retry tokens remain. Every error thrown is an `RPCError` naming the service, with the last attempt's
    /// code; it says `.notProcessed` only if no attempt can have been acted on.
    public func call<Result: Sendable>(idempotent: Bool, _ body: (Replica) async throws -> Result) async throws
        -> Result
    {
        var tried: Set<Int> = []
        // Whether an attempt so far may have been acted on: the call as a whole was not processed only if no
        // attempt was, whatever the last one says.
        var processing = RPCError.Processing.notProcessed
        while true {
            guard let (id, replica) = self.pick(excluding: tried) else {
                throw RPCError(
                    .unavailable, "\(self.service): no replica left to try (\(self.count) in use)",
                    processing: processing)
            }
            tried.insert(id)
            do {
                let result = try await body(replica)
                self.finish(id, failed: false)
                return result
            } catch {
                let error = RPCError.from(error)
                let unavailable = error.code == .unavailable
                self.finish(id, failed: unavailable)
                if error.processing == .mayHaveBeenProcessed { processing = .mayHaveBeenProcessed }
                if unavailable, idempotent || error.processing == .notProcessed, tried.count < self.count,
                    self.spendRetryToken()
                {
                    continue
                }
                throw RPCError(
                    error.code, "\(self.service): \(error.message)", metadata: error.metadata, cause: error,
                    processing: processing)
            }
        }
    }

    /// In one step: retires every replica `isGone` picks and admits those `newcomers` returns (given the
    /// replicas still in use); hands back what was retired, what was admitted, and the retired replicas now
    /// idle, which the caller closes. Both closures run under the balancer's lock, which is not reentrant:
    /// they must not touch the balancer.
    public func reshape(
        retiring isGone: (Replica) -> Bool, admitting newcomers: ([Replica]) -> [Replica]
    ) -> (retired: [Replica], admitted: [Replica], idle: [Replica]) {
        self.state.withLockedValue { state in
            let gone = state.members.filter { isGone($0.replica) }
            state.members.removeAll { isGone($0.replica) }
            state.retired += gone
            let admitted = newcomers(state.members.map(\.replica))
            for replica in admitted { state.admit(replica) }
            let idle = state.retired.filter { $0.outstanding == 0 }.map(\.replica)
            state.retired.removeAll { $0.outstanding == 0 }
            return (gone.map(\.replica), admitted, idle)
        }
    }

    /// Empties the balancer; hands back every replica, in use or retired, for the caller to close.
    public func removeAll() -> [Replica] {
        self.state.withLockedValue { state in
            let all = (state.members + state.retired).map(\.replica)
            state.members = []
            state.retired = []
            return all
        }
    }
}
