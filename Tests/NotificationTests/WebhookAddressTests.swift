import Foundation
import MeshTestSupport
import NIOCore
import NotificationCore
import SQLStore
import Testing

/// Webhooks go to public addresses only, unless the operator allows a host: no cloud metadata service, no
/// mesh port on loopback, no private network behind the service.
@Suite("Webhook addresses")
struct WebhookAddressTests {
    @Test("non-public addresses are named by kind; public ones pass; an allowed host or address passes")
    func classification() throws {
        let policy = WebhookAddressPolicy()
        func kind(_ ip: String) throws -> String? {
            policy.refusal(host: ip, address: try SocketAddress(ipAddress: ip, port: 443))
        }
        #expect(try kind("169.254.169.254")?.contains("link-local") == true)
        #expect(try kind("127.0.0.1")?.contains("loopback") == true)
        #expect(try kind("10.1.2.3")?.contains("private") == true)
        #expect(try kind("172.20.0.1")?.contains("private") == true)
        #expect(try kind("192.168.1.1")?.contains("private") == true)
        #expect(try kind("100.64.0.1")?.contains("shared") == true)
        #expect(try kind("0.0.0.0")?.contains("unspecified") == true)
        #expect(try kind("224.0.0.1")?.contains("multicast") == true)
        #expect(try kind("::1")?.contains("loopback") == true)
        #expect(try kind("fe80::1")?.contains("link-local") == true)
        #expect(try kind("fd00::1")?.contains("private") == true)
        #expect(try kind("::ffff:127.0.0.1")?.contains("loopback") == true)
        #expect(try kind("172.32.0.1") == nil)
        #expect(try kind("8.8.8.8") == nil)
        #expect(try kind("2001:4860:4860::8888") == nil)
        let allowed = WebhookAddressPolicy(allowedHosts: ["127.0.0.1", "intranet.jiashan.example"])
        #expect(allowed.refusal(host: "127.0.0.1", address: try SocketAddress(ipAddress: "127.0.0.1", port: 1)) == nil)
        #expect(
            allowed.refusal(
                host: "intranet.jiashan.example", address: try SocketAddress(ipAddress: "10.0.0.9", port: 1))
                == nil)
    }

    @Test("registration refuses the metadata service, loopback by address or by name, a private address")
    func registration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let center = Notifier(
            database: try SQLiteDatabase(path: path), templates: NotificationTests.templates,
            webhooks: try WebhookClient())
        try await center.migrate()
        for url in [
            "https://169.254.169.254/latest/meta-data", "https://127.0.0.1:8443/console", "https://localhost:7443/v1",
            "https://10.0.0.5/hook",
        ] {
            let refused = await #expect(throws: NotificationError.self) {
                try await center.registerWebhook(county: "nanhu", url: url, secrets: WebhookSignature.makeSecret())
            }
            #expect(refused?.field == "url", "\(url)")
            #expect(refused?.message.contains("--webhook-allow-host") == true, "\(url): \(refused?.message ?? "")")
        }
        try await center.registerWebhook(
            county: "nanhu", url: "https://8.8.8.8/hook", secrets: WebhookSignature.makeSecret())
    }

    @Test("delivery checks the address it connects to: a loopback receiver is never reached unless allowed")
    func delivery() async throws {
        let receiver = try NotificationTests.makeReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let endpoint = try #require(WebhookClient.Endpoint("https://localhost:\(receiver.port)/hook"))
        let strict = try WebhookClient(additionalTrustRootsPEM: TestMesh.authority.certificatePEM)
        let refused = await #expect(throws: WebhookClient.Failure.self) {
            _ = try await strict.post(endpoint, headers: [], body: Array("{}".utf8), timeout: .seconds(10))
        }
        #expect(refused?.description.contains("loopback") == true, "\(refused?.description ?? "")")
        #expect(receiver.requests.isEmpty)
        await strict.shutdown()
        let status = try await NotificationTests.webhooks.post(
            try #require(WebhookClient.Endpoint("https://127.0.0.1:\(receiver.port)/hook")), headers: [],
            body: Array("{}".utf8), timeout: .seconds(10))
        #expect(status == 200)
        #expect(receiver.requests.count == 1)
    }

    @Test("webhooks to one endpoint share a kept connection; a receiver stopped and started again is reached anew")
    func keptConnections() async throws {
        let receiver = try NotificationTests.makeReceiver()
        try await receiver.start()
        let client = try WebhookClient(
            additionalTrustRootsPEM: TestMesh.authority.certificatePEM, addresses: .init(allowedHosts: ["127.0.0.1"]))
        let endpoint = try #require(WebhookClient.Endpoint("https://127.0.0.1:\(receiver.port)/hook"))
        for index in 0..<20 {
            let status = try await client.post(
                endpoint, headers: [("webhook-id", "n\(index)")], body: Array("{}".utf8), timeout: .seconds(10))
            #expect(status == 200)
        }
        #expect(receiver.requests.count == 20)
        #expect(receiver.connectionsAccepted == 1, "20 webhooks, \(receiver.connectionsAccepted) connections")
        // Stopped: the kept connection is closed with it, and nothing is delivered.
        await receiver.stop()
        await #expect(throws: WebhookClient.Failure.self) {
            _ = try await client.post(endpoint, headers: [], body: Array("{}".utf8), timeout: .seconds(5))
        }
        try await receiver.start(port: receiver.port)
        let again = try await client.post(endpoint, headers: [], body: Array("{}".utf8), timeout: .seconds(10))
        #expect(again == 200 && receiver.requests.count == 21)
        await receiver.stop()
        await client.shutdown()
    }

    /// Compose's notification containers post to the counties' endpoints by name (`mesh-cli`, mapped to the
    /// host): the name is resolved and checked once, connected to at that address, the certificate checked
    /// against the name.
    @Test("a receiver named by an allowed host name is reached, its certificate checked against the name")
    func allowedName() async throws {
        let receiver = try NotificationTests.makeReceiver()
        try await receiver.start()
        let client = try WebhookClient(
            additionalTrustRootsPEM: TestMesh.authority.certificatePEM, addresses: .init(allowedHosts: ["localhost"]))
        for host in ["localhost", "LocalHost"] {
            let endpoint = try #require(WebhookClient.Endpoint("https://\(host):\(receiver.port)/hook"))
            do {
                let status = try await client.post(
                    endpoint, headers: [], body: Array("{}".utf8), timeout: .seconds(10))
                #expect(status == 200, "\(host)")
            } catch {
                Issue.record("\(host): \(error)")
            }
        }
        #expect(receiver.requests.count == 2)
        await receiver.stop()
        await client.shutdown()
    }
}
