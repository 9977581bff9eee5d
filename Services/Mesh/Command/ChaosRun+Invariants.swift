import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshHarness
import MeshMessages
import MeshPKI
import MeshRPC
import NotificationCore
import SQLStore
import ServiceKit

extension ChaosRun {
    /// The catalog's revision and documents as the operator reads them through the gateway.
    func catalogFingerprint() async throws -> Data {
        let operatorClient = try self.client("operator")
        let response: Jiaxing_Benefits_V1_ListDocumentsResponse = try await self.retrying {
            try await operatorClient.unary(
                GatewayMethods.listDocuments, Jiaxing_Benefits_V1_ListDocumentsRequest(),
                options: CallOptions(timeout: .seconds(10)))
        }
        return try response.serializedData()
    }

    /// An HTTPS receiver for every county's webhook (the mesh-cli certificate, trusted through the mesh CA).
    func startReceiver() async throws -> WebhookReceiver {
        let directory = CertificateDirectory(path: self.target.certificates)
        let receiver = try WebhookReceiver(
            certificatePEM: String(contentsOfFile: directory.certificatePath("mesh-cli"), encoding: .utf8),
            privateKeyPEM: String(contentsOfFile: directory.privateKeyPath("mesh-cli"), encoding: .utf8)
        )
        try await receiver.start(host: self.target.webhookListen)
        for county in Self.counties {
            let client = try self.client(county.partyName)
            var register = Jiaxing_Benefits_V1_RegisterWebhookRequest()
            register.url = "https://\(self.target.webhookHost):\(receiver.port)/chaos/\(county.partyName)"
            register.secrets = WebhookSignature.makeSecret()
            register.batchSize = self.webhookBatch
            let _: Jiaxing_Benefits_V1_RegisterWebhookResponse = try await self.retrying {
                try await client.unary(
                    GatewayMethods.registerWebhook, register, options: CallOptions(timeout: .seconds(10)))
            }
        }
        return receiver
    }

    /// Raises the 2023 fund of jzf-2023-3 by what the run pays, so every payout can be accepted.
    func fundTheRun() async throws {
        let operatorClient = try self.client("operator")
        let funds: Jiaxing_Benefits_V1_ListFundsResponse = try await self.retrying {
            try await operatorClient.unary(
                GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest(),
                options: CallOptions(timeout: .seconds(10)))
        }
        let current = funds.funds.first { $0.account == "fund:jzf-2023-3:2023" }?.budgetFen ?? 0
        // Opening funds is the operator's, through the gateway like every party's call.
        let needed = Fen(self.payouts) * Self.awardFen
        guard needed <= Money.maximumFen - current else {
            throw ChaosError(
                "\(self.payouts) payouts of \(Money.chinese(Self.awardFen)) need \(Money.chinese(needed)) more in one fund, which holds at most \(Money.chinese(Money.maximumFen)) (\(Money.chinese(current)) already): run at most \((Money.maximumFen - current) / Self.awardFen)"
            )
        }
        var open = Jiaxing_Benefits_V1_OpenFundRequest()
        open.documentID = "jzf-2023-3"
        open.year = 2023
        open.budgetFen = current + needed
        let _: Jiaxing_Benefits_V1_FundBalance = try await self.retrying {
            try await operatorClient.unary(GatewayMethods.openFund, open, options: CallOptions(timeout: .seconds(10)))
        }
    }

    /// 市经信局 publishes the run's enterprises on its 绿色工厂 list, a thousand records a call: the mesh pays on
    /// the department's records, not on what the counties send.
    func publishTheRun() async throws {
        let jingxin = try self.client(Department.jingxin.partyName)
        var start = 0
        while start < self.payouts {
            let end = min(start + 1000, self.payouts)
            var request = Jiaxing_Benefits_V1_PublishRecordsRequest()
            request.records = (start..<end).map { index in
                let profile = self.profile(index)
                var record = Jiaxing_Benefits_V1_PublishedRecord()
                record.creditCode = profile.creditCode
                record.reference = "混沌演练绿色工厂名单#\(index)"
                record.recognition = profile.recognitions[0]
                return record
            }
            let response: Jiaxing_Benefits_V1_PublishRecordsResponse = try await self.retrying {
                try await jingxin.unary(
                    GatewayMethods.publishRecords, request, options: CallOptions(timeout: .seconds(30)))
            }
            guard response.refused.isEmpty else {
                throw ChaosError("市经信局's list was refused: \(response.refused.prefix(3).map(\.message))")
            }
            start = end
        }
    }

    /// Each accepted order's "proposed" and "approved" notices reached its county's webhook, each made once
    /// (one notice id per order and event), alone or in a batch. Deliveries of one notice more than once are
    /// counted, not failed: a crash between sending and recording repeats a delivery, and the notice's id is
    /// what receivers dedupe on.
    func checkNotices(_ receiver: WebhookReceiver, within wait: Duration) async throws -> [String] {
        let orders = self.accepted.withLockedValue { $0 }
        let expected = orders.count * 2
        let deadline = ContinuousClock.now + wait
        // Bodies are read once each, as they arrive.
        var read = 0
        var requests = 0
        var deliveries: [String: Int] = [:]
        var noticeIDs: [String: Set<String>] = [:]
        func readArrived() {
            let arrived = receiver.requests
            for request in arrived[read...] where request.path.hasPrefix("/chaos/") {
                requests += 1
                for notice in DemoCommand.notices(request.body) {
                    deliveries[notice.id, default: 0] += 1
                    if orders[notice.orderID] != nil {
                        noticeIDs["\(notice.orderID) \(notice.eventType)", default: []].insert(notice.id)
                    }
                }
            }
            read = arrived.count
        }
        readArrived()
        while noticeIDs.count < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            readArrived()
        }
        let repeated = deliveries.values.filter { $0 > 1 }.count
        print(
            "notices: \(deliveries.count) distinct notices of \(expected) expected in \(requests) deliveries, \(deliveries.values.reduce(0, +)) carried (\(repeated) notices delivered more than once)"
        )
        var failures: [String] = []
        var missing = 0
        var twice = 0
        for id in orders.keys {
            for event in ["proposed", "approved"] {
                switch noticeIDs["\(id) \(event)"]?.count ?? 0 {
                case 0: missing += 1
                case 1: break
                default: twice += 1
                }
            }
        }
        if missing > 0 { failures.append("\(missing) notices never reached their county's webhook") }
        if twice > 0 {
            failures.append("\(twice) notices were made more than once (several ids for one order and event)")
        }
        return failures
    }

    /// The ledger itself: every accepted order there and posted, no order nobody was told of, one payout
    /// transfer per order, no fund below zero, every balance equal to its transfers, debits equal to credits.
    func checkLedger() async throws -> [String] {
        guard let ledger = self.target.ledgerDatabase else {
            return ["the ledger's database is not known: name it with --ledger-database"]
        }
        let database = try DatabaseOption.open(ledger, logger: self.logger)
        let accepted = self.accepted.withLockedValue { $0 }
        let pattern = "________\(self.codeMark)%"
        let (orders, doubled, balances, accounts) = try await database.running {
            try await database.read { tx in
                (
                    try await tx.query("SELECT id, status FROM orders WHERE credit_code LIKE ?", [.text(pattern)]),
                    try await tx.query(
                        "SELECT order_id FROM transfers WHERE kind = 'payout' GROUP BY order_id HAVING COUNT(*) > 1", []
                    ),
                    try await tx.query(
                        "SELECT account, SUM(delta) FROM (SELECT credit_account AS account, amount_fen AS delta FROM transfers UNION ALL SELECT debit_account AS account, -amount_fen AS delta FROM transfers) moves GROUP BY account",
                        []
                    ),
                    try await tx.query("SELECT id, kind, balance_fen, reserved_fen FROM accounts", [])
                )
            }
        }
        var failures: [String] = []
        let stored = Dictionary(orders.map { ($0.text(0), $0.integer(1)) }, uniquingKeysWith: { first, _ in first })
        let lost = accepted.keys.filter { stored[$0] == nil }
        if !lost.isEmpty { failures.append("\(lost.count) accepted orders are not in the ledger, e.g. \(lost.first!)") }
        let unknown = stored.keys.filter { accepted[$0] == nil }
        if !unknown.isEmpty {
            failures.append(
                "\(unknown.count) orders in the ledger were never answered to their proposer, e.g. \(unknown.first!)")
        }
        let unpaid = stored.filter { $0.value != Int64(Jiaxing_Benefits_V1_PayoutOrder.Status.posted.rawValue) }
        if !unpaid.isEmpty { failures.append("\(unpaid.count) orders are not posted, e.g. \(unpaid.first!.key)") }
        if !doubled.isEmpty { failures.append("\(doubled.count) orders were paid twice, e.g. \(doubled[0].text(0))") }
        let sums = Dictionary(balances.map { ($0.text(0), $0.integer(1)) }, uniquingKeysWith: +)
        var debits: Int64 = 0
        for account in accounts {
            let (id, kind, balance, reserved) = (
                account.text(0), account.text(1), account.integer(2), account.integer(3)
            )
            if balance != sums[id, default: 0] {
                failures.append("account \(id): balance \(balance) but its transfers sum to \(sums[id, default: 0])")
            }
            if kind == "fund", balance - reserved < 0 {
                failures.append("fund \(id) is below zero: \(balance - reserved) fen available")
            }
            debits += balance
        }
        if debits != 0 { failures.append("debits and credits differ by \(debits) fen") }
        print(
            "ledger: \(stored.count) orders of this run, \(accepted.count) accepted by the mesh, \(accounts.count) accounts reconciled"
        )
        return failures
    }
}
