import Foundation
import Logging
import MeshHarness
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers

/// A service executable of this package run as its own process, for tests that kill and restart services.
public final class MeshProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    let arguments: [String]
    let log: String
    /// Set for the process besides the test's own environment; where it names `MESH_PORT`, no `--port` flag
    /// is given.
    let environment: [String: String]
    private var process: Process?

    public init(name: String, port: Int, arguments: [String], log: String, environment: [String: String] = [:]) {
        self.name = name
        self.port = port
        self.arguments = arguments
        self.log = log
        self.environment = environment
    }

    /// The built executables, next to the test bundle's build folder.
    public static var binDirectory: String { "\(TestMesh.repositoryRoot)/.build/debug" }

    /// A port nobody listens on right now, below the kernel's ephemeral range (32768 and up here): servers
    /// the tests start in-process bind port 0 and get ephemeral ports, so none of them can take over a port
    /// that a test process leaves free for a moment while it is killed and restarted. Nor can another test of
    /// this run: a port (and the one after it, for a second replica) is handed out once. Without that, two
    /// tests setting up at once could both find a port free, and the second to bind it failed, or took it
    /// while the first test's process was killed and restarting.
    public static func freePort() -> Int {
        for _ in 0..<1_000 {
            let port = Int.random(in: 20_000..<32_000)
            guard Self.isFree(port) && Self.isFree(port + 1) else { continue }
            let taken = Self.handedOut.withLockedValue { handedOut -> Bool in
                guard handedOut.isDisjoint(with: [port, port + 1]) else { return true }
                handedOut.formUnion([port, port + 1])
                return false
            }
            if !taken { return port }
        }
        return 0
    }

    /// Ports `freePort` has handed out in this process.
    private static let handedOut = NIOLockedValueBox(Set<Int>())

    /// Whether a listener could bind `port` on loopback now.
    public static func isFree(_ port: Int) -> Bool {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    public func start() throws {
        let executable = "\(Self.binDirectory)/\(self.name)"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw MeshProcessError(message: "no executable at \(executable): run `swift build` before the tests")
        }
        if !FileManager.default.fileExists(atPath: self.log) {
            FileManager.default.createFile(atPath: self.log, contents: nil)
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: self.log))
        output.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = (self.environment["MESH_PORT"] == nil ? ["--port", "\(self.port)"] : []) + self.arguments
        process.environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.currentDirectoryURL = URL(fileURLWithPath: TestMesh.repositoryRoot)
        try process.run()
        self.process = process
    }

    /// SIGKILL: no drain, no goodbye.
    public func kill() {
        guard let process = self.process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM, and wait for the exit status.
    @discardableResult
    public func stop() -> Int32 {
        guard let process = self.process else { return 0 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    /// Waits until the process answers its health check with SERVING (`HealthProbe`, as `mesh up` waits).
    public func waitUntilServing(tls: MeshTLSConfiguration, within: Duration = .seconds(30)) async throws {
        if case .failure(let error) = await HealthProbe.waitUntilServing(port: self.port, tls: tls, within: within) {
            throw MeshProcessError(
                message:
                    "\(self.name) on port \(self.port) did not become healthy within \(within) (\(error)); log: \((try? String(contentsOfFile: self.log, encoding: .utf8))?.suffix(2000) ?? "")"
            )
        }
    }
}

public struct MeshProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}

/// A certificate directory like `mesh certs` makes, in a temporary folder.
public struct TemporaryMeshFolder: Sendable {
    public let path: String

    public init(parties: [(name: String, role: PartyRole)]) throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-\(UUID().uuidString)").path
        try CertificateDirectory(path: "\(self.path)/certs").ensure(parties: parties)
    }

    public var certificates: String { "\(self.path)/certs" }

    public func tls(_ name: String, serverHostname: String) throws -> MeshTLSConfiguration {
        func read(_ file: String) throws -> String {
            try String(contentsOfFile: "\(self.certificates)/\(file)", encoding: .utf8)
        }
        return MeshTLSConfiguration(
            certificateChainPEM: try read("\(name).pem"), privateKeyPEM: try read("\(name)-key.pem"),
            trustRootsPEM: try read("ca.pem"), serverHostname: serverHostname)
    }

    /// A signer with `name`'s certificate and key from this folder (eligibility's, to seal decisions).
    public func signer(_ name: String = "eligibility") throws -> StatementSigner {
        let credentials = try self.tls(name, serverHostname: name)
        return try StatementSigner(
            certificatePEM: credentials.certificateChainPEM, privateKeyPEM: credentials.privateKeyPEM)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: self.path) }
}
