import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import SQLStore
import Testing

/// Kills the disbursement process with SIGKILL in the middle of a stream of payout orders, restarts it,
/// replays every request, and checks the books.
@Suite("Disbursement crash safety")
struct CrashSafetyTests {
    @Test("SIGKILL mid-stream: no key paid twice, no acknowledged order lost, the books balance")
    func killAndReplay() async throws {
        let folder = try TemporaryMeshFolder(parties: [
            ("catalog", .service), ("disbursement", .service), ("nanhu", .county), ("operator", .operator),
            ("jingxin", .department), ("gateway", .service), ("eligibility", .service),
        ])
        defer { folder.remove() }
        let budgets = "\(folder.path)/budgets.json"
        try #"[{"documentId": "jzf-2023-3", "year": 2023, "budgetFen": 100000000000}]"#.write(
            toFile: budgets, atomically: true, encoding: .utf8)
        let catalog = MeshProcess(
            name: "catalog", port: MeshProcess.freePort(),
            arguments: [
                "--certificates", folder.certificates, "--data", "\(TestMesh.repositoryRoot)/Services/Catalog/Data",
                "--log-level", "warning",
            ], log: "\(folder.path)/catalog.log")
        let database = "\(folder.path)/ledger.sqlite"
        let disbursement = MeshProcess(
            name: "disbursement", port: MeshProcess.freePort(),
            arguments: [
                "--certificates", folder.certificates, "--catalog-port", "\(catalog.port)", "--database", database,
                "--budgets", budgets, "--log-level", "warning",
            ], log: "\(folder.path)/disbursement.log")
        try catalog.start()
        defer { catalog.stop() }
        try await catalog.waitUntilServing(tls: try folder.tls("operator", serverHostname: "catalog"))
        try disbursement.start()
        try await disbursement.waitUntilServing(tls: try folder.tls("operator", serverHostname: "disbursement"))
        // The ledger is its owner's alone (the service's umask 077): not readable by group or others.
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: database)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o077 == 0, "ledger.sqlite mode \(String(mode.intValue, radix: 8))")

        let total = 400
        let signer = try folder.signer()
        let requests = (0..<total).map { index in
            var request = LedgerTests.request(
                clause: "jzf-2023-3/3.19b", amount: 20_000_000,
                creditCode: CreditCode.completing("9133040" + String(format: "%010d", index))!.value)
            request.county = .nanhu
            return TestMesh.sealed(request, signer: signer)
        }
        let acknowledged = NIOLockedValueBox([Int: String]())  // request index → order id the service answered
        let client = MeshClient(
            // The ledger answers the gateway only: the test plays it, acting for the county.
            configuration: .init(
                port: disbursement.port, tls: try folder.tls("gateway", serverHostname: "disbursement")),
            logger: TestMesh.logger)
        defer { Task { await client.close() } }

        // Send everything, 8 at a time; kill the service once a quarter has been answered. If the senders end
        // first (every proposal refused), the killer stops waiting and the expectations below say so.
        let sent = NIOLockedValueBox(false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while acknowledged.withLockedValue({ $0.count }) < total / 4, !sent.withLockedValue({ $0 }) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                disbursement.kill()
            }
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { senders in
                    for lane in 0..<8 {
                        senders.addTask {
                            for index in stride(from: lane, to: total, by: 8) {
                                if let order: Jiaxing_Benefits_V1_PayoutOrder = try? await client.unary(
                                    DisbursementMethods.proposePayout, requests[index],
                                    options: .onBehalfOf("county/nanhu", timeout: .seconds(2)))
                                {
                                    acknowledged.withLockedValue { $0[index] = order.id }
                                }
                            }
                        }
                    }
                    try await senders.waitForAll()
                }
                sent.withLockedValue { $0 = true }
            }
            try await group.waitForAll()
        }
        let beforeCrash = acknowledged.withLockedValue { $0 }
        #expect(beforeCrash.count >= total / 4)
        #expect(beforeCrash.count < total, "the kill came after every request was answered; the test proved nothing")

        // Restart and replay every request, as a client retrying would. A generous deadline: the restarted
        // process is cold and, in a full test run, shares two cores with a whole mesh of other tests.
        try disbursement.start()
        try await disbursement.waitUntilServing(tls: try folder.tls("operator", serverHostname: "disbursement"))
        var afterRestart: [Int: String] = [:]
        for (index, request) in requests.enumerated() {
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await client.unary(
                DisbursementMethods.proposePayout, request, options: .onBehalfOf("county/nanhu", timeout: .seconds(30)))
            afterRestart[index] = order.id
        }
        for (index, id) in beforeCrash {
            #expect(
                afterRestart[index] == id, "order of request \(index) answered before the crash was lost or replaced")
        }
        #expect(Set(afterRestart.values).count == total)
        #expect(disbursement.stop() == 0)

        // The books, read straight from the database file.
        let ledger = Ledger(database: try SQLiteDatabase(path: database), catalog: { LedgerTests.catalog })
        #expect(try await ledger.reconcile() == [])
        let funds = try await ledger.funds()
        #expect(funds.funds.first?.reservedFen == Int64(total) * 20_000_000)
        #expect(funds.funds.first?.availableFen == 100_000_000_000 - Int64(total) * 20_000_000)
        #expect(try await ledger.orders(.init(limit: 1000)).count == total)
    }
}
