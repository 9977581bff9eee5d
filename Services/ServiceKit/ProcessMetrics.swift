import Foundation
import NIOConcurrencyHelpers
import Prometheus

#if canImport(Glibc)
    import Glibc
#endif

/// The process's own figures, under the names Prometheus' client libraries give them, read from `/proc` at
/// each scrape: resident and virtual memory, CPU seconds (user and system), open file descriptors and their
/// limit, and the start time. An operator sees a replica's memory climb or its descriptors run out without
/// a tool of their own on the machine.
final class ProcessMetrics: Sendable {
    private let resident: Gauge
    private let virtual: Gauge
    private let openDescriptors: Gauge
    private let maximumDescriptors: Gauge
    private let start: Gauge
    private let cpu: Counter
    /// CPU seconds already counted: the counter only goes up, by what was used since the last scrape.
    private let countedCPU = NIOLockedValueBox(0.0)

    /// The figures registered in `registry`, made once per registry: the CPU counter counts each second once.
    static func of(_ registry: PrometheusCollectorRegistry) -> ProcessMetrics {
        Self.made.withLockedValue { made in
            if let metrics = made[ObjectIdentifier(registry)] { return metrics }
            let metrics = ProcessMetrics(registry: registry)
            made[ObjectIdentifier(registry)] = metrics
            return metrics
        }
    }

    private static let made = NIOLockedValueBox([ObjectIdentifier: ProcessMetrics]())

    private init(registry: PrometheusCollectorRegistry) {
        self.resident = registry.makeGauge(
            name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
        self.virtual = registry.makeGauge(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        self.openDescriptors = registry.makeGauge(name: "process_open_fds", help: "Open file descriptors.")
        self.maximumDescriptors = registry.makeGauge(
            name: "process_max_fds", help: "The limit on open file descriptors.")
        self.start = registry.makeGauge(
            name: "process_start_time_seconds", help: "Start time of the process since the epoch, in seconds.")
        self.cpu = registry.makeCounter(
            name: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds.")
    }

    /// Reads `/proc/self` now and sets the figures; where it cannot be read (not Linux) they stay as they were.
    func update() {
        guard let sample = Self.sample() else { return }
        self.resident.set(sample.residentBytes)
        self.virtual.set(sample.virtualBytes)
        self.start.set(sample.startSeconds)
        self.openDescriptors.set(Double(sample.openDescriptors))
        self.maximumDescriptors.set(sample.maximumDescriptors)
        let increase = self.countedCPU.withLockedValue { counted -> Double in
            let increase = max(0, sample.cpuSeconds - counted)
            counted += increase
            return increase
        }
        if increase > 0 { self.cpu.increment(by: increase) }
    }

    struct Sample {
        var residentBytes: Double
        var virtualBytes: Double
        var cpuSeconds: Double
        var startSeconds: Double
        var openDescriptors: Int
        var maximumDescriptors: Double
    }

    /// `/proc/self/stat` (after the command's closing parenthesis, which may hold spaces): utime and stime
    /// (fields 14 and 15, in clock ticks), starttime (22, ticks after boot), vsize (23, bytes) and rss (24,
    /// pages); the boot time from `/proc/stat`; the descriptors listed in `/proc/self/fd`.
    static func sample() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields from the third (state) on; field n is at index n - 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let started = Double(fields[19]), let vsize = Double(fields[20]), let rss = Double(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let boot =
            (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) } ?? 0
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var limit = rlimit()
        let maximum = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : 0
        return Sample(
            residentBytes: rss * page, virtualBytes: vsize, cpuSeconds: (utime + stime) / ticks,
            startSeconds: boot + started / ticks, openDescriptors: descriptors, maximumDescriptors: maximum)
    }
}
