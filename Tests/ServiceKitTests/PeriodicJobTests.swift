import MeshTestSupport
import NIOConcurrencyHelpers
import ServiceKit
import ServiceLifecycle
import Testing

/// The loop behind every service's background work: rounds go on after a failure, and a graceful shutdown
/// ends the wait between rounds instead of waiting it out.
@Suite("Periodic job")
struct PeriodicJobTests {
    /// A service doing `round` every `interval` through `PeriodicJob`, counting its rounds.
    struct Counting: Service {
        let interval: Duration
        let first: PeriodicJob.First
        let rounds = NIOLockedValueBox(0)
        let started = AsyncStream<Int>.makeStream()
        /// Rounds that throw, from the first.
        var failing = 0

        func run() async throws {
            await PeriodicJob.run(every: self.interval, "test round", logger: TestMesh.logger, first: self.first) {
                let round = self.rounds.withLockedValue { count -> Int in
                    count += 1
                    return count
                }
                self.started.continuation.yield(round)
                if round <= self.failing { throw CancellationError() }
            }
            self.started.continuation.finish()
        }
    }

    @Test("a graceful shutdown ends the hour-long wait after the first round at once", .timeLimit(.minutes(1)))
    func shutdownEndsTheWait() async throws {
        let job = Counting(interval: .seconds(3600), first: .atOnce)
        let group = ServiceGroup(
            services: [job], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var rounds = job.started.stream.makeAsyncIterator()
            #expect(await rounds.next() == 1)
            let asked = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.next()
            #expect(ContinuousClock.now - asked < .seconds(30))
        }
        #expect(job.rounds.withLockedValue { $0 } == 1)
    }

    @Test("failed rounds are logged and the next ones still come; the first may wait an interval")
    func failuresDoNotStopIt() async throws {
        var job = Counting(interval: .milliseconds(5), first: .afterInterval)
        job.failing = 2
        let group = ServiceGroup(
            services: [job], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var seen: [Int] = []
            for await round in job.started.stream {
                seen.append(round)
                if round == 4 { break }
            }
            #expect(seen == [1, 2, 3, 4])
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    @Test("a shutdown before the first round's interval ends it without a round")
    func shutdownBeforeTheFirstRound() async throws {
        let job = Counting(interval: .seconds(3600), first: .afterInterval)
        let group = ServiceGroup(
            services: [job], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(job.rounds.withLockedValue { $0 } == 0)
    }
}
