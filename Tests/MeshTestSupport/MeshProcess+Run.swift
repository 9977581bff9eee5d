import Foundation

extension MeshProcess {
    /// Runs an executable of this package to completion in the repository's folder and returns its exit
    /// status and everything it printed. The wait is on a thread of its own: blocking one of the two
    /// cooperative threads for the many seconds `mesh up` takes starved every other test of the run (their
    /// processes' health checks timed out).
    public static func runToCompletion(
        _ name: String, _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        try await Self.onOwnThread { Result { try Self.runBlocking(name, arguments, environment: environment) } }.get()
    }

    /// Runs blocking work (a child process waited for, a tool run to completion) on a thread of its own and
    /// suspends until it is done: a test that blocks one of the two cooperative threads stalls every other
    /// test of the run, while their deadlines, kept on the event loops, run on.
    public static func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    static func runBlocking(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (
        status: Int32, output: String
    ) {
        let executable = "\(Self.binDirectory)/\(name)"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw MeshProcessError(message: "no executable at \(executable): run `swift build` before the tests")
        }
        // env -C: run in the repository's folder (posix_spawn_file_actions_addchdir_np is not imported).
        let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try Self.spawnAndWait(
            "/usr/bin/env", ["-C", TestMesh.repositoryRoot] + variables + [executable] + arguments)
    }

    /// Runs a program to completion with posix_spawn and waitpid, its output in a file; returns the exit status
    /// (128 + the signal if one ended it) and the output. Not Foundation's Process and a pipe: a program that
    /// leaves children behind (`mesh up --detach`, `pg_ctl start`) would hold the pipe open for ever. Nothing
    /// but the three standard descriptors is inherited: PostgreSQL started by `pg_ctl` kept every socket the
    /// test process had open at that moment, so a connection a server closed stayed open to its peer for as
    /// long as PostgreSQL ran (a handshake-deadline test then waited 60 s for a close that had happened).
    static func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "mesh-run-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw MeshProcessError(
                message: "cannot start \(executable): posix_spawn_file_actions_addclosefrom_np failed")
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw MeshProcessError(message: "cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not
    /// import.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 =
        {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
                fatalError("glibc 2.34 or later is needed: posix_spawn_file_actions_addclosefrom_np is missing")
            }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()
}
