import MeshMessages
import MeshWire
import Testing

@testable import MeshRPC

@Suite("MeshClient")
struct MeshClientTests {
    @Test(
        "a request head's timeout is measured from the caller's deadline when the stream opens, not when the call began"
    )
    func timeoutMeasuredWhenTheStreamOpens() throws {
        var head = Mesh_Rpc_V1_RequestHead()
        head.method = "/mesh.testing.v1.TestService/EmptyCall"
        head.timeoutMicros = 60_000_000  // measured when the call began
        // Connecting, or a first attempt a GOAWAY refused, used up all but (at most) 20 s of it.
        let deadline = ContinuousClock.now + .seconds(20)
        let remeasured = try MeshClient.remeasured(head, deadline: deadline)
        #expect(
            remeasured.timeoutMicros > 0 && remeasured.timeoutMicros <= 20_000_000, "\(remeasured.timeoutMicros) µs")
        #expect(remeasured.method == head.method)
        // No deadline: the head goes as it is.
        #expect(try MeshClient.remeasured(head, deadline: nil).timeoutMicros == 60_000_000)
        // A deadline already passed: the call is not sent at all.
        let expired = #expect(throws: RPCError.self) {
            try MeshClient.remeasured(head, deadline: .now - .milliseconds(1))
        }
        #expect(expired?.code == .deadlineExceeded)
    }
}
