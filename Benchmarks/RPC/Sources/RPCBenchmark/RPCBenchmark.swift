import Foundation
import Histogram

/// The mesh protocol against grpc-swift-2 and a raw NIO TLS echo, in one process on loopback, all over mutual
/// TLS 1.3 with the same certificates. Prints a table, then one JSON line per row and contender.
///
///     RPCBenchmark [--seconds 5] [--warmup 1] [--stream-messages 100000] [--contenders mesh,grpc,raw]
///                  [--grpc-window equal|default] [--grpc-flush-coalescing on|off] [--rows "unary 1KiB,stream"]
@main
struct RPCBenchmark {
    struct Options {
        var seconds = 5.0
        var warmup = 1.0
        var streamMessages = 100_000
        var contenders = ["mesh", "grpc", "raw"]
        var grpcEqualWindows = true
        var grpcFlushCoalescing = true
        /// Only the rows whose name contains one of these (all rows when empty).
        var rowFilters: [String] = []

        static let usage = """
            usage: RPCBenchmark [--seconds S] [--warmup S] [--stream-messages N] [--contenders mesh,grpc,raw]
                                [--grpc-window equal|default] [--grpc-flush-coalescing on|off] [--rows R,R]
              --seconds S              how long each row is measured per contender (default 5)
              --warmup S               how long each row is run first, unmeasured (default 1)
              --stream-messages N      messages in one server-streaming call (default 100000)
              --grpc-window            equal: HTTP/2 windows of 1 MiB like the mesh's (default);
                                       default: gRPC's own (64 KiB - 1 server, 8 MiB client)
              --grpc-flush-coalescing  on: gRPC's default 100 µs flush coalescing (default); off: none
              --rows R,R               only the rows whose name contains one of these, e.g. "64KiB,stream"
            """

        static func parse(_ arguments: [String]) throws -> Options {
            var options = Options()
            var iterator = arguments.makeIterator()
            func value(_ name: String) throws -> String {
                guard let value = iterator.next() else { throw BenchmarkError("\(name) needs a value\n\(usage)") }
                return value
            }
            while let argument = iterator.next() {
                switch argument {
                case "--seconds":
                    guard let seconds = Double(try value(argument)), seconds > 0 else {
                        throw BenchmarkError("--seconds takes a positive number")
                    }
                    options.seconds = seconds
                case "--warmup":
                    guard let seconds = Double(try value(argument)), seconds >= 0 else {
                        throw BenchmarkError("--warmup takes a number ≥ 0")
                    }
                    options.warmup = seconds
                case "--stream-messages":
                    guard let count = Int(try value(argument)), count > 0 else {
                        throw BenchmarkError("--stream-messages takes a positive integer")
                    }
                    options.streamMessages = count
                case "--contenders":
                    let names = try value(argument).split(separator: ",").map(String.init)
                    guard !names.isEmpty, names.allSatisfy({ ["mesh", "grpc", "raw"].contains($0) }) else {
                        throw BenchmarkError("--contenders takes a comma-separated list of mesh, grpc, raw")
                    }
                    options.contenders = names
                case "--grpc-window":
                    switch try value(argument) {
                    case "equal": options.grpcEqualWindows = true
                    case "default": options.grpcEqualWindows = false
                    default: throw BenchmarkError("--grpc-window takes equal or default")
                    }
                case "--grpc-flush-coalescing":
                    switch try value(argument) {
                    case "on": options.grpcFlushCoalescing = true
                    case "off": options.grpcFlushCoalescing = false
                    default: throw BenchmarkError("--grpc-flush-coalescing takes on or off")
                    }
                case "--rows":
                    options.rowFilters = try value(argument).split(separator: ",").map(String.init)
                case "--help", "-h":
                    print(usage)
                    exit(0)
                default:
                    throw BenchmarkError("unknown argument \(argument)\n\(usage)")
                }
            }
            return options
        }
    }

    enum Workload {
        case unary(size: Int, concurrency: Int)
        case stream(size: Int)
    }

    struct Row {
        var name: String
        var workload: Workload
    }

    static let rows: [Row] = [
        Row(name: "unary 1KiB x1", workload: .unary(size: 1024, concurrency: 1)),
        Row(name: "unary 1KiB x64", workload: .unary(size: 1024, concurrency: 64)),
        Row(name: "unary 64KiB x1", workload: .unary(size: 64 * 1024, concurrency: 1)),
        Row(name: "unary 64KiB x64", workload: .unary(size: 64 * 1024, concurrency: 64)),
        Row(name: "stream 1KiB", workload: .stream(size: 1024)),
    ]

    static func log(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func main() async {
        do {
            try await self.run(options: try Options.parse(Array(CommandLine.arguments.dropFirst())))
        } catch {
            log("RPCBenchmark: \(error)")
            exit(1)
        }
    }

    static func run(options: Options) async throws {
        let limits = Limits()
        let credentials = try BenchmarkCredentials.make()
        var contenders: [any Contender] = []
        for name in options.contenders {
            switch name {
            case "mesh":
                contenders.append(try await MeshContender.start(credentials: credentials, limits: limits))
            case "grpc":
                contenders.append(
                    try await GRPCContender.start(
                        credentials: credentials, limits: limits,
                        equalWindows: options.grpcEqualWindows, flushCoalescing: options.grpcFlushCoalescing
                    ))
            default:
                contenders.append(try await RawContender.start(credentials: credentials, limits: limits))
            }
        }

        print(
            "RPC benchmark: loopback, one connection per contender, \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        print(
            "limits for all: messages up to \(limits.maxMessageBytes / 1024 / 1024) MiB, \(limits.maxConcurrentStreams) concurrent streams; "
                + "stream window: mesh \(limits.windowBytes / 1024) KiB, grpc "
                + (options.grpcEqualWindows
                    ? "\(limits.windowBytes / 1024) KiB (both sides)"
                    : "its defaults (64 KiB - 1 server, 8 MiB client)")
                + "; grpc flush coalescing \(options.grpcFlushCoalescing ? "on (its default, ≤ 100 µs)" : "off")")
        print(
            "measure \(Report.number(options.seconds)) s per row and contender after \(Report.number(options.warmup)) s of warm-up; "
                + "streams of \(options.streamMessages) messages; latencies in µs (stream rows: the gap between consecutive messages)"
        )
        for contender in contenders {
            print("  \(contender.name): \(try await contender.security())")
        }
        print("")

        let rows =
            options.rowFilters.isEmpty
            ? self.rows : self.rows.filter { row in options.rowFilters.contains { row.name.contains($0) } }
        guard !rows.isEmpty else {
            throw BenchmarkError("--rows matches none of: \(self.rows.map(\.name).joined(separator: ", "))")
        }
        var measurements: [Measurement] = []
        for row in rows {
            for contender in contenders {
                log("\(row.name) / \(contender.name) …")
                do {
                    let result: RunResult
                    switch row.workload {
                    case .unary(let size, let concurrency):
                        let call = contender.unaryCall(size: size)
                        if options.warmup > 0 {
                            _ = try await Runner.unary(call, concurrency: concurrency, seconds: options.warmup)
                        }
                        result = try await Runner.unary(call, concurrency: concurrency, seconds: options.seconds)
                    case .stream(let size):
                        if options.warmup > 0 {
                            let warmup = contender.streamCall(count: max(1, options.streamMessages / 10), size: size)
                            _ = try await Runner.stream(warmup, seconds: options.warmup)
                        }
                        result = try await Runner.stream(
                            contender.streamCall(count: options.streamMessages, size: size), seconds: options.seconds)
                    }
                    let measurement = Measurement(row: row.name, contender: contender.name, result: result)
                    log(
                        "  \(Report.number(measurement.rate, decimals: 0))/s  p50 \(Report.number(measurement.p50)) µs  p99 \(Report.number(measurement.p99)) µs  (\(measurement.count))"
                    )
                    measurements.append(measurement)
                } catch {
                    log("  failed: \(error)")
                    measurements.append(Measurement(row: row.name, contender: contender.name, failure: "\(error)"))
                }
            }
        }

        print(Report.table(measurements, rows: rows.map(\.name)))
        print("")
        print("CPU µs: CPU time of the whole process (client and server together) per call (stream rows: per message).")
        print("mesh/grpc and mesh/raw: ratios of calls/s (stream rows: messages/s); above 1 the mesh is faster.")
        print("")
        for measurement in measurements { print(Report.json(measurement)) }

        for contender in contenders { await contender.shutdown() }
    }
}
