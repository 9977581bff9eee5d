import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTestSupport
import MeshTransport
import NIOCore
import Testing

/// Hostile or broken bytes sent straight onto a server's socket: each must be refused exactly as PROTOCOL.md
/// says (GOAWAY code and message, per-stream TRAILERS, or a silent close), and the server must go on serving
/// ordinary clients afterwards.
@Suite("Bad input on the wire")
struct BadInputTests {
    static let emptyCallMethod = InteropService.emptyCall.fullName

    // MARK: Checks

    /// The server answered with its own preface and SETTINGS, then a GOAWAY with `code` whose message
    /// mentions every fragment, then closed the connection.
    @discardableResult
    static func expectGoAway(
        _ collected: RawWireClient.Collected,
        code: ConnectionErrorCode,
        mentioning fragments: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> GoAwayPayload? {
        let output = collected.output
        #expect(
            output.preface == ConnectionPreface.current, "server preface missing: \(collected)",
            sourceLocation: sourceLocation)
        #expect(
            output.frames.first?.type == .settings, "SETTINGS must follow the preface: \(collected)",
            sourceLocation: sourceLocation)
        #expect(
            collected.serverClosed, "the server must close after GOAWAY: \(collected)", sourceLocation: sourceLocation)
        guard let goAway = output.goAway else {
            Issue.record("no GOAWAY from the server: \(collected)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(
            goAway.code == code, "expected GOAWAY \(code), got \(goAway.code): \(goAway.message)",
            sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                goAway.message.contains(fragment),
                "GOAWAY message \"\(goAway.message)\" does not mention \"\(fragment)\"",
                sourceLocation: sourceLocation
            )
        }
        #expect(
            output.frames.last?.type == .goAway, "nothing may follow the GOAWAY: \(collected)",
            sourceLocation: sourceLocation)
        return goAway
    }

    /// An ordinary client's unary call on the same server succeeds. `attempts` > 1 retries (for cases where
    /// the server releases something asynchronously, such as a connection slot). Its deadline is generous: the
    /// point is that the server still serves, and with the whole suite on two cores a new connection's
    /// handshake and first call sometimes took over the 2 s this used to allow.
    static func expectNormalCallSucceeds(port: Int, attempts: Int = 1) async throws {
        var lastError: (any Error)?
        for attempt in 1...max(1, attempts) {
            let client = TestMesh.client(port: port)
            do {
                let _: Mesh_Testing_V1_Empty = try await client.unary(
                    InteropService.emptyCall, Mesh_Testing_V1_Empty(), options: CallOptions(timeout: .seconds(10))
                )
                await client.close()
                return
            } catch {
                await client.close()
                lastError = error
                if attempt < attempts { try await Task.sleep(for: .milliseconds(100)) }
            }
        }
        if let lastError { throw lastError }
    }

    // MARK: Preface

    @Test("garbage after the TLS handshake is refused as badPreface naming JXMESH")
    func garbageIsBadPreface() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let collected = try await RawWireClient.exchange(
                port: port, sending: ByteBuffer(string: "GET / HTTP/1.1\r\n"))
            Self.expectGoAway(collected, code: .badPreface, mentioning: ["JXMESH"])
            #expect(ConnectionErrorCode.badPreface.rawValue == 4)
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    @Test("a preface with major version 2 is refused as unsupportedVersion")
    func majorVersionTwo() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let collected = try await RawWireClient.exchange(
                port: port, sending: RawWireClient.prefaceAndSettings(ConnectionPreface(major: 2, minor: 0))
            )
            Self.expectGoAway(collected, code: .unsupportedVersion, mentioning: ["2.0"])
            #expect(ConnectionErrorCode.unsupportedVersion.rawValue == 5)
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    // MARK: Frame headers

    @Test("a frame header announcing 5 MiB is refused before its payload arrives")
    func oversizeFrameHeader() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            // Only the 10-byte header: the server must refuse from it alone, not wait for 5 MiB.
            let collected = try await RawWireClient.exchange(
                port: port,
                sending: RawWireClient.prefaceAndSettings(),
                RawWireClient.frameHeader(length: 5 * 1024 * 1024, type: FrameType.headers.rawValue, streamID: 1)
            )
            let goAway = Self.expectGoAway(collected, code: .frameSizeError, mentioning: ["5242880", "4194304"])
            #expect(goAway?.lastStreamID == 0)
            #expect(ConnectionErrorCode.frameSizeError.rawValue == 3)
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    @Test("an unknown frame type is a protocolError naming the type")
    func unknownFrameType() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let collected = try await RawWireClient.exchange(
                port: port,
                sending: RawWireClient.prefaceAndSettings(),
                RawWireClient.frameHeader(length: 0, type: 0x42, streamID: 0)
            )
            Self.expectGoAway(collected, code: .protocolError, mentioning: ["0x42"])
            #expect(ConnectionErrorCode.protocolError.rawValue == 1)
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    // MARK: Streams

    @Test("a reused stream id is a protocolError")
    func reusedStreamID() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let collected = try await RawWireClient.exchange(
                port: port,
                sending: RawWireClient.prefaceAndSettings(),
                try RawWireClient.unaryCall(streamID: 1, method: Self.emptyCallMethod),
                RawWireClient.frame(
                    .headers, streamID: 1, payload: try RawWireClient.requestHead(method: Self.emptyCallMethod))
            )
            let goAway = Self.expectGoAway(collected, code: .protocolError, mentioning: ["reused"])
            #expect(goAway?.lastStreamID == 1)
            // The first call may have finished before the second HEADERS was read; if so it ended ok.
            if let trailers = collected.output.trailers(onStream: 1) {
                #expect(trailers.code == 0, "\(collected)")
            }
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    @Test("a request head over maxHeaderSize is refused on its stream only")
    func oversizeRequestHead() async throws {
        var transport = MeshTransportConfiguration()
        transport.settings.maxHeaderSize = 1024
        try await TestMesh.withServer(router: InteropService.router(), transport: transport) { _, port in
            let longMethod = String(repeating: "m", count: 2000)
            let head = try RawWireClient.requestHead(method: longMethod)
            let raw = try await RawWireClient.connect(port: port)
            try await raw.send(
                RawWireClient.prefaceAndSettings(),
                RawWireClient.frame(.headers, streamID: 1, payload: head)
            )
            let refused = await raw.waitUntil(timeout: .seconds(2)) { $0.output.trailers(onStream: 1) != nil }
            let trailers = refused.output.trailers(onStream: 1)
            #expect(trailers?.code == 8, "\(refused)")
            #expect(trailers?.message.contains("1024") == true, "\(refused)")
            #expect(trailers?.message.contains("\(head.readableBytes)") == true, "\(refused)")

            // The connection goes on: a proper call on a later stream is served on it.
            try await raw.send(try RawWireClient.unaryCall(streamID: 3, method: Self.emptyCallMethod))
            let served = await raw.waitUntil(timeout: .seconds(2)) { $0.output.trailers(onStream: 3) != nil }
            #expect(served.output.trailers(onStream: 3)?.code == 0, "\(served)")
            #expect(served.output.frames(onStream: 3).contains { $0.type == .message }, "\(served)")
            #expect(served.output.goAway == nil, "\(served)")
            #expect(!served.isClosed, "\(served)")
            await raw.close()

            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    // MARK: Transport

    @Test("plaintext to the TLS port is closed without a mesh frame")
    func plaintextToTLSPort() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            // 5 s to see the close: the server closes at once, but on two cores loaded by the whole suite the
            // close has been seen late (twice in a day, after 2 s). Still well under the 10 s handshake
            // timeout, so a pass means the TLS failure closed it, not the slowloris timer.
            let collected = try await RawWireClient.exchange(
                port: port, tls: nil, sending: ByteBuffer(bytes: Array("JXMESH".utf8) + [1, 0]), timeout: .seconds(5)
            )
            #expect(collected.serverClosed, "\(collected)")
            // At most a TLS alert comes back: never the server's preface, SETTINGS or a GOAWAY.
            #expect(!collected.contains(ConnectionPreface.magic), "\(collected)")
            #expect(collected.output.preface == nil, "\(collected)")
            #expect(collected.output.frames.isEmpty, "\(collected)")
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    @Test("a peer that sends nothing after the handshake is dropped at the handshake timeout")
    func slowloris() async throws {
        var transport = MeshTransportConfiguration()
        transport.handshakeTimeout = .seconds(1)
        try await TestMesh.withServer(router: InteropService.router(), transport: transport) { _, port in
            let raw = try await RawWireClient.connect(port: port)
            let collected = await raw.collectUntilClosed(timeout: .seconds(5))
            await raw.close()
            #expect(collected.serverClosed, "\(collected)")
            // The handshake completed: the server's preface and SETTINGS arrived before it gave up.
            #expect(collected.output.preface == ConnectionPreface.current, "\(collected)")
            #expect(collected.output.settings != nil, "\(collected)")
            // Dropped by the timer: no GOAWAY, and not before the timeout was due.
            #expect(collected.output.goAway == nil, "\(collected)")
            if let closedAfter = collected.closedAfter {
                #expect(closedAfter >= .milliseconds(500), "closed after \(closedAfter)")
                #expect(closedAfter < .seconds(5), "closed after \(closedAfter)")
            } else {
                Issue.record("the connection was not closed within 5 s: \(collected)")
            }
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }

    @Test("connections beyond maxConnections are closed at once")
    func connectionFlood() async throws {
        var transport = MeshTransportConfiguration()
        transport.maxConnections = 4
        try await TestMesh.withServer(router: InteropService.router(), transport: transport) { _, port in
            var held: [RawWireClient] = []
            for _ in 0..<4 {
                let raw = try await RawWireClient.connect(port: port)
                held.append(raw)
                try await raw.send(RawWireClient.prefaceAndSettings())
                // The server's SETTINGS proves it accepted the connection and finished the handshake.
                let accepted = await raw.waitUntil(timeout: .seconds(2)) { $0.output.settings != nil }
                #expect(accepted.output.settings != nil, "\(accepted)")
                #expect(!accepted.isClosed, "\(accepted)")
            }

            let fifth = try await RawWireClient.connect(port: port)
            try? await fifth.send(RawWireClient.prefaceAndSettings())
            let refused = await fifth.collectUntilClosed(timeout: .seconds(1))
            await fifth.close()
            #expect(refused.serverClosed, "\(refused)")
            // Closed at accept, before TLS: no mesh byte at all.
            #expect(refused.bytes.isEmpty, "\(refused)")

            // The four are still up.
            for raw in held {
                let state = raw.collected
                #expect(!state.isClosed, "\(state)")
                #expect(state.output.goAway == nil, "\(state)")
            }
            for raw in held { await raw.close() }
            // The server frees the slots as it sees the closes; allow it a moment.
            try await Self.expectNormalCallSucceeds(port: port, attempts: 15)
        }
    }

    @Test("a truncated frame followed by a close leaves the server serving")
    func truncatedFrame() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let raw = try await RawWireClient.connect(port: port)
            try await raw.send(RawWireClient.prefaceAndSettings())
            let ready = await raw.waitUntil(timeout: .seconds(2)) { $0.output.settings != nil }
            #expect(ready.output.settings != nil, "\(ready)")
            // The header promises 100 bytes; only 10 follow.
            try await raw.send(
                RawWireClient.frameHeader(length: 100, type: FrameType.headers.rawValue, streamID: 1),
                ByteBuffer(repeating: 0x41, count: 10)
            )
            try await Task.sleep(for: .milliseconds(100))
            let waiting = raw.collected
            // The server waits for the rest of the frame: no error, no close.
            #expect(!waiting.isClosed, "\(waiting)")
            #expect(waiting.output.goAway == nil, "\(waiting)")
            await raw.close()
            try await Self.expectNormalCallSucceeds(port: port)
        }
    }
}
