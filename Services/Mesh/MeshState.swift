import Foundation

/// What `mesh up` started, so `mesh status` and `mesh down` can find it.
struct MeshState: Codable {
    struct Instance: Codable {
        var service: String
        var replica: Int
        var port: Int
        var pid: Int32
        var log: String
        var metricsPort: Int?
        /// How it was started, so `mesh restart` and `mesh chaos` can start it again the same way.
        var executable: String?
        var arguments: [String]?
    }

    var certificates: String
    var instances: [Instance]

    static func path(_ directory: String) -> String { "\(directory)/mesh-state.json" }

    static func load(directory: String) -> MeshState? {
        guard let data = FileManager.default.contents(atPath: self.path(directory)) else { return nil }
        return try? JSONDecoder().decode(MeshState.self, from: data)
    }

    func save(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(directory)))
    }

    static func remove(directory: String) {
        try? FileManager.default.removeItem(atPath: self.path(directory))
    }
}

enum ProcessControl {
    static func isAlive(_ pid: Int32) -> Bool {
        // Reap it first if it is our own child that has exited, so a zombie does not count as alive.
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 else { return false }
        // Nor a zombie nobody reaps (a process `mesh up --detach` left behind, under an init that does not reap).
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
        }
        return true
    }

    /// A memory figure of /proc/PID/status in kilobytes (`VmRSS` now, `VmHWM` the peak), 0 when unknown.
    static func memoryKilobytes(_ pid: Int32, _ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("\(field):") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// SIGKILL, as a crash would, and wait for the process to be gone.
    static func crash(_ pid: Int32) async {
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(5)
        while self.isAlive(pid), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// SIGTERM, then wait up to `grace` for the process to exit, then SIGKILL. Returns true if it exited by itself.
    static func stop(_ pid: Int32, grace: Duration) async -> Bool {
        guard self.isAlive(pid) else { return true }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid || !self.isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return false
    }
}
