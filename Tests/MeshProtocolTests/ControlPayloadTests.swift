import MeshProtocol
import NIOCore
import Testing

/// A SETTINGS payload from raw (identifier, value) pairs.
private func settingsPayload(_ pairs: [(UInt16, UInt32)]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for (identifier, value) in pairs {
        buffer.writeInteger(identifier)
        buffer.writeInteger(value)
    }
    return buffer
}

@Suite("Control payloads")
struct ControlPayloadTests {
    // MARK: SETTINGS

    @Test("ConnectionSettings round-trips")
    func settingsRoundTrip() throws {
        let settings = ConnectionSettings(
            maxFrameSize: 2048,
            maxConcurrentStreams: 7,
            initialWindowSize: 65_535,
            maxHeaderSize: 4096
        )
        let payload = settings.encode()
        #expect(payload.readableBytes == 4 * 6)
        let decoded = try ConnectionSettings.decode(payload)
        #expect(decoded == settings)
    }

    @Test("ConnectionSettings at the edges of their ranges round-trip")
    func settingsRoundTripAtLimits() throws {
        let settings = ConnectionSettings(
            maxFrameSize: ConnectionSettings.maxFrameSizeLimit,
            maxConcurrentStreams: 0,
            initialWindowSize: 1,
            maxHeaderSize: Int(UInt32.max)
        )
        let decoded = try ConnectionSettings.decode(settings.encode())
        #expect(decoded == settings)
    }

    @Test("Unknown SETTINGS identifiers are ignored, missing ones take the defaults")
    func settingsIgnoresUnknownIdentifiers() throws {
        let decoded = try ConnectionSettings.decode(settingsPayload([(99, 12345), (2, 16), (0, 1)]))
        var expected = ConnectionSettings.default
        expected.maxConcurrentStreams = 16
        #expect(decoded == expected)

        let empty = try ConnectionSettings.decode(ByteBuffer())
        #expect(empty == ConnectionSettings.default)
    }

    @Test("A SETTINGS payload whose length is not a multiple of 6 is a protocol error")
    func settingsLengthNotMultipleOfSix() {
        var payload = settingsPayload([(1, 4096)])
        payload.writeInteger(UInt8(0))
        expectConnectionError(code: .protocolError, mentioning: ["7 bytes"]) {
            try ConnectionSettings.decode(payload)
        }
    }

    @Test("SETTINGS maxFrameSize below 1024 is a protocol error")
    func settingsMaxFrameSizeTooSmall() throws {
        expectConnectionError(code: .protocolError, mentioning: ["1023"]) {
            try ConnectionSettings.decode(settingsPayload([(1, 1023)]))
        }
        // 1024 itself is allowed.
        let smallest = try ConnectionSettings.decode(settingsPayload([(1, 1024)]))
        #expect(smallest.maxFrameSize == 1024)
    }

    @Test("SETTINGS maxFrameSize above the cap is a protocol error")
    func settingsMaxFrameSizeTooLarge() {
        let tooLarge = UInt32(ConnectionSettings.maxFrameSizeLimit + 1)
        expectConnectionError(code: .protocolError, mentioning: ["\(tooLarge)"]) {
            try ConnectionSettings.decode(settingsPayload([(1, tooLarge)]))
        }
    }

    @Test("SETTINGS initialWindowSize of 0 is a protocol error")
    func settingsZeroInitialWindow() {
        expectConnectionError(code: .protocolError, mentioning: ["initialWindowSize"]) {
            try ConnectionSettings.decode(settingsPayload([(3, 0)]))
        }
    }

    // MARK: GOAWAY

    @Test("GoAwayPayload round-trips, including a non-ASCII message and an unknown code")
    func goAwayRoundTrip() throws {
        let goAway = GoAwayPayload(lastStreamID: 41, code: .idleTimeout, message: "嘉兴 idle for 5 s")
        let roundTripped = try GoAwayPayload.decode(goAway.encode())
        #expect(roundTripped == goAway)

        let unknownCode = GoAwayPayload(lastStreamID: 0, code: ConnectionErrorCode(rawValue: 77), message: "")
        let decoded = try GoAwayPayload.decode(unknownCode.encode())
        #expect(decoded == unknownCode)
        #expect(decoded.code.description == "code 77")
    }

    @Test("A GOAWAY shorter than 8 bytes is a protocol error")
    func shortGoAway() {
        expectConnectionError(code: .protocolError) {
            try GoAwayPayload.decode(ByteBuffer(bytes: [0, 0, 0, 1]))
        }

        var thrown: ConnectionError?
        do throws(ConnectionError) {
            _ = try GoAwayPayload.decode(ByteBuffer(bytes: [0, 0, 0, 1, 0, 0]))
        } catch {
            thrown = error
        }
        #expect(thrown?.code == ConnectionErrorCode.protocolError)
        // The message counts the bytes received, not those left after lastStreamID was read.
        #expect(thrown?.message.contains("6 bytes") == true)
    }

    // MARK: CANCEL

    @Test("CancelPayload round-trips, with and without a reason")
    func cancelRoundTrip() throws {
        let cancel = CancelPayload(code: 4, reason: "deadline exceeded after 250 ms")
        let decoded = try CancelPayload.decode(cancel.encode())
        #expect(decoded == cancel)

        let bare = CancelPayload(code: 1, reason: "")
        let decodedBare = try CancelPayload.decode(bare.encode())
        #expect(decodedBare == bare)
    }

    @Test("A CANCEL shorter than 4 bytes is a protocol error")
    func shortCancel() {
        expectConnectionError(code: .protocolError, mentioning: ["3 bytes"]) {
            try CancelPayload.decode(ByteBuffer(bytes: [0, 0, 1]))
        }
    }

    // MARK: WINDOW_UPDATE

    @Test("WindowUpdatePayload round-trips", arguments: [UInt32(1), 65_535, UInt32.max])
    func windowUpdateRoundTrip(increment: UInt32) throws {
        let payload = WindowUpdatePayload.encode(increment)
        #expect(payload.readableBytes == 4)
        let decoded = try WindowUpdatePayload.decode(payload)
        #expect(decoded == increment)
    }

    @Test("A zero window increment is a protocol error")
    func zeroWindowIncrement() {
        expectConnectionError(code: .protocolError, mentioning: ["non-zero"]) {
            try WindowUpdatePayload.decode(WindowUpdatePayload.encode(0))
        }
    }

    @Test("A WINDOW_UPDATE that is not exactly 4 bytes is a protocol error")
    func windowUpdateOfWrongLength() {
        expectConnectionError(code: .protocolError) {
            try WindowUpdatePayload.decode(ByteBuffer(bytes: [0, 0, 1]))
        }
        expectConnectionError(code: .protocolError) {
            try WindowUpdatePayload.decode(ByteBuffer(bytes: [0, 0, 0, 1, 0]))
        }
    }

    // MARK: PING

    @Test("PingPayload round-trips", arguments: [UInt64(0), 0x0102_0304_0506_0708, UInt64.max])
    func pingRoundTrip(data: UInt64) throws {
        let payload = PingPayload.encode(data)
        #expect(payload.readableBytes == PingPayload.length)
        let decoded = try PingPayload.decode(payload)
        #expect(decoded == data)
    }

    @Test("A PING of 7 or 9 bytes is a protocol error")
    func pingOfWrongLength() {
        expectConnectionError(code: .protocolError, mentioning: ["got 7"]) {
            try PingPayload.decode(ByteBuffer(repeating: 1, count: 7))
        }
        expectConnectionError(code: .protocolError, mentioning: ["got 9"]) {
            try PingPayload.decode(ByteBuffer(repeating: 1, count: 9))
        }
    }
}
