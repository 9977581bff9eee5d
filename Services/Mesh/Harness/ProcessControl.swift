import Foundation

/// The processes of a mesh on this machine: started with their output in a log, asked whether they live,
/// stopped gracefully or killed as a crash would.
public enum ProcessControl {
    public static func isAlive(_ pid: Int32) -> Bool {
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

    /// CPU time the process has used, user and system (fields 14 and 15 of `/proc/PID/stat`, after the
    /// command's closing parenthesis, which may hold spaces); nil when the process is gone.
    public static func cpuTime(_ pid: Int32) -> Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields from the third (state) on; field n is at index n - 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return .milliseconds((user + system) * 1000 / ticks)
    }

    /// A memory figure of /proc/PID/status in kilobytes (`VmRSS` now, `VmHWM` the peak), 0 when unknown.
    public static func memoryKilobytes(_ pid: Int32, _ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("\(field):") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// SIGKILL, as a crash would, and wait for the process to be gone.
    public static func crash(_ pid: Int32) async {
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(5)
        while self.isAlive(pid), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// SIGTERM, then wait up to `grace` for the process to exit, then SIGKILL. Returns true if it exited by itself.
    public static func stop(_ pid: Int32, grace: Duration) async -> Bool {
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

    /// Starts `executable` with its output (standard output and error) in `log`, appended to when `append`
    /// (as a restart does), its input empty; returns its process id.
    public static func spawn(executable: String, arguments: [String], log: String, append: Bool = false) throws
        -> Int32
    {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("no executable at \(executable): run `swift build` first, or pass --bin-directory")
        }
        if !append || !FileManager.default.fileExists(atPath: log) {
            FileManager.default.createFile(atPath: log, contents: nil)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        if append { output.seekToEndOfFile() }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process.processIdentifier
    }
}
