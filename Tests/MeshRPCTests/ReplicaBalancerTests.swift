import MeshRPC
import NIOConcurrencyHelpers
import Testing

/// The balancer's rules on replicas that are plain names and a clock the test moves: which replica a call goes
/// to, when it is ejected and comes back, when a failed call is tried elsewhere, and what the caller is told.
@Suite("Replica balancer")
struct ReplicaBalancerTests {
    /// Time the test moves by hand.
    final class TestClock: Sendable {
        let elapsed = NIOLockedValueBox(Duration.zero)
        func advance(by duration: Duration) { self.elapsed.withLockedValue { $0 += duration } }
    }

    static func balancer(_ replicas: [String], clock: TestClock) -> ReplicaBalancer<String> {
        ReplicaBalancer(
            service: "eligibility", replicas: replicas, ejection: .seconds(2),
            now: { clock.elapsed.withLockedValue { $0 } })
    }

    static let refused = RPCError(.unavailable, "connection refused", processing: .notProcessed)
    static let reset = RPCError(.unavailable, "connection reset by peer")

    @Test("one call at a time, ties are taken in turn")
    func turns() async throws {
        let balancer = Self.balancer(["a", "b", "c"], clock: TestClock())
        var served: [String: Int] = [:]
        for _ in 0..<9 {
            served[try await balancer.call(idempotent: false) { $0 }, default: 0] += 1
        }
        #expect(served == ["a": 3, "b": 3, "c": 3])
    }

    /// Runs `body` while one call is held open on a replica (named to `body`); the call ends when `body` does,
    /// and the replica it ran on is returned.
    static func withCallHeldOpen(
        _ balancer: ReplicaBalancer<String>, _ body: (_ busy: String) async throws -> Void
    ) async throws -> String {
        let (started, starting) = AsyncStream.makeStream(of: String.self)
        let (release, releasing) = AsyncStream.makeStream(of: Void.self)
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await balancer.call(idempotent: false) { replica in
                    starting.yield(replica)
                    for await _ in release { break }
                    return replica
                }
            }
            var iterator = started.makeAsyncIterator()
            let busy = try #require(await iterator.next())
            try await body(busy)
            releasing.yield()
            return try #require(try await group.next())
        }
    }

    @Test("a call goes to the replica with the fewest outstanding")
    func fewestOutstanding() async throws {
        let balancer = Self.balancer(["a", "b"], clock: TestClock())
        _ = try await Self.withCallHeldOpen(balancer) { busy in
            #expect(balancer.load.map(\.outstanding).sorted() == [0, 1])
            for _ in 0..<3 {
                let replica = try await balancer.call(idempotent: false) { $0 }
                #expect(replica != busy)
            }
        }
        #expect(balancer.load.map(\.outstanding) == [0, 0])
    }

    @Test("a replica that fails unavailable rests for the ejection, then is used again")
    func ejection() async throws {
        let clock = TestClock()
        let balancer = Self.balancer(["a", "b"], clock: clock)
        let down = NIOLockedValueBox<Set<String>>(["a"])
        let call: @Sendable (String) async throws -> String = { replica in
            if down.withLockedValue({ $0.contains(replica) }) { throw Self.refused }
            return replica
        }
        // The first call goes to a, is refused, and is taken by b.
        #expect(try await balancer.call(idempotent: false, call) == "b")
        down.withLockedValue { $0 = [] }
        for _ in 0..<4 { #expect(try await balancer.call(idempotent: false, call) == "b") }
        clock.advance(by: .seconds(2))
        var served: Set<String> = []
        for _ in 0..<4 { served.insert(try await balancer.call(idempotent: false, call)) }
        #expect(served == ["a", "b"])
    }

    @Test("a call the server may have acted on is tried elsewhere only if it is idempotent")
    func retriesOnlyWhatIsSafe() async throws {
        for idempotent in [false, true] {
            let balancer = Self.balancer(["a", "b"], clock: TestClock())
            let attempts = NIOLockedValueBox<[String]>([])
            let outcome = await #expect(throws: (any Error).self) {
                _ = try await balancer.call(idempotent: idempotent) { replica -> String in
                    attempts.withLockedValue { $0.append(replica) }
                    throw Self.reset
                }
            }
            let error = try #require(outcome as? RPCError)
            #expect(attempts.withLockedValue { $0.count } == (idempotent ? 2 : 1))
            #expect(error.code == .unavailable)
            #expect(error.message == "eligibility: connection reset by peer")
            #expect(error.processing == .mayHaveBeenProcessed)
        }
        // Never taken: safe to send elsewhere whatever the method does.
        let balancer = Self.balancer(["a", "b"], clock: TestClock())
        let attempts = NIOLockedValueBox(0)
        let answer = try await balancer.call(idempotent: false) { replica -> String in
            let attempt = attempts.withLockedValue {
                $0 += 1
                return $0
            }
            if attempt == 1 { throw Self.refused }
            return replica
        }
        #expect(attempts.withLockedValue { $0 } == 2)
        #expect(answer == "b")
    }

    @Test("the caller hears not processed only if no attempt may have been acted on")
    func processingOfTheWholeCall() async throws {
        for (first, expected) in [
            (Self.refused, RPCError.Processing.notProcessed), (Self.reset, .mayHaveBeenProcessed),
        ] {
            let balancer = Self.balancer(["a", "b"], clock: TestClock())
            let attempts = NIOLockedValueBox(0)
            let outcome = await #expect(throws: RPCError.self) {
                _ = try await balancer.call(idempotent: true) { _ -> String in
                    let attempt = attempts.withLockedValue {
                        $0 += 1
                        return $0
                    }
                    throw attempt == 1 ? first : Self.refused
                }
            }
            #expect(attempts.withLockedValue { $0 } == 2)
            #expect(outcome?.processing == expected, "first attempt: \(first)")
        }
    }

    @Test("retries stop when the budget is spent, and calls that succeed earn it back")
    func retryBudget() async throws {
        let balancer = Self.balancer(["a", "b"], clock: TestClock())
        var attemptsPerCall: [Int] = []
        for _ in 0..<30 {
            let attempts = NIOLockedValueBox(0)
            _ = try? await balancer.call(idempotent: true) { _ -> String in
                attempts.withLockedValue { $0 += 1 }
                throw Self.reset
            }
            attemptsPerCall.append(attempts.withLockedValue { $0 })
        }
        // Ten tokens: about a dozen failing calls retry; after that, one in nine (what the calls add back).
        #expect(attemptsPerCall.prefix(10).allSatisfy { $0 == 2 }, "\(attemptsPerCall)")
        #expect(attemptsPerCall.suffix(18).filter { $0 == 2 }.count <= 2, "\(attemptsPerCall)")
        // Ten answered calls earn one token back.
        for _ in 0..<10 { _ = try await balancer.call(idempotent: true) { $0 } }
        let attempts = NIOLockedValueBox(0)
        _ = try? await balancer.call(idempotent: true) { _ -> String in
            attempts.withLockedValue { $0 += 1 }
            throw Self.reset
        }
        #expect(attempts.withLockedValue { $0 } == 2)
    }

    @Test("a replica retired with a call in flight finishes it, and is handed back once idle")
    func retiring() async throws {
        let balancer = Self.balancer(["a", "b"], clock: TestClock())
        var retired: String?
        let finished = try await Self.withCallHeldOpen(balancer) { busy in
            let change = balancer.reshape(retiring: { $0 == busy }, admitting: { _ in ["c"] })
            #expect(change.retired == [busy] && change.admitted == ["c"] && change.idle.isEmpty)
            #expect(Set(balancer.replicas) == Set(["a", "b", "c"]).subtracting([busy]))
            retired = busy
        }
        #expect(finished == retired)
        let later = balancer.reshape(retiring: { _ in false }, admitting: { _ in [] })
        #expect(later.idle == [finished])
        #expect(balancer.removeAll().count == 2)
    }
}
