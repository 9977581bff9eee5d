import NIOConcurrencyHelpers

/// A token bucket per caller: `rate` calls a second on average, bursts up to `burst`.
public final class CountyRateLimiter: Sendable {
    let rate: Double
    let burst: Double
    private let buckets = NIOLockedValueBox([String: (tokens: Double, at: ContinuousClock.Instant)]())

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// nil when the call may go; otherwise how long to wait before the next one would.
    public func admit(_ caller: String, now: ContinuousClock.Instant = .now) -> Duration? {
        self.buckets.withLockedValue { buckets in
            var bucket = buckets[caller] ?? (self.burst, now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(self.burst, bucket.tokens + seconds * self.rate)
            bucket.at = now
            defer { buckets[caller] = bucket }
            guard bucket.tokens >= 1 else {
                return .milliseconds(Int(((1 - bucket.tokens) / self.rate * 1000).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
