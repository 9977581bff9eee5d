import MeshProtocol
import NIOCore

/// Feeds arbitrary bytes to the frame decoder, then every decoded frame to a server-side connection state
/// machine: neither may crash, whatever arrives. Errors are the expected outcome for most inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder(maxFrameSize: 64 * 1024)
    var machine = ConnectionStateMachine(
        role: .server,
        localSettings: ConnectionSettings(maxFrameSize: 64 * 1024, maxConcurrentStreams: 8, initialWindowSize: 4096),
        now: .uptimeNanoseconds(0)
    )
    var now: UInt64 = 0
    while true {
        let event: FrameDecoderEvent?
        do {
            event = try decoder.decode(buffer: &buffer)
        } catch {
            return 0
        }
        guard let event else { return 0 }
        now += 1_000_000
        switch event {
        case .preface:
            machine.receivePreface(now: .uptimeNanoseconds(now))
        case .frame(let frame):
            switch machine.receive(frame, now: .uptimeNanoseconds(now)) {
            case .connectionError:
                return 0
            case .deliverMessage(let stream, let payload):
                _ = machine.consumed(streamID: stream, size: payload.readableBytes)
                _ = machine.sendMessage(streamID: stream, size: payload.readableBytes)
            case .openStream(let stream, _):
                if stream % 3 == 0 { _ = machine.closeStream(streamID: stream, now: .uptimeNanoseconds(now)) }
            default:
                break
            }
            _ = machine.tick(now: .uptimeNanoseconds(now))
        }
    }
}
