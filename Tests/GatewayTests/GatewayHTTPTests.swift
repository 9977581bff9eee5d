import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayHTTP
import GatewayService
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceKit
import ServiceLifecycle
import Testing

/// The HTTP/JSON face in front of the gateway (and real services behind it), driven by `curl --http2` with
/// client certificates, as a county system would.
@Suite("Gateway HTTP face")
struct GatewayHTTPTests {
    struct Face {
        let port: Int
        let folder: String
        let mesh: GatewayTests.Mesh

        /// Runs curl with `party`'s certificate (or none); returns the HTTP status (0 when no response) and body.
        /// Waits without blocking a thread: the server under test needs the same few threads to answer.
        func curl(_ party: String?, _ arguments: [String], http2: Bool = true) async throws -> (
            status: Int, body: String
        ) {
            let id = UUID().uuidString
            let bodyPath = "\(self.folder)/body-\(id)"
            let statusPath = "\(self.folder)/status-\(id)"
            var all = [
                "-s", "-o", bodyPath, "-w", "%{http_code} %{http_version}", "--max-time", "30", "--cacert",
                "\(self.folder)/ca.pem",
            ]
            all.append(http2 ? "--http2" : "--http1.1")
            if let party {
                all += ["--cert", "\(self.folder)/\(party).pem", "--key", "\(self.folder)/\(party)-key.pem"]
            }
            FileManager.default.createFile(atPath: statusPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = all + arguments
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: statusPath))
            process.standardError = FileHandle.nullDevice
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                process.terminationHandler = { _ in done.resume() }
                do { try process.run() } catch { done.resume() }
            }
            let written = (try? String(contentsOfFile: statusPath, encoding: .utf8)) ?? ""
            let body = (try? String(contentsOfFile: bodyPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: bodyPath)
            try? FileManager.default.removeItem(atPath: statusPath)
            return (Int(written.split(separator: " ").first ?? "") ?? 0, body)
        }
    }

    static func withFace(limits: ConnectionLimits = .init(), _ body: (Face) async throws -> Void) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is not installed (Debian: apt-get install curl; .ci/run installs it)")
            return
        }
        try await GatewayTests.withMesh { mesh in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try TestMesh.authority.certificatePEM.write(toFile: "\(folder)/ca.pem", atomically: true, encoding: .utf8)
            for (name, role) in [
                ("nanhu", PartyRole.county), ("haining", .county), ("jingxin", .department), ("keji", .department),
            ] {
                let issued = try TestMesh.authority.issue(commonName: name, role: role)
                try issued.certificatePEM.write(toFile: "\(folder)/\(name).pem", atomically: true, encoding: .utf8)
                try issued.privateKeyPEM.write(toFile: "\(folder)/\(name)-key.pem", atomically: true, encoding: .utf8)
            }
            let serverTLS = TestMesh.credentials.server
            let own = TestMesh.client(port: mesh.gatewayPort, tls: TestMesh.serviceCredentials("gateway"))
            let listening = AsyncStream<Int>.makeStream()
            let application = try GatewayHTTP.application(
                host: "127.0.0.1", port: 0, tls: serverTLS, gateway: own, logger: TestMesh.logger, limits: limits
            ) { port in
                listening.continuation.yield(port)
            }
            let group = ServiceGroup(
                services: [application], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
            let running = Task { try await group.run() }
            var ports = listening.stream.makeAsyncIterator()
            let port = try #require(await ports.next())
            do {
                try await body(Face(port: port, folder: folder, mesh: mesh))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await own.close()
        }
    }

    static let screen =
        #"{"asOf":{"year":2023,"month":9,"day":1},"profile":{"creditCode":"91330402MA2B000010","name":"嘉兴示例制造有限公司","county":"NANHU","recognitions":[{"recognition":"greenFactory","level":"national","recognizedOn":{"year":2023,"month":7,"day":1}}]}}"#

    /// Waits for `channel` to close, at most `bound` (or until cancelled); whether it closed.
    static func closes(_ channel: any Channel, within bound: Duration) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while channel.isActive, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !channel.isActive
    }

    /// The index of the first of `channels` to close, waiting at most `bound`.
    static func firstClosed(_ channels: [any Channel], within bound: Duration) async -> Int? {
        await withTaskGroup(of: Int?.self) { group -> Int? in
            for (index, channel) in channels.enumerated() {
                group.addTask { await Self.closes(channel, within: bound) ? index : nil }
            }
            for await index in group {
                if let index {
                    group.cancelAll()
                    return index
                }
            }
            return nil
        }
    }

    /// Opens `count` TCP connections to the face that send nothing.
    static func silentConnections(_ count: Int, to port: Int) async throws -> [any Channel] {
        var channels: [any Channel] = []
        for _ in 0..<count {
            channels.append(
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                    host: "127.0.0.1", port: port
                ).get())
        }
        return channels
    }

    @Test("connections are bounded: over the limit the next is closed at once; a slot frees when one closes")
    func connectionLimit() async throws {
        // No handshake deadline within the test's time: only the limit closes anything here.
        try await Self.withFace(
            limits: ConnectionLimits(maximumConnections: 3, maximumPerAddress: 3, handshakeTimeout: .seconds(600))
        ) {
            face in
            let channels = try await Self.silentConnections(4, to: face.port)
            // One of the four (whichever the server set up last) is closed as it arrives; three stay.
            let first = await Self.firstClosed(channels, within: .seconds(60))
            let refused = try #require(first)
            let held = channels.indices.filter { $0 != refused }
            #expect(held.filter { channels[$0].isActive }.count == 3, "three within the limit stay open")
            // One of them closes; a request then finds a slot.
            try await channels[held[0]].close()
            var served = (status: 0, body: "")
            for _ in 0..<50 where served.status != 200 {
                served = try await face.curl(
                    "nanhu", ["-X", "POST", "https://localhost:\(face.port)/v1/ListDocuments", "-d", "{}"])
                if served.status != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(served.status == 200, "\(served.body.prefix(200))")
            for index in held.dropFirst() { try? await channels[index].close() }
        }
    }

    @Test("one client address holds at most its share: the next from it is closed, the listener has room")
    func perAddressLimit() async throws {
        try await Self.withFace(
            limits: ConnectionLimits(maximumConnections: 100, maximumPerAddress: 2, handshakeTimeout: .seconds(600))
        ) { face in
            let channels = try await Self.silentConnections(3, to: face.port)
            let closed = await Self.firstClosed(channels, within: .seconds(60))
            let refused = try #require(closed)
            #expect(channels.indices.filter { $0 != refused && channels[$0].isActive }.count == 2)
            for channel in channels { try? await channel.close() }
        }
    }

    @Test("a connection that sends nothing is closed at the handshake deadline; one that completes TLS is served")
    func handshakeDeadline() async throws {
        try await Self.withFace(limits: ConnectionLimits(maximumConnections: 100, handshakeTimeout: .seconds(3))) {
            face in
            let silent = try await Self.silentConnections(1, to: face.port)[0]
            #expect(await Self.closes(silent, within: .seconds(60)), "a silent connection is closed")
            let url = "https://localhost:\(face.port)/v1/ListDocuments"
            let served = try await face.curl("nanhu", ["-X", "POST", url, "-d", "{}"])
            #expect(served.status == 200, "\(served.body.prefix(200))")
        }
    }

    @Test("a client that completes TLS but trickles its request head is closed at the head deadline")
    func headDeadline() async throws {
        try await Self.withFace(
            limits: ConnectionLimits(maximumConnections: 100, handshakeTimeout: .seconds(600), headTimeout: .seconds(2))
        ) { face in
            let channel = try await Self.tlsConnection(as: "nanhu", to: face)
            // The head's first line and one header, then a byte a second: never the blank line.
            try await channel.writeAndFlush(
                ByteBuffer(string: "POST /v1/ListDocuments HTTP/1.1\r\nhost: localhost\r\n"))
            let started = ContinuousClock.now
            for _ in 0..<30 where channel.isActive {
                try? await channel.writeAndFlush(ByteBuffer(string: "x"))
                try await Task.sleep(for: .seconds(1))
            }
            #expect(!channel.isActive, "the trickling client was not closed")
            #expect(ContinuousClock.now - started < .seconds(20))
            try? await channel.close()
            // A whole request is served as before.
            let served = try await face.curl(
                "nanhu", ["-X", "POST", "https://localhost:\(face.port)/v1/ListDocuments", "-d", "{}"])
            #expect(served.status == 200, "\(served.body.prefix(200))")
        }
    }

    /// A county's TLS connection to the face, HTTP/1.1 written by hand; `received` counts the bytes back.
    static func tlsConnection(as county: String, to face: Face, received: ByteCounter? = nil) async throws
        -> any Channel
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.certificateChain = [
            .certificate(try NIOSSLCertificate(file: "\(face.folder)/\(county).pem", format: .pem))
        ]
        configuration.privateKey = .privateKey(
            try NIOSSLPrivateKey(file: "\(face.folder)/\(county)-key.pem", format: .pem))
        let context = try NIOSSLContext(configuration: configuration)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    NIOSSLClientHandler(context: context, serverHostname: nil))
                if let received { try channel.pipeline.syncOperations.addHandler(received) }
            }
        }.connect(host: "127.0.0.1", port: face.port).get()
    }

    /// Counts the bytes a connection receives.
    final class ByteCounter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let count = NIOLockedValueBox(0)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = self.unwrapInboundIn(data).readableBytes
            self.count.withLockedValue { $0 += bytes }
        }
    }

    @Test("a ClientHello trickled a byte at a time is closed at the handshake deadline")
    func slowClientHello() async throws {
        try await Self.withFace(limits: ConnectionLimits(maximumConnections: 100, handshakeTimeout: .seconds(2))) {
            face in
            let channel = try await Self.silentConnections(1, to: face.port)[0]
            // A TLS record header for a handshake message, then the message's bytes one a second.
            let started = ContinuousClock.now
            for byte: UInt8 in [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC] + Array(repeating: 0, count: 30)
            where channel.isActive {
                try? await channel.writeAndFlush(ByteBuffer(bytes: [byte]))
                try await Task.sleep(for: .seconds(1))
            }
            #expect(!channel.isActive, "the trickling ClientHello was not closed")
            #expect(ContinuousClock.now - started < .seconds(20))
            try? await channel.close()
        }
    }

    @Test("a kept-alive connection is closed at the idle timeout, also while it trickles its next request's head")
    func idleTimeout() async throws {
        try await Self.withFace(
            limits: ConnectionLimits(
                maximumConnections: 100, handshakeTimeout: .seconds(600), headTimeout: .seconds(600),
                idleTimeout: .seconds(3))
        ) { face in
            let request = "POST /v1/ListDocuments HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\n\r\n{}"
            // Left alone after one answered request: closed at the idle timeout.
            let quiet = ByteCounter()
            let idle = try await Self.tlsConnection(as: "nanhu", to: face, received: quiet)
            try await idle.writeAndFlush(ByteBuffer(string: request))
            // Well before the 60 s default: the limit given is the one applied.
            #expect(await Self.closes(idle, within: .seconds(20)), "an idle kept-alive connection stays open")
            #expect(quiet.count.withLockedValue { $0 } > 0, "the request was not answered before the close")
            // Answered, then the next head a byte a second: the bytes do not count as activity.
            let answered = ByteCounter()
            let trickling = try await Self.tlsConnection(as: "nanhu", to: face, received: answered)
            try await trickling.writeAndFlush(ByteBuffer(string: request))
            for _ in 0..<100 where answered.count.withLockedValue({ $0 }) == 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(answered.count.withLockedValue { $0 } > 0)
            let started = ContinuousClock.now
            for byte in "POST /v1/ListDocuments HTTP/1.1\r\nhost: localhost\r\nx-slow: ".utf8 where trickling.isActive {
                try? await trickling.writeAndFlush(ByteBuffer(bytes: [byte]))
                try await Task.sleep(for: .seconds(1))
            }
            #expect(!trickling.isActive, "the trickled head kept the connection open")
            #expect(ContinuousClock.now - started < .seconds(20))
            try? await trickling.close()
        }
    }

    @Test("WatchInbox over HTTP: a watch past the caller's four is 429 resourceExhausted, not a 200 then a reset")
    func watchRefusedWithItsStatus() async throws {
        try await Self.withFace { face in
            let url = "https://localhost:\(face.port)/v1/WatchInbox"
            let nanhu = face.mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The county's four watches, held natively; each is in once the gateway's head arrives.
                let (accepted, acceptance) = AsyncStream<Void>.makeStream()
                for _ in 0..<WatchSlots.maximumPerCaller {
                    group.addTask {
                        try await nanhu.serverStreaming(
                            GatewayMethods.watchInbox, Jiaxing_Benefits_V1_WatchInboxRequest(),
                            options: CallOptions(timeout: .seconds(60))
                        ) { (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                            for try await event in notices.events {
                                if case .head = event { acceptance.yield() }
                            }
                        }
                    }
                }
                var count = 0
                for await _ in accepted {
                    count += 1
                    if count == WatchSlots.maximumPerCaller { break }
                }
                // The fifth, over HTTP: refused with its own status and a JSON error, not a 200 then a reset.
                let refused = try await face.curl("nanhu", ["-X", "POST", url, "-d", "{}", "--max-time", "10"])
                #expect(refused.status == 429, "\(refused.body.prefix(300))")
                #expect(refused.body.contains(#""code":"resourceExhausted""#), "\(refused.body.prefix(300))")
                #expect(refused.body.contains("WatchInbox streams open"))
                // Another county's inbox is refused by notification, and that too is its own status.
                let foreign = try await face.curl(
                    "haining", ["-X", "POST", url, "-d", #"{"audience":"county/nanhu"}"#, "--max-time", "10"])
                #expect(foreign.status == 403, "\(foreign.status) \(foreign.body.prefix(300))")
                // Its own watch is accepted: 200 although its inbox stays quiet until curl gives up.
                let own = try await face.curl("haining", ["-X", "POST", url, "-d", "{}", "--max-time", "2"])
                #expect(own.status == 200, "\(own.body.prefix(300))")
                group.cancelAll()
            }
        }
    }

    @Test("the HTTP face speaks TLS 1.3 only: a TLS 1.2 client gets no answer, a 1.3 one does")
    func tls13Only() async throws {
        try await Self.withFace { face in
            let url = "https://localhost:\(face.port)/v1/ListDocuments"
            let old = try await face.curl("nanhu", ["--tls-max", "1.2", "-X", "POST", url, "-d", "{}"])
            #expect(old.status == 0, "a TLS 1.2 handshake was answered: \(old.status)")
            let current = try await face.curl("nanhu", ["--tlsv1.3", "-X", "POST", url, "-d", "{}"])
            #expect(current.status == 200, "\(current.body.prefix(200))")
        }
    }

    @Test("GET /openapi.json serves the face's description, the very file the generator wrote; it is counted")
    func openAPIServed() async throws {
        let registry = ServiceMetrics.registry  // swift-metrics bootstrapped before the face makes its counters
        try await Self.withFace { face in
            let (status, body) = try await face.curl("nanhu", ["https://localhost:\(face.port)/openapi.json"])
            #expect(status == 200)
            let file = try String(
                contentsOfFile: "\(TestMesh.repositoryRoot)/Services/Gateway/HTTP/openapi.json", encoding: .utf8)
            #expect(body == file, "served \(body.count) characters, the file has \(file.count)")
            let document = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect((document?["openapi"] as? String)?.hasPrefix("3.") == true)
            #expect((document?["paths"] as? [String: Any])?["/v1/Screen"] != nil)
            // The face's requests are counted by route and status, under names Prometheus takes. The middleware
            // counts a request once its response is written, which may be just after the client has read it.
            let counted =
                #"hb_requests{http_route="/openapi.json",http_request_method="GET",http_response_status_code="200"} "#
            var scrape = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            let patience = ContinuousClock.now + .seconds(5)
            while !scrape.contains(counted), ContinuousClock.now < patience {
                try await Task.sleep(for: .milliseconds(20))
                scrape = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            }
            #expect(
                scrape.contains(counted), "\(scrape.split(separator: "\n").filter { $0.contains("hb_") }.prefix(5))")
            #expect(scrape.contains(#"http_server_request_duration_bucket{http_route="/openapi.json""#))
        }
    }

    @Test("a county screens over HTTP/2 and HTTP/1.1 with its certificate; JSON is the protobuf mapping")
    func screenOverHTTP() async throws {
        try await Self.withFace { face in
            let url = "https://localhost:\(face.port)/v1/Screen"
            let creditCode = try #require(BenefitsDomainCode.valid)
            let request = Self.screen.replacingOccurrences(of: "91330402MA2B000010", with: creditCode)
            for http2 in [true, false] {
                let (status, body) = try await face.curl(
                    "nanhu", ["-X", "POST", url, "-H", "content-type: application/json", "-d", request], http2: http2)
                #expect(status == 200, "\(body)")
                #expect(body.contains(#""totalEligibleFen":"150000000""#), "\(body.prefix(300))")
                #expect(body.contains(#""status":"ELIGIBLE""#))
            }
        }
    }

    @Test(
        "refusals over HTTP: another county, bad JSON, unknown method, oversize body, no certificate; the face keeps serving"
    )
    func refusals() async throws {
        try await Self.withFace { face in
            let url = "https://localhost:\(face.port)/v1"
            let creditCode = try #require(BenefitsDomainCode.valid)
            let haining = Self.screen.replacingOccurrences(of: "91330402MA2B000010", with: creditCode)
                .replacingOccurrences(of: "NANHU", with: "HAINING")
            let other = try await face.curl("nanhu", ["-X", "POST", "\(url)/Screen", "-d", haining])
            #expect(other.status == 403)
            #expect(other.body.contains(#""code":"permissionDenied""#) && other.body.contains("海宁市"))

            let malformed = try await face.curl(
                "nanhu", ["-X", "POST", "\(url)/Screen", "-d", #"{"profile": {"creditCode": 42"#])
            #expect(malformed.status == 400)
            #expect(malformed.body.contains(#""code":"invalidArgument""#) && malformed.body.contains("body"))

            let unknownField = try await face.curl(
                "nanhu", ["-X", "POST", "\(url)/Screen", "-d", #"{"profile": {"creditCode": ["not", "a", "string"]}}"#])
            #expect(unknownField.status == 400)

            let unknown = try await face.curl("nanhu", ["-X", "POST", "\(url)/Teleport", "-d", "{}"])
            #expect(unknown.status == 501)
            #expect(unknown.body.contains("Teleport"))

            let large = FileManager.default.temporaryDirectory.appendingPathComponent("large-\(UUID().uuidString).json")
                .path
            try String(repeating: " ", count: GatewayHTTP.maximumRequestBytes + 10).write(
                toFile: large, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: large) }
            let oversize = try await face.curl("nanhu", ["-X", "POST", "\(url)/Screen", "--data-binary", "@\(large)"])
            #expect(oversize.status == 413)
            #expect(oversize.body.contains("\(GatewayHTTP.maximumRequestBytes)"))

            let anonymous = try await face.curl(nil, [url])
            #expect(anonymous.status == 0, "no client certificate: refused at the handshake")

            let listing = try await face.curl("nanhu", [url])
            #expect(listing.status == 200)
            for entry in MethodRegistry.entries where entry.method.service == GatewayMethods.service {
                #expect(listing.body.contains(#""path":"/v1/\#(entry.method.method)""#))
            }
        }
    }

    @Test(
        "ScreenBatch's JSON form: an array in, the results out in order; a bad array or one over 1,000 requests refused naming why"
    )
    func batchAsJSON() async throws {
        try await Self.withFace { face in
            let creditCode = try #require(BenefitsDomainCode.valid)
            let good = Self.screen.replacingOccurrences(of: "91330402MA2B000010", with: creditCode)
            let folder = FileManager.default.temporaryDirectory.path
            func post(_ body: String) async throws -> (status: Int, body: String) {
                let file = "\(folder)/batch-\(UUID().uuidString).json"
                try body.write(toFile: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(atPath: file) }
                return try await face.curl(
                    "nanhu",
                    [
                        "-X", "POST", "https://localhost:\(face.port)/v1/ScreenBatch", "-H",
                        "content-type: application/json", "--data-binary", "@\(file)",
                    ])
            }
            let answer = try await post("[\(good),\(good)]")
            #expect(answer.status == 200, "\(answer.body.prefix(300))")
            let results = try Jiaxing_Benefits_V1_ScreeningResult.array(fromJSONString: answer.body)
            #expect(results.map(\.totalEligibleFen) == [150_000_000, 150_000_000])

            let notArray = try await post(good)
            #expect(notArray.status == 400)
            #expect(notArray.body.contains("not a JSON array of ScreenRequest"))

            let tooMany = try await post(
                "[" + Array(repeating: good, count: GatewayHTTP.maximumBatchJSONRequests + 1).joined(separator: ",")
                    + "]")
            #expect(tooMany.status == 400)
            #expect(tooMany.body.contains("more than the \(GatewayHTTP.maximumBatchJSONRequests)"))
            #expect(tooMany.body.contains("application/x-ndjson"))
        }
    }

    @Test("ScreenBatch over HTTP: NDJSON in, NDJSON out in order, a bad line reported and the rest go on")
    func batchOverHTTP() async throws {
        try await Self.withFace { face in
            let creditCode = try #require(BenefitsDomainCode.valid)
            let good = Self.screen.replacingOccurrences(of: "91330402MA2B000010", with: creditCode)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "batch-\(UUID().uuidString).ndjson"
            ).path
            try [good, "this is not json", good, ""].joined(separator: "\n").write(
                toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let (status, body) = try await face.curl(
                "nanhu", ["-X", "POST", "https://localhost:\(face.port)/v1/ScreenBatch", "--data-binary", "@\(file)"])
            #expect(status == 200)
            let lines = body.split(separator: "\n")
            #expect(lines.count == 3, "\(body.prefix(500))")
            #expect(lines.first?.hasPrefix(#"{"line":1,"result":"#) == true)
            #expect(lines.dropFirst().first?.hasPrefix(#"{"line":2,"error":{"code":"invalidArgument""#) == true)
            #expect(lines.last?.hasPrefix(#"{"line":3,"result":"#) == true)
        }
    }

    @Test(
        "ScreenBatch over HTTP: a line longer than one profile may be is answered and skipped; ten thousand bad lines each answered; good lines after them still screened"
    )
    func batchLimits() async throws {
        try await Self.withFace { face in
            let creditCode = try #require(BenefitsDomainCode.valid)
            let good = Self.screen.replacingOccurrences(of: "91330402MA2B000010", with: creditCode)
            let overlong = String(repeating: "x", count: GatewayHTTP.maximumRequestBytes + 500_000)
            let bad = Array(repeating: "{\"profile\": 42}", count: 10_000)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "batch-\(UUID().uuidString).ndjson"
            ).path
            try ([good, overlong, good] + bad + [good, ""]).joined(separator: "\n").write(
                toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let (status, body) = try await face.curl(
                "nanhu", ["-X", "POST", "https://localhost:\(face.port)/v1/ScreenBatch", "--data-binary", "@\(file)"])
            #expect(status == 200)
            let lines = body.split(separator: "\n")
            #expect(lines.count == 10_004, "\(lines.count) lines")
            #expect(
                lines.dropFirst().first?.contains("longer than the \(GatewayHTTP.maximumRequestBytes) bytes") == true)
            #expect(lines.dropFirst(2).first?.hasPrefix(#"{"line":3,"result":"#) == true)
            #expect(lines.dropFirst(3).prefix(10_000).allSatisfy { $0.contains(#""error":{"code":"invalidArgument""#) })
            #expect(lines.last?.hasPrefix(#"{"line":10004,"result":"#) == true)
            // Every line is JSON a client can parse, the error messages escaped.
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
        }
    }

    @Test("openapi.json names every gateway method with its request and response schemas")
    func openAPIDocument() throws {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: "\(TestMesh.repositoryRoot)/Services/Gateway/HTTP/openapi.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        for entry in MethodRegistry.entries where entry.method.service == GatewayMethods.service {
            let post = (paths["/v1/\(entry.method.method)"] as? [String: Any])?["post"] as? [String: Any]
            #expect(post != nil, "no path for \(entry.method.method)")
            let requestName = String(entry.request.protoMessageName.split(separator: ".").last ?? "")
            let responseName = String(entry.response.protoMessageName.split(separator: ".").last ?? "")
            #expect(schemas[requestName] != nil, "no schema \(requestName)")
            #expect(schemas[responseName] != nil, "no schema \(responseName)")
        }
    }
}

/// A valid credit code in 南湖区 for the HTTP tests.
enum BenefitsDomainCode {
    static let valid: String? = CreditCode.completing("91330402MA2B00001")?.value
}
