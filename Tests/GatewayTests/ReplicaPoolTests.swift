import GatewayService
import MeshMessages
import MeshRPC
import MeshTestSupport
import MeshWire
import NIOConcurrencyHelpers
import Testing

/// A pool given a service by name follows what the name resolves to, as Compose's DNS answers with every
/// container of a scaled service.
@Suite("Replica pool") struct ReplicaPoolTests {
    /// Answers what the test last set, or fails like a resolver that cannot reach its server.
    final class ScriptedResolver: HostResolver {
        let answer = NIOLockedValueBox<[String]?>(nil)

        func addresses(of host: String) async throws -> [String] {
            guard let answer = self.answer.withLockedValue({ $0 }) else {
                throw HostResolutionError(host: host, reason: "the test's resolver is down")
            }
            return answer
        }
    }

    /// The server names that answered `calls` health checks through the pool, one call at a time.
    func served(_ pool: ReplicaPool, calls: Int) async throws -> [String: Int] {
        var served: [String: Int] = [:]
        for _ in 0..<calls {
            let response: Mesh_Rpc_V1_HealthCheckResponse = try await pool.call(idempotent: true) { client in
                try await client.unary(HealthMethods.check, Mesh_Rpc_V1_HealthCheckRequest())
            }
            served[response.server, default: 0] += 1
        }
        return served
    }

    @Test("replicas that appear under the name are used, those gone are retired, a failed resolution keeps them")
    func followsTheName() async throws {
        let first = try await TestMesh.RunningServer(router: RPCRouter(), name: "first")
        let port = try await first.port()
        // The same port on another loopback address: a second container behind the same name.
        let second = try await TestMesh.RunningServer(
            router: RPCRouter(), name: "second", host: "127.0.0.2", port: port)
        let resolver = ScriptedResolver()
        resolver.answer.withLockedValue { $0 = ["127.0.0.1"] }
        let pool = ReplicaPool(
            service: "catalog", endpoints: [("replicas.test", port)], tls: TestMesh.serviceCredentials("gateway"),
            resolver: resolver, logger: TestMesh.logger)
        #expect(pool.resolves)

        var change = await pool.refresh()
        #expect(change.admitted.map(\.description) == ["127.0.0.1:\(port)"])
        #expect(change.retired.map(\.description) == ["replicas.test:\(port)"])
        #expect(try await self.served(pool, calls: 4) == ["first": 4])

        resolver.answer.withLockedValue { $0 = ["127.0.0.1", "127.0.0.2"] }
        change = await pool.refresh()
        #expect(change.admitted.map(\.description) == ["127.0.0.2:\(port)"])
        #expect(change.retired.isEmpty)
        // One call at a time, ties taken in turn: both replicas serve.
        #expect(try await self.served(pool, calls: 10) == ["first": 5, "second": 5])

        resolver.answer.withLockedValue { $0 = nil }
        change = await pool.refresh()
        #expect(change.admitted.isEmpty && change.retired.isEmpty)
        #expect(pool.count == 2)

        resolver.answer.withLockedValue { $0 = ["127.0.0.2"] }
        change = await pool.refresh()
        #expect(change.retired.map(\.description) == ["127.0.0.1:\(port)"])
        #expect(try await self.served(pool, calls: 4) == ["second": 4])

        await pool.close()
        await first.stop()
        await second.stop()
    }

    @Test("a pool of addresses resolves nothing and keeps its replicas")
    func addressesStay() async throws {
        let resolver = ScriptedResolver()
        let pool = ReplicaPool(
            service: "catalog", endpoints: [("127.0.0.1", 7), ("::1", 7)], tls: TestMesh.serviceCredentials("gateway"),
            resolver: resolver, logger: TestMesh.logger)
        #expect(!pool.resolves)
        let change = await pool.refresh()
        #expect(change.admitted.isEmpty && change.retired.isEmpty)
        #expect(pool.replicaEndpoints.map(\.description) == ["127.0.0.1:7", "[::1]:7"])
        await pool.close()
    }

    @Test("the system resolver answers a name of /etc/hosts")
    func systemResolver() async throws {
        let addresses = try await SystemHostResolver().addresses(of: "localhost")
        #expect(addresses.contains("127.0.0.1") || addresses.contains("::1"))
    }

    @Test("--resolve-seconds outside 1 to 3600 is refused, naming the flag and the bounds")
    func resolveInterval() throws {
        #expect(try ReplicaResolution.interval(seconds: 2) == .seconds(2))
        for seconds in [0, -1, 3601] {
            let error = #expect(throws: ReplicaResolutionError.self) {
                try ReplicaResolution.interval(seconds: seconds)
            }
            #expect(error?.description == "--resolve-seconds: 1 to 3600, got \(seconds)")
        }
    }
}
