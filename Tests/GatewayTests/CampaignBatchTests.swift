import BenefitsAPI
import BenefitsDomain
import DisbursementService
import EligibilityService
import Foundation
import MeshIdentity
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTestSupport
import Testing

/// The calls a campaign is made of: a page screened in one call, its proposals and a department's decisions
/// in one call each. Every element is checked as the one-at-a-time call checks it, and a refusal stays on
/// its own line.
@Suite("Campaign batches")
struct CampaignBatchTests {
    static func screen(
        _ profiles: [Jiaxing_Benefits_V1_EnterpriseProfile], clauses: [String] = ["jzf-2023-3/3.19b"],
        department: String = "", _ mesh: GatewayTests.Mesh
    ) async throws -> Jiaxing_Benefits_V1_CampaignScreenResponse {
        var request = Jiaxing_Benefits_V1_CampaignScreenRequest()
        request.profiles = profiles
        request.asOf = CalendarDate("2023-09-01")!.message
        request.clauseIds = clauses
        request.department = department
        return try await mesh.services.eligibility.call(idempotent: true) { client in
            try await client.unary(EligibilityMethods.screenCampaign, request)
        }
    }

    @Test("a campaign's page is screened in one call: only its clauses come back, sealed; a bad profile on its line")
    func screenCampaign() async throws {
        try await GatewayTests.withMesh { mesh in
            let good = GatewayTests.request(county: .nanhu, body: "91330402MA2H00001").profile
            var bad = good
            bad.creditCode = "91330402"
            let screened = try await Self.screen([good, bad], mesh)
            #expect(screened.enterprises.map(\.creditCode) == [good.creditCode, bad.creditCode])
            let payable = try #require(screened.enterprises.first?.payable)
            #expect(payable.map(\.citation.clauseID) == ["jzf-2023-3/3.19b"])
            #expect(payable.allSatisfy { $0.hasSeal && $0.amountFen == 150_000_000 })
            #expect(screened.enterprises[1].error.message.hasPrefix("profile.credit_code:"))
            // 市科技局 does not decide 3.19b: its campaign keeps nothing of it.
            let keji = try await Self.screen([good], department: Department.keji.rawValue, mesh)
            #expect(keji.enterprises.first?.payable.isEmpty == true)

            let tooMany = Array(repeating: good, count: EligibilityHandlers.maximumCampaignProfiles + 1)
            let oversized = await #expect(throws: RPCError.self) { try await Self.screen(tooMany, mesh) }
            #expect(oversized?.code == .invalidArgument)
            // The gateway's pool names the service a refusal comes from.
            #expect(oversized?.message == "eligibility: profiles: at most 500 a call, got 501")
            let unknown = await #expect(throws: RPCError.self) {
                try await Self.screen([good], department: "nobody", mesh)
            }
            #expect(unknown?.message == "eligibility: department: no department of the city 'nobody'")
            let none = await #expect(throws: RPCError.self) { try await Self.screen([good], clauses: [], mesh) }
            #expect(none?.message.hasPrefix("eligibility: clause_ids:") == true)
        }
    }

    @Test("proposals in one call are each checked against their seal and scope; the department decides in one call")
    func proposeAndDecide() async throws {
        try await GatewayTests.withMesh { mesh in
            let profiles = ["91330402MA2H00001", "91330402MA2H00002", "91330402MA2H00003"].map {
                GatewayTests.request(county: .nanhu, body: $0).profile
            }
            let screened = try await Self.screen(profiles, mesh)
            var proposals = zip(profiles, screened.enterprises).flatMap { profile, screening in
                screening.payable.map { Jiaxing_Benefits_V1_ProposePayoutRequest(decision: $0, for: profile) }
            }
            #expect(proposals.count == 3)
            // One signature for the page: each seal proves its statement's place under it.
            #expect(Set(proposals.map(\.seal.signature)).count == 1)
            #expect(proposals.map(\.seal.leafIndex) == [0, 1, 2] && proposals.allSatisfy { $0.seal.leafCount == 3 })
            var wrongPlace = proposals[0]
            wrongPlace.seal.leafIndex = 1
            proposals[1].amountFen += 1  // a figure changed on the way
            proposals[2].clearSeal()
            var batch = Jiaxing_Benefits_V1_ProposePayoutsRequest()
            batch.proposals = proposals + [wrongPlace]

            // A county reaching disbursement itself may propose only for its own enterprises.
            let haining = mesh.disbursementClient("haining", .county)
            let gateway = mesh.disbursementClient("gateway", .service)
            let jingxin = mesh.disbursementClient("jingxin", .department)
            let keji = mesh.disbursementClient("keji", .department)
            defer { Task { for client in [haining, gateway, jingxin, keji] { await client.close() } } }
            let foreign: Jiaxing_Benefits_V1_ProposePayoutsResponse = try await haining.unary(
                DisbursementMethods.proposePayouts, batch)
            #expect(foreign.outcomes.allSatisfy { $0.code == RPCStatusCode.permissionDenied.rawValue })

            let answer: Jiaxing_Benefits_V1_ProposePayoutsResponse = try await gateway.unary(
                DisbursementMethods.proposePayouts, batch)
            #expect(answer.outcomes.count == 4)
            // Another place under the root leads to another root: the signature does not cover it.
            #expect(
                answer.outcomes[3].message.contains("seal: the signature does not match"),
                "\(answer.outcomes[3].message)")
            #expect(answer.outcomes[0].hasOrder && answer.outcomes[0].order.amountFen == 150_000_000)
            #expect(answer.outcomes[1].code == RPCStatusCode.failedPrecondition.rawValue)
            #expect(answer.outcomes[1].message.contains("amount_fen"), "\(answer.outcomes[1].message)")
            #expect(answer.outcomes[2].message.hasPrefix("\(profiles[2].creditCode) jzf-2023-3/3.19b: seal: required"))
            // Sent again: the same order, replayed, never a second.
            let again: Jiaxing_Benefits_V1_ProposePayoutsResponse = try await gateway.unary(
                DisbursementMethods.proposePayouts, batch)
            #expect(again.outcomes[0].order.id == answer.outcomes[0].order.id && again.outcomes[0].order.replayed)
            #expect(try await mesh.ledger.orders(.init(limit: 100)).count == 1)

            var tooMany = Jiaxing_Benefits_V1_ProposePayoutsRequest()
            tooMany.proposals = Array(
                repeating: proposals[0], count: DisbursementHandlers.maximumProposalsPerCall + 1)
            let oversized = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ProposePayoutsResponse = try await gateway.unary(
                    DisbursementMethods.proposePayouts, tooMany)
            }
            #expect(oversized?.message == "proposals: at most 500 a call, got 501")

            // Decisions: 市科技局 is not responsible; a rejection needs its reason; 市经信局 approves, and an
            // unknown order is refused on its own line.
            let order = answer.outcomes[0].order.id
            var decide = Jiaxing_Benefits_V1_DecideOrdersBatchRequest()
            decide.orderIds = [order, "no-such-order"]
            decide.approve = true
            let notTheirs: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await keji.unary(
                DisbursementMethods.decideOrdersBatch, decide)
            #expect(
                notTheirs.outcomes.map(\.code) == [
                    RPCStatusCode.permissionDenied.rawValue, RPCStatusCode.notFound.rawValue,
                ])
            decide.approve = false
            let noReason = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await jingxin.unary(
                    DisbursementMethods.decideOrdersBatch, decide)
            }
            #expect(noReason?.message == "reason: a rejection says why")
            decide.approve = true
            let decided: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await jingxin.unary(
                DisbursementMethods.decideOrdersBatch, decide)
            #expect(decided.outcomes[0].order.status == .posted)
            #expect(decided.outcomes[0].order.decidedBy == "department/jingxin")
            #expect(decided.outcomes[1].message == "order no-such-order: order_id: no order 'no-such-order'")
            // Decided once: the same call again changes nothing.
            let twice: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await jingxin.unary(
                DisbursementMethods.decideOrdersBatch, decide)
            #expect(twice.outcomes[0].code == RPCStatusCode.failedPrecondition.rawValue)
            // A selection needs its limit, and only a department's selection takes orders.
            var selecting = Jiaxing_Benefits_V1_DecideOrdersBatchRequest()
            selecting.approve = true
            let noLimit = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await jingxin.unary(
                    DisbursementMethods.decideOrdersBatch, selecting)
            }
            #expect(noLimit?.message == "limit: 1 to 1000 with a selection, got 0")
            selecting.limit = 10
            let notADepartment = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await gateway.unary(
                    DisbursementMethods.decideOrdersBatch, selecting)
            }
            #expect(notADepartment?.code == .permissionDenied)
            decide.orderIds = Array(repeating: order, count: DisbursementHandlers.maximumDecisionsPerCall + 1)
            let tooManyOrders = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersBatchResponse = try await jingxin.unary(
                    DisbursementMethods.decideOrdersBatch, decide)
            }
            #expect(tooManyOrders?.message == "order_ids: at most 1000 a call, got 1001")
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }
}
