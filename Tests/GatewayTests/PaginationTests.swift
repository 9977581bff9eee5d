import BenefitsAPI
import BenefitsDomain
import DisbursementService
import Foundation
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// Every list is read a page at a time, by key: all rows once, none twice, and no page larger than its limit.
@Suite("Pagination")
struct PaginationTests {
    @Test("orders, the register and the inbox, page by page: every row once; a bad token or page size refused")
    func pages() async throws {
        try await GatewayTests.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { for client in [nanhu, operatorClient] { await client.close() } } }
            // Seven enterprises on 市经信局's list, each proposed its 150万元.
            let requests = (1...7).map { GatewayTests.request(county: .nanhu, body: "91330402MA2G0000\($0)") }
            try await GatewayTests.attest(requests.map(\.profile), mesh)
            for request in requests {
                var propose = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
                propose.screen = request
                let _: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
                    GatewayMethods.screenAndPropose, propose)
            }

            var orderIDs: [String] = []
            var listOrders = Jiaxing_Benefits_V1_ListOrdersRequest()
            listOrders.limit = 3
            var pages = 0
            repeat {
                let page: Jiaxing_Benefits_V1_ListOrdersResponse = try await operatorClient.unary(
                    GatewayMethods.listOrders, listOrders)
                #expect(page.orders.count <= 3)
                orderIDs += page.orders.map(\.id)
                listOrders.pageToken = page.nextPageToken
                pages += 1
            } while !listOrders.pageToken.isEmpty && pages < 10
            #expect(orderIDs.count == 7 && Set(orderIDs).count == 7)
            #expect(pages == 3)

            var names: [String] = []
            var search = Jiaxing_Benefits_V1_SearchEnterprisesRequest()
            search.limit = 2
            repeat {
                let page: Jiaxing_Benefits_V1_SearchEnterprisesResponse = try await nanhu.unary(
                    GatewayMethods.searchEnterprises, search)
                names += page.enterprises.map(\.creditCode)
                search.pageToken = page.nextPageToken
            } while !search.pageToken.isEmpty && names.count < 20
            #expect(names == requests.map(\.profile.creditCode).sorted())

            for sequence in 1...5 {
                var event = Jiaxing_Benefits_V1_DisbursementEvent()
                event.sequence = Int64(sequence)
                event.type = "approved"
                event.order.id = "order-\(sequence)"
                event.order.creditCode = requests[0].profile.creditCode
                event.order.county = .nanhu
                event.order.clauseID = "jzf-2023-3/3.19b"
                event.order.documentID = "jzf-2023-3"
                event.order.amountFen = 150_000_000
                _ = try await mesh.notifier.record(event, catalog: GatewayTests.catalog)
            }
            var sequences: [Int64] = []
            var inbox = Jiaxing_Benefits_V1_ListInboxRequest()
            inbox.limit = 2
            repeat {
                let page: Jiaxing_Benefits_V1_ListInboxResponse = try await nanhu.unary(GatewayMethods.listInbox, inbox)
                sequences += page.notices.map(\.eventSequence)
                inbox.pageToken = page.nextPageToken
            } while !inbox.pageToken.isEmpty && sequences.count < 20
            #expect(sequences == [5, 4, 3, 2, 1])

            listOrders = Jiaxing_Benefits_V1_ListOrdersRequest()
            listOrders.pageToken = "garbage"
            let token = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListOrdersResponse = try await operatorClient.unary(
                    GatewayMethods.listOrders, listOrders)
            }
            #expect(token?.code == .invalidArgument && token?.message.contains("page_token") == true)
            listOrders = Jiaxing_Benefits_V1_ListOrdersRequest()
            listOrders.limit = Int32(DisbursementHandlers.maximumOrdersPerPage + 1)
            let size = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListOrdersResponse = try await operatorClient.unary(
                    GatewayMethods.listOrders, listOrders)
            }
            #expect(size?.code == .invalidArgument && size?.message.contains("limit: 1 to 250") == true)
        }
    }

    @Test("registration claims page by page, ties on the same millisecond included; an oversized page refused")
    func claims() async throws {
        try await GatewayTests.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { for client in [nanhu, operatorClient] { await client.close() } } }
            // Five of 海宁市's codes (authority 330481) registered by 南湖区 in one call: five claims, held.
            var register = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            register.profiles = (1...5).map {
                GatewayTests.request(county: .nanhu, body: "91330481MA2H0000\($0)").profile
            }
            let held: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                GatewayMethods.registerEnterprises, register)
            #expect(held.held == 5)
            for client in [operatorClient, nanhu] {
                var codes: [String] = []
                var list = Jiaxing_Benefits_V1_ListClaimsRequest()
                list.limit = 2
                var pages = 0
                repeat {
                    let page: Jiaxing_Benefits_V1_ListClaimsResponse = try await client.unary(
                        GatewayMethods.listClaims, list)
                    #expect(page.claims.count <= 2)
                    codes += page.claims.map(\.creditCode)
                    list.pageToken = page.nextPageToken
                    pages += 1
                } while !list.pageToken.isEmpty && pages < 10
                #expect(Set(codes) == Set(register.profiles.map(\.creditCode)) && codes.count == 5, "\(codes)")
            }
            var oversized = Jiaxing_Benefits_V1_ListClaimsRequest()
            oversized.limit = 1_001
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListClaimsResponse = try await operatorClient.unary(
                    GatewayMethods.listClaims, oversized)
            }
            #expect(refused?.message == "limit: 1 to 1000, got 1001")
        }
    }
}
