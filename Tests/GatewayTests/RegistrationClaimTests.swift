import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// Registering an enterprise: a county registers its own; a credit code of another county's registration
/// authority, or one registered elsewhere, is held as a claim the operator resolves, never first come,
/// first served.
@Suite("Registration claims")
struct RegistrationClaimTests {
    @Test(
        "another county's code is held, seen by both, nothing paid on it until the operator transfers it; a squatter is refused",
        arguments: TestStore.allCases)
    func heldUntilResolved(store: TestStore) async throws {
        try await GatewayTests.withMesh(store: store) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let haining = mesh.client("haining", .county)
            let jiashan = mesh.client("jiashan", .county)
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { for client in [nanhu, haining, jiashan, operatorClient] { await client.close() } } }
            // 海宁市's enterprise (authority 330481) that nobody registered yet; 南湖区 tries to take it first.
            var squat = GatewayTests.request(county: .nanhu, body: "91330481MA2D00001")
            try await GatewayTests.attest([squat.profile], mesh)
            var register = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            register.profiles = [squat.profile]
            let held: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                GatewayMethods.registerEnterprises, register)
            #expect(held.added == 0 && held.held == 1)
            #expect(held.claims.first?.reason == "registration authority 330481 is 海宁市's")
            // Nothing is paid on a held registration.
            var propose = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
            propose.screen = squat
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
                    GatewayMethods.screenAndPropose, propose)
            }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.message.contains("held for the operator") == true, "\(refused?.message ?? "")")
            #expect(try await mesh.ledger.orders(.init(creditCode: squat.profile.creditCode)).isEmpty)

            // The rightful county registers it and is paid; the claim stays for the operator, seen by both.
            squat.profile.county = .haining
            register.profiles = [squat.profile]
            let added: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await haining.unary(
                GatewayMethods.registerEnterprises, register)
            #expect(added.added == 1)
            propose.screen = squat
            let paid: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await haining.unary(
                GatewayMethods.screenAndPropose, propose)
            #expect(paid.proposals.first?.order.amountFen == 150_000_000)
            for client in [nanhu, haining] {
                let listed: Jiaxing_Benefits_V1_ListClaimsResponse = try await client.unary(
                    GatewayMethods.listClaims, Jiaxing_Benefits_V1_ListClaimsRequest())
                #expect(listed.claims.map(\.creditCode) == [squat.profile.creditCode])
                #expect(listed.claims.first?.registeredIn == .haining)
            }
            let third: Jiaxing_Benefits_V1_ListClaimsResponse = try await jiashan.unary(
                GatewayMethods.listClaims, Jiaxing_Benefits_V1_ListClaimsRequest())
            #expect(third.claims.isEmpty)

            // Only the operator resolves, with a reason; the decision is audited and final.
            var resolve = Jiaxing_Benefits_V1_ResolveClaimRequest()
            resolve.creditCode = squat.profile.creditCode
            resolve.claimant = .nanhu
            resolve.transfer = false
            let countyResolves = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_RegistrationClaim = try await nanhu.unary(
                    GatewayMethods.resolveClaim, resolve)
            }
            #expect(countyResolves?.code == .permissionDenied)
            let noReason = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_RegistrationClaim = try await operatorClient.unary(
                    GatewayMethods.resolveClaim, resolve)
            }
            #expect(noReason?.code == .invalidArgument && noReason?.message.hasPrefix("reason:") == true)
            resolve.reason = "统一社会信用代码登记机关为海宁市"
            let resolved: Jiaxing_Benefits_V1_RegistrationClaim = try await operatorClient.unary(
                GatewayMethods.resolveClaim, resolve)
            #expect(resolved.status == .refused && resolved.resolvedBy == "operator/operator")
            let again = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_RegistrationClaim = try await operatorClient.unary(
                    GatewayMethods.resolveClaim, resolve)
            }
            #expect(again?.code == .alreadyExists)
            #expect(
                mesh.audit.entries().contains {
                    $0["method"] == "ResolveClaim" && $0["outcome"] == "refused" && $0["claimant"] == "nanhu"
                })
            #expect(try await mesh.store.registeredCounty(creditCode: squat.profile.creditCode) == .haining)
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }
}
