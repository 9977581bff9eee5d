import MeshProtocol
import NIOCore
import NIOTestUtils
import Testing

/// One frame of every type, with empty, small and multi-hundred-byte payloads.
private func sampleFrames() -> [Frame] {
    [
        Frame(type: .headers, streamID: 1, payload: ByteBuffer(string: "request head")),
        Frame(type: .message, streamID: 1, payload: ByteBuffer(repeating: 0x2A, count: 300)),
        Frame(type: .end, streamID: 1),
        Frame(type: .windowUpdate, streamID: 1, payload: WindowUpdatePayload.encode(4096)),
        Frame(type: .ping, flags: FrameFlags.ack, streamID: 0, payload: PingPayload.encode(0x0102_0304_0506_0708)),
        Frame(type: .settings, streamID: 0, payload: ConnectionSettings().encode()),
        Frame(type: .trailers, streamID: 3, payload: ByteBuffer(bytes: [0x08, 0x00])),
        Frame(type: .cancel, streamID: 5, payload: CancelPayload(code: 1, reason: "gone").encode()),
        Frame(
            type: .goAway, streamID: 0, payload: GoAwayPayload(lastStreamID: 5, code: .noError, message: "bye").encode()
        ),
    ]
}

private func encoded(_ frames: [Frame]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for frame in frames {
        frame.encode(into: &buffer)
    }
    return buffer
}

private func prefaceBytes(major: UInt8, minor: UInt8) -> ByteBuffer {
    var buffer = ByteBuffer()
    ConnectionPreface(major: major, minor: minor).encode(into: &buffer)
    return buffer
}

/// A 10-byte frame header with an arbitrary length and raw type, and no payload.
private func header(length: UInt32, rawType: UInt8, streamID: UInt32 = 1) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(length)
    buffer.writeInteger(rawType)
    buffer.writeInteger(UInt8(0))
    buffer.writeInteger(streamID)
    return buffer
}

/// A decoder that has already read the current preface, so it expects frames.
private func decoderAfterPreface(maxFrameSize: Int = ConnectionSettings.defaultMaxFrameSize) throws -> FrameDecoder {
    var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    var buffer = prefaceBytes(major: ConnectionPreface.current.major, minor: ConnectionPreface.current.minor)
    let event = try decoder.decode(buffer: &buffer)
    #expect(event == FrameDecoderEvent.preface(ConnectionPreface.current))
    #expect(buffer.readableBytes == 0)
    return decoder
}

/// Feeds `bytes` to a fresh decoder in chunks of `chunkSize`, the way a channel would, and returns every event.
private func decodeAll(_ bytes: ByteBuffer, chunkSize: Int) throws -> [FrameDecoderEvent] {
    let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder())
    var events: [FrameDecoderEvent] = []
    var remaining = bytes
    while remaining.readableBytes > 0 {
        let chunk = remaining.readSlice(length: min(chunkSize, remaining.readableBytes))!
        try processor.process(buffer: chunk) { event in
            events.append(event)
        }
    }
    try processor.finishProcessing(seenEOF: true) { event in
        events.append(event)
    }
    #expect(processor.unprocessedBytes == 0)
    return events
}

@Suite("FrameDecoder")
struct FrameDecoderTests {
    // The verifier feeds every input several times, in shuffled order, to one decoder. The preface is only valid
    // once at the start of a connection, so the verifier gets a decoder that has already read it; the preface
    // followed by frames is covered by `prefaceThenFramesInAnyChunking`.
    @Test("ByteToMessageDecoderVerifier: frames of every type, drip-fed and batched")
    func verifierDecodesEveryFrameType() throws {
        let primed = try decoderAfterPreface()
        var pairs: [(ByteBuffer, [FrameDecoderEvent])] = sampleFrames().map { frame in
            (encoded([frame]), [FrameDecoderEvent.frame(frame)])
        }
        // One input carrying two frames yields both.
        let twoFrames = [
            Frame(type: .message, streamID: 7, payload: ByteBuffer(string: "last message")),
            Frame(type: .end, streamID: 7),
        ]
        pairs.append((encoded(twoFrames), twoFrames.map { FrameDecoderEvent.frame($0) }))

        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs, decoderFactory: { primed })
    }

    @Test("Preface then frames decode the same whatever the chunking", arguments: [1, 3, 7, 10, 11, 64, 100_000])
    func prefaceThenFramesInAnyChunking(chunkSize: Int) throws {
        var bytes = prefaceBytes(major: 1, minor: 0)
        var frameBytes = encoded(sampleFrames())
        bytes.writeBuffer(&frameBytes)

        let events = try decodeAll(bytes, chunkSize: chunkSize)

        let expected =
            [FrameDecoderEvent.preface(ConnectionPreface(major: 1, minor: 0))]
            + sampleFrames().map { FrameDecoderEvent.frame($0) }
        #expect(events == expected)
    }

    @Test("A newer minor version is accepted and reported")
    func newerMinorVersionIsAccepted() throws {
        var decoder = FrameDecoder()
        var buffer = prefaceBytes(major: 1, minor: 9)
        let event = try decoder.decode(buffer: &buffer)
        #expect(event == FrameDecoderEvent.preface(ConnectionPreface(major: 1, minor: 9)))
    }

    @Test("A frame longer than maxFrameSize is refused from its header alone")
    func oversizeFrameIsRejectedFromHeader() throws {
        var decoder = try decoderAfterPreface(maxFrameSize: 1024)
        // Only the header: none of the 1025 announced payload bytes have arrived.
        var buffer = header(length: 1025, rawType: FrameType.message.rawValue, streamID: 7)
        expectConnectionError(code: .frameSizeError, mentioning: ["1025", "1024"]) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test("A frame of exactly maxFrameSize is accepted")
    func frameAtTheLimitIsAccepted() throws {
        var decoder = try decoderAfterPreface(maxFrameSize: 1024)
        var buffer = header(length: 1024, rawType: FrameType.message.rawValue, streamID: 7)
        let headerOnly = try decoder.decode(buffer: &buffer)
        #expect(headerOnly == nil)
        buffer.writeRepeatingByte(0x41, count: 1024)
        let event = try decoder.decode(buffer: &buffer)
        let expected = Frame(type: .message, streamID: 7, payload: ByteBuffer(repeating: 0x41, count: 1024))
        #expect(event == FrameDecoderEvent.frame(expected))
        #expect(buffer.readableBytes == 0)
    }

    @Test("An unknown frame type is a protocol error naming the type")
    func unknownFrameTypeIsRejected() throws {
        var decoder = try decoderAfterPreface()
        var buffer = header(length: 0, rawType: 0x0A)
        expectConnectionError(code: .protocolError, mentioning: ["0xa"]) {
            try decoder.decode(buffer: &buffer)
        }

        var zeroDecoder = try decoderAfterPreface()
        var zeroBuffer = header(length: 4, rawType: 0x00)
        expectConnectionError(code: .protocolError, mentioning: ["0x0"]) {
            try zeroDecoder.decode(buffer: &zeroBuffer)
        }
    }

    @Test("Plaintext HTTP is refused as a bad preface at its first byte")
    func httpRequestIsRejectedAtFirstByte() {
        var decoder = FrameDecoder()
        var firstByte = ByteBuffer(string: "G")
        expectConnectionError(code: .badPreface, mentioning: ["\"G\""]) {
            try decoder.decode(buffer: &firstByte)
        }

        var wholeRequest = FrameDecoder()
        var request = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: mesh\r\n\r\n")
        expectConnectionError(code: .badPreface, mentioning: ["JXMESH", "\"GET / \""]) {
            try wholeRequest.decode(buffer: &request)
        }
    }

    @Test("A preface is refused as soon as the first differing byte arrives")
    func prefaceIsRejectedAtFirstDifferingByte() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        for byte in Array("JXME".utf8) {
            buffer.writeInteger(byte)
            let event = try decoder.decode(buffer: &buffer)
            #expect(event == nil, "a matching prefix needs more bytes")
        }
        #expect(buffer.readableBytes == 4, "nothing is consumed before the whole preface arrived")
        buffer.writeString("Z")
        expectConnectionError(code: .badPreface, mentioning: ["JXMEZ"]) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test("A different major version is refused")
    func majorVersionMismatchIsRejected() {
        var decoder = FrameDecoder()
        var buffer = prefaceBytes(major: 2, minor: 0)
        expectConnectionError(code: .unsupportedVersion, mentioning: ["2.0", "1.x"]) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test("A truncated frame needs more data and is not an error")
    func truncatedFrameNeedsMoreData() throws {
        var decoder = try decoderAfterPreface()
        let frame = Frame(type: .message, streamID: 3, payload: ByteBuffer(repeating: 0x07, count: 100))
        let whole = encoded([frame])

        // Part of the header.
        var partialHeader = whole.getSlice(at: whole.readerIndex, length: 3)!
        let fromPartialHeader = try decoder.decode(buffer: &partialHeader)
        #expect(fromPartialHeader == nil)
        #expect(partialHeader.readableBytes == 3)

        // The header and half the payload.
        var buffer = whole.getSlice(at: whole.readerIndex, length: Frame.headerLength + 50)!
        let fromHalf = try decoder.decode(buffer: &buffer)
        #expect(fromHalf == nil)
        #expect(buffer.readableBytes == Frame.headerLength + 50, "nothing is consumed from an incomplete frame")

        // The rest arrives.
        var rest = whole.getSlice(at: whole.readerIndex + Frame.headerLength + 50, length: 50)!
        buffer.writeBuffer(&rest)
        let event = try decoder.decode(buffer: &buffer)
        #expect(event == FrameDecoderEvent.frame(frame))
        #expect(buffer.readableBytes == 0)
    }

    @Test("Frame.encode writes the 10-byte header and payload, and decodes back to the same frame")
    func frameEncodeRoundTrip() throws {
        let frame = Frame(
            type: .trailers,
            flags: FrameFlags(rawValue: 0x80),
            streamID: 0x0102_0304,
            payload: ByteBuffer(string: "trailers payload")
        )
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)

        #expect(buffer.readableBytes == Frame.headerLength + 16)
        #expect(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) == 16)
        #expect(buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self) == FrameType.trailers.rawValue)
        #expect(buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self) == 0x80)
        #expect(buffer.getInteger(at: buffer.readerIndex + 6, as: UInt32.self) == 0x0102_0304)
        #expect(buffer.getString(at: buffer.readerIndex + Frame.headerLength, length: 16) == "trailers payload")

        var decoder = try decoderAfterPreface()
        let event = try decoder.decode(buffer: &buffer)
        #expect(event == FrameDecoderEvent.frame(frame))
        #expect(buffer.readableBytes == 0)
    }

    @Test("The preface is the JXMESH magic followed by major and minor")
    func prefaceEncoding() {
        var buffer = ByteBuffer()
        ConnectionPreface.current.encode(into: &buffer)
        #expect(buffer.readableBytes == ConnectionPreface.length)
        #expect(Array(buffer.readableBytesView) == Array("JXMESH".utf8) + [1, 0])
    }
}
