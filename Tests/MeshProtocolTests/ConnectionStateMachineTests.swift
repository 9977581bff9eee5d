import MeshMessages
import MeshProtocol
import MeshWire
import NIOCore
import Testing

private typealias InboundAction = ConnectionStateMachine.InboundAction
private typealias TimerAction = ConnectionStateMachine.TimerAction

/// The injected clock's origin; every test measures time from here.
private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

private let testMethod = "mesh.testing.v1.TestService/UnaryCall"

// MARK: - Payloads and frames

/// A serialized `mesh.rpc.v1.RequestHead`, encoded by hand (protobuf wire format) so the tests need no
/// SwiftProtobuf import: field 1 `method` (length-delimited), field 2 `timeout_micros` (varint).
private func requestHeadPayload(method: String = testMethod, timeoutMicros: UInt64 = 0) -> ByteBuffer {
    var buffer = ByteBuffer()
    let methodBytes = Array(method.utf8)
    buffer.writeInteger(UInt8(0x0A))
    writeVarint(UInt64(methodBytes.count), into: &buffer)
    buffer.writeBytes(methodBytes)
    if timeoutMicros != 0 {
        buffer.writeInteger(UInt8(0x10))
        writeVarint(timeoutMicros, into: &buffer)
    }
    return buffer
}

private func writeVarint(_ value: UInt64, into buffer: inout ByteBuffer) {
    var value = value
    while value >= 0x80 {
        buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    buffer.writeInteger(UInt8(value))
}

private func headersFrame(_ streamID: UInt32, payload: ByteBuffer = requestHeadPayload()) -> Frame {
    Frame(type: .headers, streamID: streamID, payload: payload)
}

private func messageFrame(_ streamID: UInt32, size: Int) -> Frame {
    Frame(type: .message, streamID: streamID, payload: ByteBuffer(repeating: 0x6D, count: size))
}

private func settingsFrame(_ settings: ConnectionSettings) -> Frame {
    Frame(type: .settings, streamID: 0, payload: settings.encode())
}

private func windowUpdateFrame(_ streamID: UInt32, increment: UInt32) -> Frame {
    Frame(type: .windowUpdate, streamID: streamID, payload: WindowUpdatePayload.encode(increment))
}

private func pingFrame(_ data: UInt64, ack: Bool) -> Frame {
    Frame(type: .ping, flags: ack ? FrameFlags.ack : FrameFlags(), streamID: 0, payload: PingPayload.encode(data))
}

// MARK: - Checks on actions

private func isNone(_ action: InboundAction) -> Bool {
    if case .none = action { return true }
    return false
}

private func expectInboundError(
    _ action: InboundAction,
    code: ConnectionErrorCode,
    mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard case .connectionError(let error) = action else {
        Issue.record("expected connectionError(\(code)), got \(action)", sourceLocation: sourceLocation)
        return
    }
    checkConnectionError(error, code: code, mentioning: fragments, sourceLocation: sourceLocation)
}

/// Returns the trailers of a `.refuseStream` for `streamID`, recording an issue for any other action.
private func refusal(
    _ action: InboundAction,
    streamID: UInt32,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Mesh_Rpc_V1_Trailers? {
    guard case .refuseStream(let refused, let trailers) = action, refused == streamID else {
        Issue.record("expected refuseStream(\(streamID)), got \(action)", sourceLocation: sourceLocation)
        return nil
    }
    return trailers
}

/// Server: the client opens `streamID` with a valid request head.
private func openServerStream(
    _ machine: inout ConnectionStateMachine,
    _ streamID: UInt32,
    now: NIODeadline = start,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let action = machine.receive(headersFrame(streamID), now: now)
    if case .openStream(let opened, _) = action, opened == streamID { return }
    Issue.record("expected openStream(\(streamID)), got \(action)", sourceLocation: sourceLocation)
}

/// Client: opens the next stream and returns its id.
private func openClientStream(
    _ machine: inout ConnectionStateMachine,
    now: NIODeadline = start,
    sourceLocation: SourceLocation = #_sourceLocation
) -> UInt32? {
    let result = machine.openStream(now: now)
    guard case .opened(let streamID) = result else {
        Issue.record("expected a stream to open, got \(result)", sourceLocation: sourceLocation)
        return nil
    }
    return streamID
}

@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    // MARK: Opening streams

    @Test("Server: HEADERS with a valid RequestHead opens the stream")
    func serverOpensStreamOnHeaders() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        machine.receivePreface(now: start)
        let action = machine.receive(headersFrame(1, payload: requestHeadPayload(timeoutMicros: 5000)), now: start)
        guard case .openStream(let streamID, let head) = action else {
            Issue.record("expected openStream, got \(action)")
            return
        }
        #expect(streamID == 1)
        #expect(head.method == testMethod)
        #expect(head.timeoutMicros == 5000)
        #expect(machine.openStreamCount == 1)
        #expect(machine.lastProcessedStreamID == 1)
    }

    @Test("Server: HEADERS that are not a RequestHead refuse the stream with internal (13)")
    func serverRefusesMalformedRequestHead() throws {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        // Field 1, length 5, but only one byte follows.
        let action = machine.receive(headersFrame(1, payload: ByteBuffer(bytes: [0x0A, 0x05, 0x41])), now: start)
        let refused = refusal(action, streamID: 1)
        let trailers = try #require(refused)
        #expect(trailers.code == 13)
        #expect(machine.openStreamCount == 0)
    }

    @Test("Server: a reused stream id is a protocol error naming the id")
    func serverRejectsReusedStreamID() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        openServerStream(&machine, 1)
        openServerStream(&machine, 3)
        let action = machine.receive(headersFrame(3), now: start)
        expectInboundError(action, code: .protocolError, mentioning: ["stream id 3"])
    }

    @Test("Server: a decreasing stream id is a protocol error naming the id")
    func serverRejectsDecreasingStreamID() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        openServerStream(&machine, 5)
        let action = machine.receive(headersFrame(3), now: start)
        expectInboundError(action, code: .protocolError, mentioning: ["stream id 3", "5"])
    }

    // Refused as unavailable (14), retryable like HTTP/2's REFUSED_STREAM, since c6b16c5 (it was 8, resourceExhausted).
    @Test("Server: a stream beyond maxConcurrentStreams is refused with unavailable (14); the connection goes on")
    func serverRefusesStreamsBeyondConcurrencyLimit() throws {
        var machine = ConnectionStateMachine(
            role: .server, localSettings: ConnectionSettings(maxConcurrentStreams: 2), now: start
        )
        openServerStream(&machine, 1)
        openServerStream(&machine, 3)

        let action = machine.receive(headersFrame(5), now: start)
        let refused = refusal(action, streamID: 5)
        let trailers = try #require(refused)
        #expect(trailers.code == 14)
        #expect(trailers.message.contains("maximum of concurrent streams is 2"))
        #expect(machine.openStreamCount == 2)

        // A late MESSAGE for the refused stream is dropped, not an error.
        let late = machine.receive(messageFrame(5, size: 10), now: start)
        #expect(isNone(late), "got \(late)")

        // Once a stream ends, the next one opens.
        let close = machine.closeStream(streamID: 1, now: start)
        #expect(close == .send)
        openServerStream(&machine, 7)
        #expect(machine.openStreamCount == 2)
        #expect(!machine.isClosed)
    }

    // MARK: Flow control

    @Test("Sender: writes while the window is positive, then waits; WINDOW_UPDATE resumes")
    func senderWaitsForWindowUpdate() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        let settings = machine.receive(settingsFrame(ConnectionSettings(initialWindowSize: 100)), now: start)
        #expect(isNone(settings), "got \(settings)")
        guard let streamID = openClientStream(&machine) else { return }

        let first = machine.sendMessage(streamID: streamID, size: 60)
        #expect(first == .send)
        // 40 left: still positive, so a 60-byte message may go and takes the window below zero.
        let second = machine.sendMessage(streamID: streamID, size: 60)
        #expect(second == .send)
        let third = machine.sendMessage(streamID: streamID, size: 1)
        #expect(third == .wait)

        // Window -20 + 10 is still not positive.
        let small = machine.receive(windowUpdateFrame(streamID, increment: 10), now: start)
        #expect(isNone(small), "got \(small)")
        let stillWaiting = machine.sendMessage(streamID: streamID, size: 1)
        #expect(stillWaiting == .wait)

        let update = machine.receive(windowUpdateFrame(streamID, increment: 50), now: start)
        guard case .resumeWrites(let resumed) = update else {
            Issue.record("expected resumeWrites, got \(update)")
            return
        }
        #expect(resumed == streamID)
        let afterUpdate = machine.sendMessage(streamID: streamID, size: 40)
        #expect(afterUpdate == .send)
    }

    @Test("Sender: a SETTINGS with a larger initial window resumes every stream")
    func largerInitialWindowResumesAllWrites() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        _ = machine.receive(settingsFrame(ConnectionSettings(initialWindowSize: 100)), now: start)
        guard let streamID = openClientStream(&machine) else { return }
        let spend = machine.sendMessage(streamID: streamID, size: 100)
        #expect(spend == .send)
        let blocked = machine.sendMessage(streamID: streamID, size: 1)
        #expect(blocked == .wait)

        let action = machine.receive(settingsFrame(ConnectionSettings(initialWindowSize: 200)), now: start)
        guard case .resumeAllWrites = action else {
            Issue.record("expected resumeAllWrites, got \(action)")
            return
        }
        let resumed = machine.sendMessage(streamID: streamID, size: 1)
        #expect(resumed == .send)
    }

    @Test("Receiver: a MESSAGE arriving with no window left is a flow-control error")
    func receiverRejectsMessageBeyondWindow() {
        var machine = ConnectionStateMachine(
            role: .server, localSettings: ConnectionSettings(initialWindowSize: 100), now: start
        )
        openServerStream(&machine, 1)
        let first = machine.receive(messageFrame(1, size: 100), now: start)
        guard case .deliverMessage(let streamID, let payload) = first else {
            Issue.record("expected deliverMessage, got \(first)")
            return
        }
        #expect(streamID == 1)
        #expect(payload.readableBytes == 100)

        let second = machine.receive(messageFrame(1, size: 1), now: start)
        expectInboundError(second, code: .flowControlError, mentioning: ["stream 1"])
    }

    @Test("Receiver: consumed() grants an increment once half the window was consumed")
    func consumedGrantsIncrementAtHalfWindow() {
        var machine = ConnectionStateMachine(
            role: .server, localSettings: ConnectionSettings(initialWindowSize: 100), now: start
        )
        openServerStream(&machine, 1)

        _ = machine.receive(messageFrame(1, size: 30), now: start)
        let belowHalf = machine.consumed(streamID: 1, size: 30)
        #expect(belowHalf == nil)

        _ = machine.receive(messageFrame(1, size: 30), now: start)
        let atHalf = machine.consumed(streamID: 1, size: 30)
        #expect(atHalf == 60)

        // The credit was applied: the whole initial window (40 left + 60 granted) may arrive again.
        let full = machine.receive(messageFrame(1, size: 100), now: start)
        guard case .deliverMessage = full else {
            Issue.record("expected deliverMessage, got \(full)")
            return
        }
        // With the window spent, even a small consumption is granted at once.
        let whenExhausted = machine.consumed(streamID: 1, size: 10)
        #expect(whenExhausted == 10)
        let unknownStream = machine.consumed(streamID: 99, size: 10)
        #expect(unknownStream == nil)
    }

    // MARK: Draining

    @Test(
        "Server drain: GOAWAY names the highest stream, new streams are refused with unavailable (14), the last close closes"
    )
    func serverDrain() throws {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        openServerStream(&machine, 1)
        openServerStream(&machine, 3)

        let began = machine.beginDrain(reason: "deploying")
        let drain = try #require(began)
        #expect(drain.goAway.lastStreamID == 3)
        #expect(drain.goAway.code == .noError)
        #expect(drain.goAway.message == "deploying")
        #expect(!drain.closeNow)
        #expect(machine.isDraining)
        let again = machine.beginDrain(reason: "again")
        #expect(again?.goAway == nil, "a second drain does nothing")

        let action = machine.receive(headersFrame(5), now: start)
        let refused = refusal(action, streamID: 5)
        let trailers = try #require(refused)
        #expect(trailers.code == 14)
        #expect(machine.openStreamCount == 2)

        let first = machine.closeStream(streamID: 1, now: start)
        #expect(first == .send)
        #expect(!machine.isClosed)
        let last = machine.closeStream(streamID: 3, now: start)
        #expect(last == .sendAndClose)
        #expect(machine.isClosed)
    }

    @Test("Drain with nothing open closes at once")
    func drainWithNothingOpenClosesNow() throws {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        let began = machine.beginDrain(reason: "shutdown")
        let drain = try #require(began)
        #expect(drain.closeNow)
        #expect(drain.goAway.lastStreamID == 0)
        #expect(machine.isClosed)
    }

    @Test("Client: GOAWAY below open streams refuses them; the rest finish, then the connection closes")
    func clientReceivesGoAway() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        let first = openClientStream(&machine)
        let second = openClientStream(&machine)
        let third = openClientStream(&machine)
        #expect(first == 1)
        #expect(second == 2)
        #expect(third == 3)

        let goAway = GoAwayPayload(lastStreamID: 1, code: .noError, message: "server restarting")
        let action = machine.receive(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), now: start)
        guard case .goAwayReceived(let received, refusedStreams: let refused, closeNow: let closeNow) = action else {
            Issue.record("expected goAwayReceived, got \(action)")
            return
        }
        #expect(received == goAway)
        #expect(refused == [2, 3])
        #expect(!closeNow)
        #expect(machine.openStreamCount == 1)
        #expect(machine.isDraining)

        let refusedOpen = machine.openStream(now: start)
        guard case .refused(let reason) = refusedOpen else {
            Issue.record("expected refused, got \(refusedOpen)")
            return
        }
        #expect(reason.contains("server restarting"))

        // Stream 1 finishes normally (empty payload: a Trailers with code 0), which closes the connection.
        let trailers = machine.receive(Frame(type: .trailers, streamID: 1), now: start)
        guard case .deliverTrailers(1, let delivered) = trailers else {
            Issue.record("expected deliverTrailers(1), got \(trailers)")
            return
        }
        #expect(delivered.code == 0)
        #expect(machine.isClosed)
    }

    @Test("Client: GOAWAY with an error code closes at once")
    func clientReceivesGoAwayWithError() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        _ = openClientStream(&machine)
        let goAway = GoAwayPayload(lastStreamID: 1, code: .protocolError, message: "bad frame")
        let action = machine.receive(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), now: start)
        guard case .goAwayReceived(_, refusedStreams: let refused, closeNow: let closeNow) = action else {
            Issue.record("expected goAwayReceived, got \(action)")
            return
        }
        #expect(refused.isEmpty)
        #expect(closeNow)
        #expect(machine.isClosed)
    }

    @Test("Server: a client's GOAWAY refuses none of the open streams; they finish")
    func serverReceivesGoAway() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        openServerStream(&machine, 1)
        openServerStream(&machine, 3)
        let goAway = GoAwayPayload(lastStreamID: 0, code: .noError, message: "client leaving")
        let action = machine.receive(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), now: start)
        guard case .goAwayReceived(_, refusedStreams: let refused, closeNow: let closeNow) = action else {
            Issue.record("expected goAwayReceived, got \(action)")
            return
        }
        #expect(refused.isEmpty)
        #expect(!closeNow)
        #expect(machine.openStreamCount == 2)
    }

    // MARK: Timers

    @Test("Idle timeout: nothing before it, closeIdle with idleTimeout after it")
    func idleTimeout() {
        var machine = ConnectionStateMachine(
            role: .server,
            localSettings: ConnectionSettings(),
            timeouts: .init(idleTimeout: .seconds(30), keepaliveInterval: nil),
            now: start
        )
        // Idleness counts from the preface, not from the accept: a slow handshake uses none of it.
        #expect(machine.tick(now: start + .seconds(45)) == TimerAction.none)
        machine.receivePreface(now: start)
        let before = machine.tick(now: start + .seconds(29))
        #expect(before == TimerAction.none)

        let after = machine.tick(now: start + .seconds(30))
        guard case .closeIdle(let goAway) = after else {
            Issue.record("expected closeIdle, got \(after)")
            return
        }
        #expect(goAway.code == .idleTimeout)
        #expect(goAway.message.contains("idle timeout is 30 s"))
        #expect(machine.isClosed)
        let afterClose = machine.tick(now: start + .seconds(60))
        #expect(afterClose == TimerAction.none)
    }

    @Test("Idle timeout does not run while a stream is open and restarts when the last one closes")
    func idleTimeoutWaitsForOpenStreams() {
        var machine = ConnectionStateMachine(
            role: .server,
            localSettings: ConnectionSettings(),
            timeouts: .init(idleTimeout: .seconds(30), keepaliveInterval: nil),
            now: start
        )
        machine.receivePreface(now: start)
        openServerStream(&machine, 1, now: start + .seconds(10))
        let whileOpen = machine.tick(now: start + .seconds(100))
        #expect(whileOpen == TimerAction.none)

        let close = machine.closeStream(streamID: 1, now: start + .seconds(100))
        #expect(close == .send)
        let early = machine.tick(now: start + .seconds(129))
        #expect(early == TimerAction.none)
        let late = machine.tick(now: start + .seconds(130))
        guard case .closeIdle(let goAway) = late else {
            Issue.record("expected closeIdle, got \(late)")
            return
        }
        #expect(goAway.lastStreamID == 1)
        #expect(goAway.code == .idleTimeout)
    }

    @Test("Keepalive: PING after the interval, connection error when it goes unanswered")
    func keepaliveTimesOut() {
        var machine = ConnectionStateMachine(
            role: .client,
            localSettings: ConnectionSettings(),
            timeouts: .init(idleTimeout: nil, keepaliveInterval: .seconds(10), keepaliveTimeout: .seconds(5)),
            now: start
        )
        machine.receivePreface(now: start)

        let early = machine.tick(now: start + .seconds(9))
        #expect(early == TimerAction.none)
        let ping = machine.tick(now: start + .seconds(10))
        guard case .sendPing = ping else {
            Issue.record("expected sendPing, got \(ping)")
            return
        }
        let waiting = machine.tick(now: start + .seconds(14))
        #expect(waiting == TimerAction.none)

        let expired = machine.tick(now: start + .seconds(15))
        guard case .connectionError(let error) = expired else {
            Issue.record("expected connectionError, got \(expired)")
            return
        }
        checkConnectionError(error, code: .keepaliveTimeout, mentioning: ["keepalive timeout is 5 s"])
        #expect(machine.isClosed)
    }

    @Test("Keepalive: a PING ack clears the outstanding ping")
    func keepalivePingAckClearsTimeout() {
        var machine = ConnectionStateMachine(
            role: .client,
            localSettings: ConnectionSettings(),
            timeouts: .init(idleTimeout: nil, keepaliveInterval: .seconds(10), keepaliveTimeout: .seconds(5)),
            now: start
        )
        machine.receivePreface(now: start)

        let ping = machine.tick(now: start + .seconds(10))
        guard case .sendPing(let data) = ping else {
            Issue.record("expected sendPing, got \(ping)")
            return
        }
        let ack = machine.receive(pingFrame(data, ack: true), now: start + .seconds(12))
        #expect(isNone(ack), "got \(ack)")

        // Past the keepalive timeout of the first ping: no error, and no new ping before the interval.
        let afterTimeout = machine.tick(now: start + .seconds(16))
        #expect(afterTimeout == TimerAction.none)
        #expect(!machine.isClosed)

        // The next interval after the ack sends a new ping with new data.
        let next = machine.tick(now: start + .seconds(22))
        guard case .sendPing(let nextData) = next else {
            Issue.record("expected a second sendPing, got \(next)")
            return
        }
        #expect(nextData != data)
    }

    @Test("A PING without ack is answered with the same data")
    func pingIsAcknowledged() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        let data: UInt64 = 0xDEAD_BEEF_0102_0304
        let action = machine.receive(pingFrame(data, ack: false), now: start)
        guard case .sendPingAck(let echoed) = action else {
            Issue.record("expected sendPingAck, got \(action)")
            return
        }
        #expect(echoed == data)
    }

    // MARK: Protocol errors

    @Test("Frames on the wrong stream id are protocol errors")
    func framesOnWrongStreamID() {
        var machine = ConnectionStateMachine(role: .server, localSettings: ConnectionSettings(), now: start)
        let settings = machine.receive(
            Frame(type: .settings, streamID: 3, payload: ConnectionSettings().encode()), now: start
        )
        expectInboundError(settings, code: .protocolError, mentioning: ["stream 3"])

        let message = machine.receive(messageFrame(0, size: 4), now: start)
        expectInboundError(message, code: .protocolError, mentioning: ["stream 0"])

        let ping = machine.receive(Frame(type: .ping, streamID: 1, payload: PingPayload.encode(1)), now: start)
        expectInboundError(ping, code: .protocolError, mentioning: ["stream 1"])
    }

    @Test("Client: TRAILERS for a stream it never opened is a protocol error")
    func clientRejectsTrailersForUnopenedStream() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        _ = openClientStream(&machine)
        let action = machine.receive(Frame(type: .trailers, streamID: 5), now: start)
        expectInboundError(action, code: .protocolError, mentioning: ["stream 5", "never opened"])
    }

    // MARK: Outbound limits

    @Test("A message larger than the peer's maxFrameSize is tooLarge")
    func messageLargerThanRemoteMaxFrameSize() {
        var machine = ConnectionStateMachine(role: .client, localSettings: ConnectionSettings(), now: start)
        _ = machine.receive(settingsFrame(ConnectionSettings(maxFrameSize: 2048)), now: start)
        guard let streamID = openClientStream(&machine) else { return }

        let tooLarge = machine.sendMessage(streamID: streamID, size: 2049)
        #expect(tooLarge == .tooLarge(limit: 2048))
        let atLimit = machine.sendMessage(streamID: streamID, size: 2048)
        #expect(atLimit == .send)
    }
}
