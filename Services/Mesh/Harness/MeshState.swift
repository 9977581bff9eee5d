import Foundation

/// What `mesh up` started, so `mesh status` and `mesh down` can find it.
public struct MeshState: Codable, Sendable {
    public struct Instance: Codable, Sendable {
        public var service: String
        public var replica: Int
        public var port: Int
        public var pid: Int32
        public var log: String
        public var metricsPort: Int?
        /// How it was started, so `mesh restart` and `mesh chaos` can start it again the same way.
        public var executable: String?
        public var arguments: [String]?

        public init(
            service: String, replica: Int, port: Int, pid: Int32, log: String, metricsPort: Int?, executable: String?,
            arguments: [String]?
        ) {
            self.service = service
            self.replica = replica
            self.port = port
            self.pid = pid
            self.log = log
            self.metricsPort = metricsPort
            self.executable = executable
            self.arguments = arguments
        }
    }

    public var certificates: String
    public var instances: [Instance]

    public init(certificates: String, instances: [Instance]) {
        self.certificates = certificates
        self.instances = instances
    }

    public static func path(_ directory: String) -> String { "\(directory)/mesh-state.json" }

    public static func load(directory: String) -> MeshState? {
        guard let data = FileManager.default.contents(atPath: self.path(directory)) else { return nil }
        return try? JSONDecoder().decode(MeshState.self, from: data)
    }

    public func save(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(directory)))
    }

    public static func remove(directory: String) {
        try? FileManager.default.removeItem(atPath: self.path(directory))
    }
}
