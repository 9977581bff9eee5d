import NotificationCore
import Synchronization

/// The counties' webhook endpoints in the simulation: each POST is taken (2xx), refused (HTTP 500), not
/// answered (the call times out: taken or not, the notifier cannot know) or taken and answered late enough
/// that the notifier sends it again. What happens to a POST is drawn from the seed, the webhook-id and how
/// many times that id came before, so it does not depend on the order concurrent POSTs run in.
final class SimulatedEndpoints: WebhookPoster {
    private struct State {
        /// Webhook-ids taken, and how many times each.
        var taken: [String: Int] = [:]
        /// POSTs per webhook-id so far.
        var posts: [String: Int] = [:]
        var healthy = false
    }

    private let seed: UInt64
    private let state = Mutex(State())

    init(seed: UInt64) { self.seed = seed }

    /// While set, every POST is taken (the consumer's last catch-up).
    func setHealthy(_ healthy: Bool) { self.state.withLock { $0.healthy = healthy } }

    /// Webhook-ids taken at least once, with their counts.
    var taken: [String: Int] { self.state.withLock { $0.taken } }

    struct Timeout: Error, CustomStringConvertible {
        var description: String { "the endpoint did not answer in time" }
    }

    func post(_ endpoint: WebhookClient.Endpoint, headers: [(String, String)], body: [UInt8], timeout: Duration)
        async throws -> Int
    {
        let id = headers.first { $0.0 == "webhook-id" }?.1 ?? ""
        enum Answer { case taken, refused, lost, takenLost }
        let answer = self.state.withLock { state -> Answer in
            state.posts[id, default: 0] += 1
            if state.healthy { return .taken }
            var random = SeededRandom(seed: self.seed ^ Self.hash(id) ^ UInt64(state.posts[id]!) &* 0x9E37_79B9)
            switch random.next() % 8 {
            case 0: return .refused
            case 1: return .lost
            case 2: return .takenLost
            default: return .taken
            }
        }
        switch answer {
        case .taken:
            self.state.withLock { $0.taken[id, default: 0] += 1 }
            return 200
        case .refused: return 500
        case .lost: throw Timeout()
        case .takenLost:
            self.state.withLock { $0.taken[id, default: 0] += 1 }
            throw Timeout()
        }
    }

    func refusal(_ endpoint: WebhookClient.Endpoint) async throws -> String? { nil }

    /// FNV-1a: a stable hash of an id (Swift's own is seeded per process).
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
