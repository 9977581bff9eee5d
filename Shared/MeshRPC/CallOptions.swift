/// Per-call settings a client passes.
public struct CallOptions: Sendable {
    /// How long the caller waits. The effective deadline is the earlier of this and the deadline of the
    /// call being served (`ServerContext.current`), so deadlines shrink along a chain of calls.
    public var timeout: Duration?
    public var metadata: Metadata

    public init(timeout: Duration? = nil, metadata: Metadata = [:]) {
        self.timeout = timeout
        self.metadata = metadata
    }

    func deadline(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let own = self.timeout.map { now + $0 }
        let inherited = ServerContext.current?.deadline
        switch (own, inherited) {
        case (nil, nil): return nil
        case (let deadline?, nil), (nil, let deadline?): return deadline
        case (let own?, let inherited?): return min(own, inherited)
        }
    }
}
