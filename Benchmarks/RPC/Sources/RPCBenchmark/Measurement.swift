import Dispatch
import Foundation
import Histogram

/// Monotonic nanoseconds.
@inline(__always)
func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// CPU time this process has used so far (all threads: clients, servers and the measuring), in nanoseconds.
func processCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// What one measurement produced.
struct RunResult: Sendable {
    /// Calls (or streamed messages) per second.
    var rate: Double
    var histogram: Histogram<UInt64>
    var count: Int
    /// Process CPU time (client and server together) per call or message, in µs.
    var cpuPerCall: Double
}

/// Latencies in nanoseconds, 1 ns to 60 s, three significant digits.
func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// What one server-streaming call saw: how many messages, and the gaps between consecutive arrivals (the
/// first gap is from the start of the call to the first message).
struct StreamResult: Sendable {
    var messages: Int
    var gaps: Histogram<UInt64>
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One RPC stack under test: a server and one client connection to it, both in this process.
protocol Contender: Sendable {
    var name: String { get }
    /// One call, checking that mutual TLS took place (what the server saw of the client, the TLS version).
    func security() async throws -> String
    /// A unary echo of `size` payload bytes, ready to call again and again.
    func unaryCall(size: Int) -> @Sendable () async throws -> Void
    /// A server-streaming call of `count` messages of `size` payload bytes each, ready to call again and again.
    func streamCall(count: Int, size: Int) -> @Sendable () async throws -> StreamResult
    func shutdown() async
}

struct Measurement: Sendable {
    var row: String
    var contender: String
    /// Calls per second (unary) or messages per second (streaming).
    var rate: Double
    var p50: Double
    var p99: Double
    var p999: Double
    var count: Int
    var cpuPerCall: Double
    var failure: String?

    init(row: String, contender: String, result: RunResult) {
        self.row = row
        self.contender = contender
        self.rate = result.rate
        self.p50 = Double(result.histogram.valueAtPercentile(50.0)) / 1000
        self.p99 = Double(result.histogram.valueAtPercentile(99.0)) / 1000
        self.p999 = Double(result.histogram.valueAtPercentile(99.9)) / 1000
        self.count = result.count
        self.cpuPerCall = result.cpuPerCall
    }

    init(row: String, contender: String, failure: String) {
        self.row = row
        self.contender = contender
        self.rate = 0
        self.p50 = 0
        self.p99 = 0
        self.p999 = 0
        self.count = 0
        self.cpuPerCall = 0
        self.failure = failure
    }
}

enum Runner {
    /// `concurrency` callers on the one connection, each calling back to back until `seconds` have passed;
    /// every call's latency recorded.
    static func unary(
        _ call: @escaping @Sendable () async throws -> Void, concurrency: Int, seconds: Double
    ) async throws -> RunResult {
        let cpuBefore = processCPUNanoseconds()
        let start = nowNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        let (histogram, count) = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var histogram = makeHistogram()
                    var count = 0
                    var before = nowNanoseconds()
                    while before < deadline {
                        try await call()
                        let after = nowNanoseconds()
                        histogram.record(after - before)
                        count += 1
                        before = after
                    }
                    return (histogram, count)
                }
            }
            var total = makeHistogram()
            var count = 0
            for try await (histogram, calls) in group {
                total.add(histogram)
                count += calls
            }
            return (total, count)
        }
        let elapsed = Double(nowNanoseconds() - start) / 1e9
        let cpu = Double(processCPUNanoseconds() - cpuBefore) / 1000
        return RunResult(
            rate: Double(count) / elapsed, histogram: histogram, count: count, cpuPerCall: cpu / Double(max(count, 1)))
    }

    /// Server-streaming calls one after the other until `seconds` have passed (at least one); messages per
    /// second over all of them, and the gaps between messages.
    static func stream(
        _ call: @escaping @Sendable () async throws -> StreamResult, seconds: Double
    ) async throws -> RunResult {
        let cpuBefore = processCPUNanoseconds()
        let start = nowNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        var total = makeHistogram()
        var messages = 0
        repeat {
            let result = try await call()
            total.add(result.gaps)
            messages += result.messages
        } while nowNanoseconds() < deadline
        let elapsed = Double(nowNanoseconds() - start) / 1e9
        let cpu = Double(processCPUNanoseconds() - cpuBefore) / 1000
        return RunResult(
            rate: Double(messages) / elapsed, histogram: total, count: messages,
            cpuPerCall: cpu / Double(max(messages, 1)))
    }
}

// MARK: - Output

enum Report {
    static func number(_ value: Double, decimals: Int = 1) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + text : text + padding
    }

    static func table(_ measurements: [Measurement], rows: [String]) -> String {
        var lines: [String] = []
        let header =
            pad("row", 20) + pad("contender", 10) + pad("calls/s", 12, right: true) + pad("p50 µs", 11, right: true)
            + pad("p99 µs", 11, right: true) + pad("p99.9 µs", 11, right: true) + pad("CPU µs", 9, right: true)
            + pad("mesh/grpc", 11, right: true) + pad("mesh/raw", 10, right: true)
        lines.append(header)
        lines.append(String(repeating: "-", count: header.count))
        for row in rows {
            let ofRow = measurements.filter { $0.row == row }
            let mesh = ofRow.first { $0.contender == "mesh" && $0.failure == nil }
            let grpc = ofRow.first { $0.contender == "grpc" && $0.failure == nil }
            let raw = ofRow.first { $0.contender == "raw" && $0.failure == nil }
            for (index, measurement) in ofRow.enumerated() {
                var line = pad(index == 0 ? row : "", 20) + pad(measurement.contender, 10)
                if let failure = measurement.failure {
                    line += "  FAILED: \(failure)"
                } else {
                    line +=
                        pad(number(measurement.rate, decimals: 0), 12, right: true)
                        + pad(number(measurement.p50), 11, right: true)
                        + pad(number(measurement.p99), 11, right: true)
                        + pad(number(measurement.p999), 11, right: true)
                        + pad(number(measurement.cpuPerCall), 9, right: true)
                }
                if index == 0, let mesh {
                    let versusGRPC = grpc.map { number(mesh.rate / $0.rate, decimals: 2) + "x" } ?? "-"
                    let versusRaw = raw.map { number(mesh.rate / $0.rate, decimals: 2) + "x" } ?? "-"
                    line += pad(versusGRPC, 11, right: true) + pad(versusRaw, 10, right: true)
                }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ measurement: Measurement) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var fields = [
            "\"row\":\(quoted(measurement.row))",
            "\"contender\":\(quoted(measurement.contender))",
            "\"callsPerSecond\":\(number(measurement.rate))",
            "\"p50us\":\(number(measurement.p50))",
            "\"p99us\":\(number(measurement.p99))",
            "\"p999us\":\(number(measurement.p999))",
            "\"cpuUsPerCall\":\(number(measurement.cpuPerCall))",
        ]
        if let failure = measurement.failure { fields.append("\"error\":\(quoted(failure))") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
