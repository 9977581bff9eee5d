import BenefitsAPI
import Foundation
import GatewayService
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// A caller's open WatchInbox streams are bounded: each holds a window of notices in flight.
@Suite("WatchInbox limits")
struct WatchInboxLimitTests {
    @Test("four watches open per caller, the fifth refused naming the limit; another caller unaffected; a slot frees")
    func perCaller() async throws {
        try await GatewayTests.withMesh { mesh in
            var event = Jiaxing_Benefits_V1_DisbursementEvent()
            event.sequence = 1
            event.type = "approved"
            event.order.id = "order-1"
            event.order.creditCode = "91330402MA2B000010"
            event.order.county = .nanhu
            event.order.clauseID = "jzf-2023-3/3.19b"
            event.order.documentID = "jzf-2023-3"
            event.order.amountFen = 150_000_000
            _ = try await mesh.notifier.record(event, catalog: GatewayTests.catalog)
            let nanhu = mesh.client("nanhu", .county)
            let haining = mesh.client("haining", .county)
            defer { Task { for client in [nanhu, haining] { await client.close() } } }
            @Sendable func watchUntilFirstNotice(_ client: MeshClient, _ received: AsyncStream<Void>.Continuation)
                async throws
            {
                try await client.serverStreaming(GatewayMethods.watchInbox, Jiaxing_Benefits_V1_WatchInboxRequest()) {
                    (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                    for try await _ in notices {
                        received.yield()
                        try await Task.sleep(for: .seconds(600))  // hold the stream open until cancelled
                    }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (opened, continuation) = AsyncStream<Void>.makeStream()
                for _ in 0..<WatchSlots.maximumPerCaller {
                    group.addTask { try await watchUntilFirstNotice(nanhu, continuation) }
                }
                // Each watch has a slot once its first notice (the replay) arrived.
                var count = 0
                for await _ in opened {
                    count += 1
                    if count == WatchSlots.maximumPerCaller { break }
                }
                let refused = await #expect(throws: RPCError.self) {
                    try await nanhu.serverStreaming(
                        GatewayMethods.watchInbox, Jiaxing_Benefits_V1_WatchInboxRequest()
                    ) { (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                        for try await _ in notices {}
                    }
                }
                #expect(refused?.code == .resourceExhausted)
                #expect(refused?.message.contains("4 WatchInbox streams open") == true, "\(refused?.message ?? "")")
                // Another county watches freely (its inbox is empty: the call runs until its deadline).
                let other = await #expect(throws: RPCError.self) {
                    try await haining.serverStreaming(
                        GatewayMethods.watchInbox, Jiaxing_Benefits_V1_WatchInboxRequest(),
                        options: CallOptions(timeout: .milliseconds(500))
                    ) { (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                        for try await _ in notices {}
                    }
                }
                #expect(other?.code == .deadlineExceeded)
                group.cancelAll()
            }
            // The four closed: their slots come free as the gateway sees each stream end.
            var reopened = false
            for _ in 0..<100 where !reopened {
                do {
                    try await nanhu.serverStreaming(
                        GatewayMethods.watchInbox, Jiaxing_Benefits_V1_WatchInboxRequest()
                    ) { (notices: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                        for try await _ in notices { break }
                    }
                    reopened = true
                } catch let error as RPCError where error.code == .resourceExhausted {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(reopened)
        }
    }
}
