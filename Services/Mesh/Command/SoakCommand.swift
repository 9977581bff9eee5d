import ArgumentParser
import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import Logging
import MeshHarness
import MeshMessages
import MeshRPC
import MeshTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceKit

/// A bounded soak through the gateway: first the peak (screening calls as fast as `--concurrency` callers
/// go), then `--seconds` at `--fraction` of it, paced in an open loop (each call started when due, latency
/// counted from then, so a stall is not hidden), with each process's resident memory and each window's p99 recorded. It passes when
/// no call fails, every process's memory ends within 10% of where it stood after the first window, and no
/// window's p99 is over twice the median window's.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract:
            "Screening through the gateway at a fraction of its peak for a while; memory, p99 and errors per window.")

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(help: "Seconds of the soak itself.")
    var seconds = 600

    @Option(help: "Share of the measured peak to run at.")
    var fraction = 0.7

    @Option(
        help:
            "Calls per second to soak at, instead of --fraction of a measured peak: two builds compared at the same load (their CPU per call above all)."
    )
    var rate: Double?

    @Option(
        help: "Where the driver's own calls run: event-loop (the event loops in turn) or pool (the cooperative pool).")
    var driverExecution: MeshServer.CallExecution = .connectionEventLoop

    @Option(
        help:
            "How the peak is measured: closed-loop (--concurrency callers, each waiting for its answer, for --peak-seconds) or open-loop (calls started when due, as the soak starts them, at a rate rising by 15% every --peak-step seconds from --peak-start while no call fails and the p99 stays within --peak-latency)."
    )
    var peakMethod: PeakMethod = .closedLoop

    @Option(help: "Open-loop peak: the first rate, calls/s.")
    var peakStart = 500

    @Option(help: "Open-loop peak: seconds at each rate.")
    var peakStep = 5

    @Option(help: "Open-loop peak: the p99 a rate must keep to hold, in milliseconds.")
    var peakLatency = 100

    @Option(help: "Seconds to measure the peak.")
    var peakSeconds = 20

    @Option(help: "Callers at once while measuring the peak (the soak itself starts each call when it is due).")
    var concurrency = 64

    @Option(help: "Seconds per window of the report.")
    var window = 30

    @Option(
        help:
            "Seconds at the soak's rate before the judged windows, while the processes' heaps grow to their working size (reported, not judged; an error in it still fails the soak)."
    )
    var warmup = 120

    @Option(
        help:
            "Calls in flight at most. A call due while this many are still running is not started and counts as failed: a stall then fails the soak instead of piling up tasks in the driver, whose task group's bookkeeping grows with its running tasks until the driver itself stalls."
    )
    var maximumInFlight = 4096

    @Option(help: "Sample enterprises (protobuf JSON), screened by their own counties.")
    var enterprises = "Compose/demo/enterprises.json"

    func validate() throws {
        guard self.seconds >= self.window * 2 else {
            throw ValidationError("--seconds: at least two windows (\(self.window * 2) s)")
        }
        guard (0.05...1).contains(self.fraction) else {
            throw ValidationError("--fraction: 0.05 to 1, got \(self.fraction)")
        }
        guard (1...512).contains(self.concurrency) else { throw ValidationError("--concurrency: 1 to 512") }
        guard (0...3600).contains(self.warmup) else {
            throw ValidationError("--warmup: 0 to 3600 seconds, got \(self.warmup)")
        }
        if let rate = self.rate, !(1...1_000_000).contains(rate) {
            throw ValidationError("--rate: 1 to 1,000,000 calls/s, got \(rate)")
        }
        guard (1...100_000).contains(self.peakStart) else {
            throw ValidationError("--peak-start: 1 to 100,000 calls/s, got \(self.peakStart)")
        }
        guard (1...60).contains(self.peakStep) else {
            throw ValidationError("--peak-step: 1 to 60 seconds, got \(self.peakStep)")
        }
        guard (1...10_000).contains(self.peakLatency) else {
            throw ValidationError("--peak-latency: 1 to 10,000 ms, got \(self.peakLatency)")
        }
        guard (1...1_000_000).contains(self.maximumInFlight) else {
            throw ValidationError("--maximum-in-flight: 1 to 1,000,000, got \(self.maximumInFlight)")
        }
    }

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        guard let state = MeshState.load(directory: topology.state),
            let gateway = state.instances.first(where: { $0.service == "gateway" })
        else {
            throw ValidationError("no mesh is running: start it with `mesh up --detach`")
        }
        let requests = try Self.requests(self.enterprises)
        var logger = Logger(label: "mesh.soak")
        logger.logLevel = .critical
        var clients: [String: MeshClient] = [:]
        for party in Set(requests.map(\.party)) {
            clients[party] = MeshClient(
                configuration: .init(
                    port: gateway.port,
                    tls: try TLSFiles.load(directory: topology.certificates, name: party, serverHostname: "gateway")),
                logger: logger)
        }
        let calls = clients
        // The driver's calls run on the event loops, as the mesh's handlers do: on the cooperative pool each
        // call woke two more threads, and the driver's CPU is taken from the cores the mesh runs on.
        let executors: [(any TaskExecutor)?] =
            switch self.driverExecution {
            case .connectionEventLoop:
                MultiThreadedEventLoopGroup.singleton.makeIterator().map(EventLoopTaskExecutor.init)
            case .cooperativePool: [nil]
            }
        @Sendable func call(_ index: Int) async -> Bool {
            let (party, request) = requests[index % requests.count]
            do {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await calls[party]!.unary(
                    GatewayMethods.screen, request, options: CallOptions(timeout: .seconds(10)))
                return true
            } catch {
                return false
            }
        }

        let rate: Double
        if let fixed = self.rate {
            rate = fixed
            Self.say(
                String(
                    format: "soaking at %.0f/s (fixed, no peak measured) for %d s after %d s of warm-up", rate,
                    self.seconds, self.warmup))
        } else {
            let peak =
                switch self.peakMethod {
                case .closedLoop: await self.measurePeak(call, on: executors)
                case .openLoop: await self.measureOpenLoopPeak(call, on: executors)
                }
            rate = peak * self.fraction
            Self.say(
                String(
                    format: "soaking at %.0f/s (%.0f%% of the peak) for %d s after %d s of warm-up", rate,
                    self.fraction * 100, self.seconds, self.warmup))
        }

        // The soak: paced, each call due at start + i/rate.
        let start = ContinuousClock.now + .milliseconds(200)
        let warmupSeconds = self.warmup
        let total = Int(rate * Double(self.seconds + warmupSeconds))
        // Room for every sample up front: growing the array under its lock would stall the callers.
        var reserved: [(window: Int, micros: Int64, ok: Bool)] = []
        reserved.reserveCapacity(total)
        let samples = NIOLockedValueBox(reserved)
        var notStarted = 0
        let windowCount = self.seconds / self.window
        let memory = NIOLockedValueBox<[[String: Int]]>([])
        let windowSeconds = self.window
        let instances = state.instances
        // Calls and errors per window so far, kept apart from the samples so that a window's line can be
        // written as it ends without reading (or copying) the samples under their lock.
        let tallies = NIOLockedValueBox([Int: (calls: Int, errors: Int)]())
        @Sendable func record(_ index: Int, due: ContinuousClock.Instant, ok: Bool) {
            let elapsed = ContinuousClock.now - due
            let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            let dueSecond = Double(index) / rate
            let window =
                dueSecond < Double(warmupSeconds)
                ? -1 : min(windowCount - 1, Int(dueSecond - Double(warmupSeconds)) / windowSeconds)
            samples.withLockedValue { $0.append((window, micros, ok)) }
            tallies.withLockedValue { tallies in
                let tally = tallies[window, default: (0, 0)]
                tallies[window] = (tally.calls + 1, tally.errors + (ok ? 0 : 1))
            }
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await Task.sleep(until: start + .seconds(warmupSeconds), clock: .continuous)
                var cpu = Self.cpuTimes(instances)
                for number in 1...windowCount {
                    try? await Task.sleep(
                        until: start + .seconds(warmupSeconds + number * windowSeconds), clock: .continuous)
                    let resident = Self.residentMemory(instances)
                    memory.withLockedValue { $0.append(resident) }
                    // CPU per call: each process's CPU time in the window over the calls due in it.
                    let now = Self.cpuTimes(instances)
                    let due = rate * Double(windowSeconds)
                    let perCall: [String] = now.keys.sorted().compactMap { name in
                        guard let before = cpu[name], let after = now[name] else { return nil }
                        let micros = Double((after - before) / .microseconds(1))
                        return "\(name) \(Int((micros / due).rounded()))"
                    }
                    cpu = now
                    // As each window ends: its calls answered so far, errors, memory (percentiles at the end).
                    let tally: (calls: Int, errors: Int) = tallies.withLockedValue { $0[number - 1] } ?? (0, 0)
                    let megabytes: [String] = resident.keys.sorted().map { name in
                        "\(name) \((resident[name] ?? 0) / 1024)"
                    }
                    let from = (number - 1) * windowSeconds
                    let to = number * windowSeconds
                    Self.say(
                        "  window \(from)-\(to) s ended: \(tally.calls) calls answered, \(tally.errors) errors; resident MB "
                            + megabytes.joined(separator: ", ") + "; CPU µs per call " + perCall.joined(separator: ", ")
                    )
                }
            }
            notStarted = await Self.paced(
                rate: rate, count: total, from: start, maximumInFlight: self.maximumInFlight, on: executors, call
            ) { index, due, ok in record(index, due: due, ok: ok) }
        }
        for client in clients.values { await client.close() }

        let all = samples.withLockedValue { $0 }
        if notStarted > 0 {
            Self.say(
                "\(notStarted) calls not started: \(self.maximumInFlight) were still in flight when they were due (counted as failed)"
            )
        }
        let memorySamples = memory.withLockedValue { $0 }
        Self.say("window      calls   errors   p50 µs    p99 µs   resident MB per process")
        func percentiles(_ window: Int) -> (calls: Int, errors: Int, p50: Int64, p99: Int64) {
            let inWindow = all.filter { $0.window == window }
            let latencies = inWindow.map(\.micros).sorted()
            let p50 = latencies.isEmpty ? 0 : latencies[latencies.count / 2]
            let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            return (inWindow.count, inWindow.filter { !$0.ok }.count, p50, p99)
        }
        if warmupSeconds > 0 {
            let warm = percentiles(-1)
            Self.say(
                String(
                    format: "warm-up %4d s %7d %7d %9lld %9lld   (not judged)", warmupSeconds, warm.calls, warm.errors,
                    warm.p50, warm.p99))
        }
        var p99s: [Int64] = []
        for number in 0..<windowCount {
            let (calls, windowErrors, p50, p99) = percentiles(number)
            p99s.append(p99)
            let resident =
                number < memorySamples.count
                ? memorySamples[number].sorted { $0.key < $1.key }.map { "\($0.key) \($0.value / 1024)" }.joined(
                    separator: ", ") : ""
            Self.say(
                String(
                    format: "%4d-%-4d s %7d %7d %9lld %9lld   ", number * windowSeconds, (number + 1) * windowSeconds,
                    calls, windowErrors, p50, p99) + resident)
        }
        var failures: [String] = []
        let errors = all.filter { !$0.ok }.count
        if errors > 0 { failures.append("\(errors) of \(all.count) calls failed") }
        if let first = memorySamples.first, let last = memorySamples.last {
            for (process, kilobytes) in last.sorted(by: { $0.key < $1.key }) {
                guard let baseline = first[process], baseline > 0 else { continue }
                let drift = Double(kilobytes - baseline) / Double(baseline)
                Self.say(
                    String(
                        format: "memory %@: %d MB after the first window, %d MB at the end (%+.1f%%)", process,
                        baseline / 1024, kilobytes / 1024, drift * 100))
                if abs(drift) > 0.10 {
                    failures.append(String(format: "%@'s memory moved %+.1f%% (more than 10%%)", process, drift * 100))
                }
            }
        }
        let median = p99s.sorted()[p99s.count / 2]
        if let worst = p99s.max(), worst > median * 2 {
            failures.append("a window's p99 of \(worst) µs is over twice the median window's \(median) µs")
        }
        Self.say(
            "calls: \(all.count), errors: \(errors); p99 per window from \(p99s.min() ?? 0) to \(p99s.max() ?? 0) µs (median \(median))"
        )
        if failures.isEmpty {
            Self.say("soak: passed")
        } else {
            for failure in failures { Self.say("  FAILED: \(failure)") }
            throw ExitCode.failure
        }
    }

    /// The peak: closed loop, `--concurrency` callers for `--peak-seconds`.
    func measurePeak(_ call: @escaping @Sendable (Int) async -> Bool, on executors: [(any TaskExecutor)?]) async
        -> Double
    {
        // The peak: closed loop, counting only calls that succeeded (a refusal, such as a rate limit's, comes
        // back fast and would inflate it).
        let counter = NIOLockedValueBox(0)
        let succeeded = NIOLockedValueBox(0)
        let peakEnd = ContinuousClock.now + .seconds(self.peakSeconds)
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<self.concurrency {
                group.addTask(executorPreference: executors[caller % executors.count]) {
                    while ContinuousClock.now < peakEnd {
                        let index = counter.withLockedValue {
                            $0 += 1
                            return $0
                        }
                        if await call(index) { succeeded.withLockedValue { $0 += 1 } }
                    }
                }
            }
        }
        let failedAtPeak = counter.withLockedValue { $0 } - succeeded.withLockedValue { $0 }
        if failedAtPeak > 0 { Self.say("peak: \(failedAtPeak) calls failed while measuring it (not counted)") }
        let peak = Double(succeeded.withLockedValue { $0 }) / Double(self.peakSeconds)
        Self.say(
            String(
                format:
                    "peak: %.0f screenings/s through the gateway (closed loop: %d callers, %d s)", peak,
                self.concurrency, self.peakSeconds))
        return peak
    }

    /// The peak measured the way the soak loads the mesh: each call started when due, the rate rising by 15% a
    /// step from `--peak-start` while no call fails (or cannot start) and the step's p99 stays within
    /// `--peak-latency`; the last rate that held. A closed loop's callers wait for their answers, so the mesh
    /// carries several calls a wake-up and a `write`, and reaches rates it cannot sustain when calls arrive
    /// on their own.
    func measureOpenLoopPeak(_ call: @escaping @Sendable (Int) async -> Bool, on executors: [(any TaskExecutor)?])
        async -> Double
    {
        var rate = Double(self.peakStart)
        var held = 0.0
        let limit = Int64(self.peakLatency) * 1000
        while rate <= 1_000_000 {
            let latencies = NIOLockedValueBox([Int64]())
            let failures = NIOLockedValueBox(0)
            _ = await Self.paced(
                rate: rate, count: Int(rate * Double(self.peakStep)), from: .now + .milliseconds(50),
                maximumInFlight: self.maximumInFlight, on: executors, call
            ) { _, due, ok in
                let micros = Int64((ContinuousClock.now - due) / .microseconds(1))
                latencies.withLockedValue { $0.append(micros) }
                if !ok { failures.withLockedValue { $0 += 1 } }
            }
            let sorted = latencies.withLockedValue { $0 }.sorted()
            let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            let failed = failures.withLockedValue { $0 }
            let holds = failed == 0 && p99 <= limit
            Self.say(
                "  open loop at \(Int(rate))/s for \(self.peakStep) s: p99 \(p99) µs, \(failed) failed: "
                    + (holds ? "held" : "did not hold"))
            guard holds else { break }
            held = rate
            rate *= 1.15
        }
        Self.say(
            String(
                format: "peak: %.0f screenings/s through the gateway (open loop, p99 within %d ms)", held,
                self.peakLatency))
        // The step that did not hold may have left calls queued in the mesh.
        try? await Task.sleep(for: .seconds(self.peakStep))
        return held
    }

    /// Open loop: each call starts when it is due, however many are still in flight. A fixed set of callers
    /// (as for the closed-loop peak) queued behind slow calls near the peak and added its own wait. The driver
    /// wakes at most once a millisecond and starts every call due by then: a wake-up per call cost it twice
    /// the CPU per call it needs at the peak, on the cores the mesh shares. A call due while
    /// `maximumInFlight` still run is not started and is recorded as failed. Returns how many were not
    /// started, once every started call has ended.
    static func paced(
        rate: Double, count total: Int, from start: ContinuousClock.Instant, maximumInFlight: Int,
        on executors: [(any TaskExecutor)?], _ call: @escaping @Sendable (Int) async -> Bool,
        record: @escaping @Sendable (Int, ContinuousClock.Instant, Bool) -> Void
    ) async -> Int {
        var skipped = 0
        await withDiscardingTaskGroup { group in
            var index = 0
            var lastWake = ContinuousClock.now
            let inFlight = NIOLockedValueBox(0)
            while index < total {
                let due = max(start + .seconds(Double(index) / rate), lastWake + .milliseconds(1))
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                let now = ContinuousClock.now
                lastWake = now
                while index < total {
                    let callIndex = index
                    let callDue = start + .seconds(Double(callIndex) / rate)
                    guard callDue <= now else { break }
                    let started = inFlight.withLockedValue { count -> Bool in
                        guard count < maximumInFlight else { return false }
                        count += 1
                        return true
                    }
                    if started {
                        group.addTask(executorPreference: executors[callIndex % executors.count]) {
                            record(callIndex, callDue, await call(callIndex))
                            inFlight.withLockedValue { $0 -= 1 }
                        }
                    } else {
                        skipped += 1
                        record(callIndex, callDue, false)
                    }
                    index += 1
                }
            }
        }
        return skipped
    }

    /// CPU time of each process so far, by service and replica (the driver's own as `soak`).
    static func cpuTimes(_ instances: [MeshState.Instance]) -> [String: Duration] {
        var times: [String: Duration] = [:]
        for instance in instances {
            times["\(instance.service)-\(instance.replica)"] = ProcessControl.cpuTime(instance.pid)
        }
        times["soak"] = ProcessControl.cpuTime(getpid())
        return times
    }

    /// VmRSS of each process, in kilobytes, by service and replica.
    static func residentMemory(_ instances: [MeshState.Instance]) -> [String: Int] {
        var resident: [String: Int] = [:]
        for instance in instances {
            resident["\(instance.service)-\(instance.replica)"] = ProcessControl.memoryKilobytes(instance.pid, "VmRSS")
        }
        return resident
    }

    /// Screen requests for the sample enterprises, each with the party (its county) that may make it.
    static func requests(_ path: String) throws -> [(party: String, request: Jiaxing_Benefits_V1_ScreenRequest)] {
        let (asOf, profiles) = try DemoCommand.samples(path)
        return profiles.map { profile in
            var request = Jiaxing_Benefits_V1_ScreenRequest()
            request.profile = profile
            request.asOf = asOf.message
            return (County(message: profile.county)?.partyName ?? "operator", request)
        }
    }

    /// A line of the report written at once: `print` is block-buffered through a pipe (`scripts/soak.sh`
    /// tees it), which held twelve minutes of windows back until the end.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// How `mesh soak` measures the peak it soaks a fraction of.
enum PeakMethod: String, CaseIterable, ExpressibleByArgument {
    case closedLoop = "closed-loop"
    case openLoop = "open-loop"
}
