import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayService
import GatewayStore
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// Every text a party sends the gateway is bounded: nothing of megabytes is kept, listed or sent on.
@Suite("Gateway text limits")
struct GatewayTextLimitTests {
    @Test(
        "a 3 MiB name, a 2 MiB reason: refused naming the field; in a batch only that line; the register and the queue unharmed"
    )
    func refusedNamingTheField() async throws {
        try await GatewayTests.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { for client in [nanhu, jingxin] { await client.close() } } }
            let limit = GatewayHandlers.textLimit.maximumCharacters

            var register = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            var huge = GatewayTests.request(county: .nanhu, body: "91330402MA2F00001").profile
            huge.name = String(repeating: "企", count: 1 << 20)  // 3 MiB of UTF-8
            register.profiles = [huge]
            let named = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                    GatewayMethods.registerEnterprises, register)
            }
            #expect(named?.code == .invalidArgument)
            #expect(named?.message == "profiles[0].name: at most \(limit) characters, got \(1 << 20)")
            // Under the text limit but over the register's own for names.
            huge.name = String(repeating: "企", count: GatewayStore.maximumNameLength + 1)
            register.profiles = [huge]
            let long = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                    GatewayMethods.registerEnterprises, register)
            }
            #expect(long?.message.hasPrefix("profiles[0].name: at most 200 characters") == true)
            #expect(try await mesh.store.enterprise(creditCode: huge.creditCode) == nil)

            // A batch: the oversized line is refused on its own, the others are screened.
            let lines = [
                GatewayTests.request(county: .nanhu, body: "91330402MA2F00002"),
                {
                    var request = GatewayTests.request(county: .nanhu, body: "91330402MA2F00003")
                    request.profile.name = String(repeating: "名", count: limit + 1)
                    return request
                }(),
                GatewayTests.request(county: .nanhu, body: "91330402MA2F00004"),
            ]
            let results = try await nanhu.bidirectional(
                GatewayMethods.screenBatch,
                requests: { writer in
                    for line in lines { try await writer.write(line) }
                },
                responses: { (responses: ResponseStream<Jiaxing_Benefits_V1_ScreeningResult>) in
                    var results: [Jiaxing_Benefits_V1_ScreeningResult] = []
                    for try await result in responses { results.append(result) }
                    return results
                })
            #expect(results.count == 3)
            #expect(results[1].error.message == "profile.name: at most \(limit) characters, got \(limit + 1)")
            #expect(results[0].totalEligibleFen == 150_000_000 && results[2].totalEligibleFen == 150_000_000)

            // A rejection reason of 2 MiB never becomes a notice or an audit line of that size.
            var reject = Jiaxing_Benefits_V1_DecideRequest()
            reject.orderID = "does-not-matter"
            reject.reason = String(repeating: "不", count: 700_000)  // 2 MiB of UTF-8
            let reason = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await jingxin.unary(GatewayMethods.reject, reject)
            }
            #expect(reason?.message == "reason: at most \(limit) characters, got 700000")
            #expect(mesh.audit.entries().allSatisfy { ($0["reason"]?.count ?? 0) <= limit })
        }
    }
}
