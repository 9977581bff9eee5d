import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import MeshMessages
import MeshTestSupport
import NIOConcurrencyHelpers
import SQLStore
import Testing

/// The ledger on SQLite: idempotency, limits, approvals, expiry, clawback, events and the books balancing.
@Suite("Ledger")
struct LedgerTests {
    static let catalog = try! CatalogLoader.load(directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data")

    /// A clock the test moves by hand.
    final class Clock: Sendable {
        let millis = NIOLockedValueBox<Int64>(1_693_526_400_000)  // 2023-09-01
        func advance(hours: Int64) { self.millis.withLockedValue { $0 += hours * 3_600_000 } }
        var now: Int64 { self.millis.withLockedValue { $0 } }
    }

    /// Runs `body` on a fresh ledger on SQLite, then again on a fresh PostgreSQL database: both backends pass
    /// the same tests. The books must balance after each.
    static func withLedger<Result>(_ body: (Ledger, Clock) async throws -> Result) async throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let sqlite = try await Self.run(on: try SQLiteDatabase(path: path), body)
        _ = try await Self.run(on: TemporaryPostgres.shared().database(), body)
        return sqlite
    }

    static func run<Result>(on database: any SQLDatabase, _ body: (Ledger, Clock) async throws -> Result) async throws
        -> Result
    {
        let clock = Clock()
        let ledger = Ledger(
            database: database, catalog: { Self.catalog }, orderLifetime: .seconds(48 * 3600), now: { clock.now })
        try await ledger.migrate()
        let result = try await ledger.running { try await body(ledger, clock) }
        let problems = try await ledger.reconcile()
        #expect(problems.isEmpty, "\(database.dialect): \(problems)")
        return result
    }

    static let creditCode = CreditCode.completing("91330402MA2B00001")!.value

    static func request(
        clause: String, amount: Fen, subject: String = "greenFactory/national/2023-03-01", period: Int32 = 2023,
        creditCode: String = creditCode
    ) -> Ledger.ProposeRequest {
        var request = Ledger.ProposeRequest()
        request.creditCode = creditCode
        request.enterpriseName = "嘉兴示例制造有限公司"
        request.county = .nanhu
        request.clauseID = clause
        request.subject = subject
        request.period = period
        request.amountFen = amount
        return request
    }

    static func refusal(_ body: () async throws -> Void) async -> LedgerError? {
        do {
            try await body()
            return nil
        } catch let error as LedgerError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test(
        "a proposal reserves money; the same request again returns the first order; another amount under the same key is refused"
    )
    func idempotency() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let first = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            // Order ids are UUIDv7: 8-4-4-4-12 lowercase hex, version 7, variant 10.
            let parts = first.id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(first.id.allSatisfy { $0 == "-" || ("0"..."9").contains($0) || ("a"..."f").contains($0) })
            #expect(parts[2].first == "7")
            #expect(["8", "9", "a", "b"].contains(parts[3].first))
            #expect(first.status == .pending)
            #expect(!first.replayed)
            let again = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            #expect(again.id == first.id)
            #expect(again.replayed)
            let conflict = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 50_000_000))
            }
            #expect(conflict?.kind == .alreadyExists)
            #expect(conflict?.message.contains("150万元") == true)
            let fund = try await ledger.funds().funds.first { $0.documentID == "jzf-2023-3" }!
            #expect(fund.reservedFen == 150_000_000)
            #expect(fund.availableFen == 850_000_000)
        }
    }

    @Test(
        "an order keeps its screening's explanation, at most 4000 characters; migrating an existing ledger again adds nothing twice"
    )
    func explanation() async throws {
        try await Self.withLedger { ledger, _ in
            try await ledger.migrate()
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            var request = Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000)
            request.explanation = "国家级绿色工厂150万元；对经认定的国家级绿色工厂：绿色工厂 国家级 2023-03-01认定"
            let order = try await ledger.propose(request)
            #expect(try await ledger.order(id: order.id).explanation == request.explanation)
            var long = Self.request(
                clause: "jzf-2023-3/3.19b", amount: 150_000_000,
                creditCode: CreditCode.completing("91330402MA2B00002")!.value)
            long.explanation = String(repeating: "长", count: Ledger.maximumExplanationCharacters + 1)
            let refused = await Self.refusal { _ = try await ledger.propose(long) }
            #expect(refused?.kind == .invalidArgument && refused?.message.hasPrefix("explanation:") == true)
        }
    }

    @Test("a budgets file applied at a restart opens missing funds only: a budget the operator raised stays raised")
    func budgetsAtRestart() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(
                documentID: "jzf-2023-3", year: 2023, budgetFen: 200_000_000, onlyIfAbsent: true)
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 5_000_000_000)
            let restarted = try await ledger.openFund(
                documentID: "jzf-2023-3", year: 2023, budgetFen: 200_000_000, onlyIfAbsent: true)
            #expect(restarted.budgetFen == 5_000_000_000)
            let other = try await ledger.openFund(
                documentID: "jzbf-2023-32", year: 2023, budgetFen: 100_000_000, onlyIfAbsent: true)
            #expect(other.budgetFen == 100_000_000)
        }
    }

    @Test("the responsible department approves and the money moves; others may not; a decided order stays decided")
    func approval() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            let wrong = await Self.refusal { _ = try await ledger.approve(orderID: order.id, by: .department(.keji)) }
            #expect(wrong?.kind == .permissionDenied)
            #expect(wrong?.message.contains("市经信局") == true)
            clock.advance(hours: 1)
            let posted = try await ledger.approve(orderID: order.id, by: .department(.jingxin))
            #expect(posted.status == .posted)
            #expect(posted.decidedBy == "department/jingxin")
            #expect(posted.decidedAtMillis == clock.now)
            let twice = await Self.refusal {
                _ = try await ledger.approve(orderID: order.id, by: .department(.jingxin))
            }
            #expect(twice?.kind == .failedPrecondition)
            let fund = try await ledger.funds().funds.first { $0.documentID == "jzf-2023-3" }!
            #expect(fund.postedFen == 150_000_000)
            #expect(fund.reservedFen == 0)
            #expect(fund.availableFen == 850_000_000)
            let unknown = await Self.refusal {
                _ = try await ledger.approve(orderID: "no-such-order", by: .department(.jingxin))
            }
            #expect(unknown?.kind == .notFound)
        }
    }

    @Test("a rejection needs a reason and releases the reservation")
    func rejection() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 500_000_000)
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            let noReason = await Self.refusal {
                _ = try await ledger.reject(orderID: order.id, by: .department(.jingxin), reason: " ")
            }
            #expect(noReason?.kind == .invalidArgument)
            let rejected = try await ledger.reject(orderID: order.id, by: .department(.jingxin), reason: "认定文件不符")
            #expect(rejected.status == .rejected)
            #expect(try await ledger.funds().funds.first!.availableFen == 500_000_000)
        }
    }

    @Test(
        "a rejected order holds its item until the facts change: the same facts replay it, new ones propose again once, naming it"
    )
    func proposedAgain() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 500_000_000)
            let request = Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000)
            let (basisA, basisB, basisC) = (
                String(repeating: "a", count: 64), String(repeating: "b", count: 64), String(repeating: "c", count: 64)
            )
            let first = try await ledger.propose(TestMesh.sealed(request, basis: basisA))
            #expect(first.basis == basisA)
            _ = try await ledger.reject(orderID: first.id, by: .department(.jingxin), reason: "认定文件不符")

            // The same facts, or no seal at all: the department's decision stands.
            for again in [TestMesh.sealed(request, basis: basisA), request] {
                let replayed = try await ledger.propose(again)
                #expect(replayed.id == first.id)
                #expect(replayed.replayed)
                #expect(replayed.status == .rejected)
            }
            // The department corrected its record: another basis, one new order that names the first.
            let second = try await ledger.propose(TestMesh.sealed(request, basis: basisB))
            #expect(second.id != first.id)
            #expect(second.status == .pending)
            #expect(second.previousOrderID == first.id)
            #expect(second.idempotencyKey == first.idempotencyKey + "|" + String(repeating: "b", count: 16))
            #expect(second.reason.contains("重新提出") && second.reason.contains(first.id), "\(second.reason)")
            let again = try await ledger.propose(TestMesh.sealed(request, basis: basisB))
            #expect(again.id == second.id && again.replayed)
            // While that one is pending, facts changing again propose nothing more.
            let third = await Self.refusal { _ = try await ledger.propose(TestMesh.sealed(request, basis: basisC)) }
            #expect(third?.kind == .alreadyExists)
            #expect(third?.message.contains(second.idempotencyKey) == true, "\(third?.message ?? "")")
            let orders = try await ledger.orders(.init())
            #expect(orders.count == 2)
            #expect(try await ledger.funds().funds.first!.availableFen == 350_000_000)
        }
    }

    @Test("a fund never goes below zero: an order bigger than what is left is refused with both amounts")
    func fundNeverNegative() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 200_000_000)
            _ = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            let refused = await Self.refusal {
                _ = try await ledger.propose(
                    Self.request(
                        clause: "jzf-2023-3/3.19b", amount: 150_000_000,
                        creditCode: CreditCode.completing("91330402MA2B00002")!.value))
            }
            #expect(refused?.kind == .failedPrecondition)
            #expect(refused?.message.contains("50万元 available") == true)
            #expect(refused?.message.contains("150万元") == true)
            let noFund = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzbf-2023-32/4.1a", amount: 300_000_000))
            }
            #expect(noFund?.message.contains("no fund") == true)
        }
    }

    @Test(
        "就高不重复 in the ledger: a second order for the same thing in the same group pays only the difference, or nothing")
    func highestOnlyInTheLedger() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            _ = try await ledger.openFund(documentID: "jzbf-2023-32", year: 2023, budgetFen: 1_000_000_000)
            let subject = "singleChampion/national/2023-07-01"
            let first = try await ledger.propose(
                Self.request(clause: "jzbf-2023-32/4.1a", amount: 300_000_000, subject: subject))
            #expect(first.amountFen == 300_000_000)
            let second = await Self.refusal {
                _ = try await ledger.propose(
                    Self.request(clause: "jzf-2023-3/3.21a", amount: 300_000_000, subject: subject))
            }
            #expect(second?.kind == .failedPrecondition)
            #expect(second?.message.contains("就高不重复") == true)
            // People read the clause paid before by its document and article, not its id.
            #expect(second?.message.contains("已按《") == true, "\(second?.message ?? "")")
            #expect(second?.message.contains("jzbf-2023-32/4.1a") == false)
            // A smaller first award leaves the difference to pay.
            let littleGiant = "littleGiant/national/2023-06-20"
            let lower = try await ledger.propose(
                Self.request(clause: "jzf-2023-3/3.21b", amount: 100_000_000, subject: littleGiant))
            let higher = try await ledger.propose(
                Self.request(clause: "jzbf-2023-32/4.1b", amount: 150_000_000, subject: littleGiant))
            #expect(lower.amountFen == 100_000_000)
            #expect(higher.amountFen == 50_000_000)
            #expect(higher.reason.contains("就高不重复"))
            #expect(higher.reason.contains("已按《") && !higher.reason.contains("jzf-2023-3/3.21b"), "\(higher.reason)")
        }
    }

    @Test("per-year caps: 每年最高100万元 across many orders of one enterprise")
    func perYearCap() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzbf-2024-7", year: 2024, budgetFen: 1_000_000_000)
            for index in 0..<10 {
                let order = try await ledger.propose(
                    Self.request(
                        clause: "jzbf-2024-7/3.3a", amount: 10_000_000, subject: "contract-\(index)", period: 2024))
                #expect(order.amountFen == 10_000_000)
            }
            let over = await Self.refusal {
                _ = try await ledger.propose(
                    Self.request(clause: "jzbf-2024-7/3.3a", amount: 10_000_000, subject: "contract-10", period: 2024))
            }
            #expect(over?.kind == .failedPrecondition)
            #expect(over?.message.contains("每年最高100万元") == true)
            // A clause that names no department is approved by the finance bureau.
            let orders = try await ledger.orders(.init(creditCode: Self.creditCode))
            #expect(try await ledger.approve(orderID: orders[0].id, by: .department(.caizheng)).status == .posted)
        }
    }

    @Test(
        "decisions in one batch: an enterprise's orders paid together, a rejection with its reason, a second decision, an unknown order and another department refused on their own"
    )
    func decisionsTogether() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzbf-2024-7", year: 2024, budgetFen: 1_000_000_000)
            var orders: [Ledger.Order] = []
            for index in 0..<3 {
                orders.append(
                    try await ledger.propose(
                        Self.request(
                            clause: "jzbf-2024-7/3.3a", amount: 10_000_000, subject: "contract-\(index)", period: 2024))
                )
            }
            let caizheng = Ledger.Decider.department(.caizheng)
            let results = try await ledger.decide(together: [
                (orders[0].id, caizheng, true, ""), (orders[1].id, caizheng, true, ""),
                (orders[2].id, caizheng, false, "合同未备案"), (orders[0].id, caizheng, true, ""),
                ("no-such-order", caizheng, true, ""), (orders[1].id, .department(.keji), false, "不符"),
            ])
            let decided = results.compactMap { try? $0.get() }
            #expect(decided.map(\.status) == [.posted, .posted, .rejected])
            #expect(decided[2].reason == "合同未备案" && decided.allSatisfy { $0.decidedBy == "department/caizheng" })
            let refusals = results.compactMap { result -> LedgerError.Kind? in
                if case .failure(let error) = result { return error.kind } else { return nil }
            }
            #expect(refusals == [.failedPrecondition, .notFound, .permissionDenied])
            let fund = try #require(try await ledger.funds().funds.first { $0.documentID == "jzbf-2024-7" })
            #expect(fund.postedFen == 20_000_000 && fund.reservedFen == 0)
            let stored = try await ledger.orders(.init(creditCode: Self.creditCode))
            #expect(stored.filter { $0.status == .posted }.count == 2)
            #expect(stored.first { $0.id == orders[2].id }?.reason == "合同未备案")
            // Each decision has its event, as one at a time (an enterprise's are leased one after another).
            var types: [String] = []
            for _ in 0..<20 {
                let events = try await ledger.outbox.lease(
                    group: "audit", consumer: "test", maximumInFlight: 100, leaseMillis: 60_000)
                guard !events.isEmpty else { break }
                types += events.map(\.type)
                _ = try await ledger.outbox.acknowledge(group: "audit", sequences: events.map(\.sequence))
            }
            #expect(types == ["proposed", "proposed", "proposed", "approved", "approved", "rejected"])
        }
    }

    @Test("bad input is refused naming the field; nothing changes")
    func badInput() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let negative = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: -1))
            }
            #expect(negative?.message.hasPrefix("amount_fen:") == true)
            let overCap = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_001))
            }
            #expect(overCap?.kind == .invalidArgument)
            #expect(overCap?.message.contains("150万元") == true)
            let unknown = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzf-2099-1/1", amount: 100))
            }
            #expect(unknown?.kind == .notFound)
            let badCode = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 100, creditCode: "12345"))
            }
            #expect(badCode?.message.hasPrefix("credit_code:") == true)
            let manual = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzbf-2023-38/2.4.15a", amount: 100))
            }
            #expect(manual?.kind == .failedPrecondition)
            // Money has a ceiling far above any budget, checked before anything is written: Int64.max as a
            // budget used to commit and then break every sum of the funds.
            let hugeBudget = await Self.refusal {
                _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2024, budgetFen: Int64.max)
            }
            #expect(hugeBudget?.kind == .invalidArgument)
            #expect(hugeBudget?.message.contains("budget_fen: 1 to 1000000000000 fen") == true)
            let hugeAmount = await Self.refusal {
                _ = try await ledger.propose(Self.request(clause: "jzbf-2023-36/2.1b", amount: Money.maximumFen + 1))
            }
            #expect(hugeAmount?.message.hasPrefix("amount_fen: 1 to 1000000000000 fen") == true)
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2025, budgetFen: Money.maximumFen)
            #expect(try await ledger.orders(.init()).isEmpty)
            let funds = try await ledger.funds().funds
            #expect(funds.count == 2)
            #expect(funds.first { $0.year == 2023 }?.availableFen == 1_000_000_000)
            #expect(funds.first { $0.year == 2025 }?.availableFen == Money.maximumFen)
        }
    }

    @Test("the tables themselves refuse a budget or a transfer over the money ceiling, on both stores")
    func ceilingInTheTables() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let databases: [any SQLDatabase] = [
            try SQLiteDatabase(path: path), try await TemporaryPostgres.shared().database(),
        ]
        for database in databases {
            let clock = Clock()
            let ledger = Ledger(
                database: database, catalog: { Self.catalog }, orderLifetime: .seconds(3600), now: { clock.now })
            try await ledger.migrate()
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 100_000_000)
            _ = try await ledger.running {
                try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 20_000_000))
            }
            // Writes that bypass the code's checks, as a wrong migration or a hand-made fix would.
            let writes: [(String, [SQLValue])] = [
                ("UPDATE accounts SET budget_fen = ? WHERE kind = 'fund'", [.integer(Money.maximumFen + 1)]),
                ("UPDATE orders SET amount_fen = ?", [.integer(Money.maximumFen + 1)]),
                ("UPDATE orders SET requested_fen = ?", [.integer(Money.maximumFen + 1)]),
                (
                    "INSERT INTO transfers (order_id, debit_account, credit_account, amount_fen, kind, created_at) SELECT NULL, 'treasury', id, ?, 'budget', 0 FROM accounts WHERE kind = 'fund'",
                    [.integer(Money.maximumFen + 1)]
                ),
                (
                    "INSERT INTO transfers (order_id, debit_account, credit_account, amount_fen, kind, created_at) SELECT NULL, 'treasury', id, ?, 'budget', 0 FROM accounts WHERE kind = 'fund'",
                    [.integer(0)]
                ),
            ]
            for (sql, parameters) in writes {
                var refused = false
                do {
                    try await database.transaction { tx in try await tx.execute(sql, parameters) }
                } catch {
                    refused = true
                    #expect("\(error)".lowercased().contains("check"), "\(database.dialect): \(error)")
                }
                #expect(refused, "\(database.dialect) accepted \(sql) with \(parameters)")
            }
            // Nothing of it was written: the books still balance and the fund keeps its budget.
            #expect(try await ledger.reconcile().isEmpty)
            #expect(try await ledger.funds().funds.map(\.budgetFen) == [100_000_000])
            #expect(try await ledger.orders(.init()).map(\.amountFen) == [20_000_000])
        }
    }

    @Test("pending orders expire; an approval after the expiry is refused and changes nothing")
    func expiry() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            clock.advance(hours: 49)
            let late = await Self.refusal { _ = try await ledger.approve(orderID: order.id, by: .department(.jingxin)) }
            #expect(late?.kind == .failedPrecondition)
            #expect(late?.message.contains("expired") == true)
            #expect(try await ledger.expireDue() == 1)
            #expect(try await ledger.order(id: order.id).status == .expired)
            #expect(try await ledger.funds().funds.first!.reservedFen == 0)
        }
    }

    @Test("a clawback restores the fund and records what the enterprise owes")
    func clawback() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            let pending = await Self.refusal {
                _ = try await ledger.clawback(
                    orderID: order.id, by: .operator("operator"), trigger: "withdrawal", reason: "一年内撤资")
            }
            #expect(pending?.kind == .failedPrecondition)
            _ = try await ledger.approve(orderID: order.id, by: .department(.jingxin))
            let back = try await ledger.clawback(
                orderID: order.id, by: .operator("operator"), trigger: "withdrawal", reason: "一年内撤资")
            #expect(back.status == .clawedBack)
            #expect(try await ledger.funds().funds.first!.availableFen == 1_000_000_000)
        }
    }

    @Test("group commit: concurrent proposals with duplicates make exactly one order per key")
    func concurrentProposals() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000_000)
            let codes = (0..<400).map { CreditCode.completing("9133040" + String(format: "%010d", $0))!.value }
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for attempt in 0..<3 {
                    for code in codes {
                        group.addTask {
                            let order = try await ledger.propose(
                                Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000, creditCode: code))
                            return attempt == 0 ? order.id : order.id
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(ids.count == 1_200)
            #expect(Set(ids).count == 400)
            #expect(try await ledger.orders(.init(limit: 1000)).count == 400)
            #expect(try await ledger.funds().funds.first!.reservedFen == 400 * 150_000_000)
        }
    }

    @Test("events are leased in order per enterprise, redelivered when the lease ends, and gone once acknowledged")
    func events() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            _ = try await ledger.approve(orderID: order.id, by: .department(.jingxin))
            let other = CreditCode.completing("91330402MA2B00002")!.value
            _ = try await ledger.propose(
                Self.request(clause: "jzf-2023-3/3.19b", amount: 50_000_000, creditCode: other))
            // The first enterprise's "approved" waits until its "proposed" is acknowledged.
            let first = try await ledger.outbox.lease(
                group: "notification", consumer: "a", maximumInFlight: 10, leaseMillis: 30_000)
            #expect(first.map(\.type) == ["proposed", "proposed"])
            #expect(Set(first.map(\.order.creditCode)).count == 2)
            // An event tells the order as it was then: the first order is approved by now, its "proposed" says
            // pending; the rest comes from the order's row.
            #expect(
                first[0].order.id == order.id && first[0].order.status == .pending && first[0].order.decidedBy.isEmpty)
            #expect(
                first[0].order.amountFen == 150_000_000 && first[0].order.clauseID == "jzf-2023-3/3.19b"
                    && first[0].order.enterpriseName == order.enterpriseName)
            // Another consumer of the group gets nothing while the leases run.
            #expect(
                try await ledger.outbox.lease(
                    group: "notification", consumer: "b", maximumInFlight: 10, leaseMillis: 30_000
                )
                .isEmpty)
            // A different group sees everything on its own.
            #expect(
                try await ledger.outbox.lease(group: "audit", consumer: "x", maximumInFlight: 10, leaseMillis: 30_000)
                    .count
                    == 2)
            _ = try await ledger.outbox.acknowledge(group: "notification", sequences: [first[0].sequence])
            let next = try await ledger.outbox.lease(
                group: "notification", consumer: "a", maximumInFlight: 10, leaseMillis: 30_000)
            #expect(next.map(\.type) == ["approved"])
            #expect(
                next[0].order.status == .posted && next[0].order.decidedBy == "department/jingxin"
                    && next[0].order.amountFen == 150_000_000)
            // Consumer a goes away: after the lease, b gets what a never acknowledged.
            clock.advance(hours: 1)
            let redelivered = try await ledger.outbox.lease(
                group: "notification", consumer: "b", maximumInFlight: 10, leaseMillis: 30_000)
            #expect(Set(redelivered.map(\.sequence)) == Set([first[1].sequence, next[0].sequence]))
            _ = try await ledger.outbox.acknowledge(group: "notification", sequences: redelivered.map(\.sequence))
            clock.advance(hours: 1)
            #expect(
                try await ledger.outbox.lease(
                    group: "notification", consumer: "b", maximumInFlight: 10, leaseMillis: 30_000
                )
                .isEmpty)
        }
    }

    @Test("the events' signal rings on each commit that appends or acknowledges events, never on a lease alone")
    func eventSignal() async throws {
        try await Self.withLedger { ledger, _ in
            let signal = ledger.outbox.signal
            var seen = signal.generation
            func rang() -> Bool {
                defer { seen = signal.generation }
                return signal.generation > seen
            }
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            #expect(!rang(), "opening a fund appends no event")
            let order = try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000))
            #expect(rang(), "a proposal's event")
            _ = try await ledger.approve(orderID: order.id, by: .department(.jingxin))
            #expect(rang(), "an approval's event")
            let leased = try await ledger.outbox.lease(
                group: "g", consumer: "a", maximumInFlight: 1, leaseMillis: 30_000)
            #expect(leased.count == 1)
            #expect(!rang(), "a lease appends nothing: followers do not wake each other")
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 1, leaseMillis: 30_000)
                    .isEmpty)
            #expect(!rang())
            _ = try await ledger.outbox.acknowledge(group: "g", sequences: leased.map(\.sequence))
            #expect(rang(), "an acknowledgement makes room for the next lease")
        }
    }

    @Test("events acknowledged out of order: the group's cursor stops before the first open one, which is leased again")
    func eventCursor() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            for index in 1...6 {
                _ = try await ledger.propose(
                    Self.request(
                        clause: "jzf-2023-3/3.19b", amount: 50_000_000,
                        creditCode: CreditCode.completing("91330402MA2B0001\(index)")!.value))
            }
            let all = try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000)
            #expect(all.count == 6)
            let sequences = all.map(\.sequence)
            _ = try await ledger.outbox.acknowledge(
                group: "g", sequences: [sequences[0], sequences[1], sequences[3], sequences[4]])
            clock.advance(hours: 1)
            let open = try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000)
            #expect(open.map(\.sequence) == [sequences[2], sequences[5]])
            _ = try await ledger.outbox.acknowledge(group: "g", sequences: [sequences[2]])
            clock.advance(hours: 1)
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000).map(
                    \.sequence) == [sequences[5]])
            _ = try await ledger.outbox.acknowledge(group: "g", sequences: [sequences[5]])
            clock.advance(hours: 1)
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000)
                    .isEmpty)
            // Past the cursor, a new event is leased; another group still sees all seven.
            _ = try await ledger.propose(
                Self.request(
                    clause: "jzf-2023-3/3.19b", amount: 50_000_000,
                    creditCode: CreditCode.completing("91330402MA2B00017")!.value))
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000).count
                    == 1)
            #expect(
                try await ledger.outbox.lease(group: "other", consumer: "x", maximumInFlight: 10, leaseMillis: 1_000)
                    .count
                    == 7)
        }
    }

    @Test(
        "an acknowledgement naming a sequence with no event is refused naming it, and acknowledges none of its list; twice is no harm"
    )
    func acknowledgeRefusals() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            for index in 1...3 { try await LedgerOutboxTests.propose(ledger, index) }
            let leased = try await ledger.outbox.lease(
                group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000)
            let sequences = leased.map(\.sequence)
            #expect(sequences.count == 3)
            let missing = (sequences.max() ?? 0) + 1_000
            let error = await Self.refusal {
                _ = try await ledger.outbox.acknowledge(group: "g", sequences: [sequences[0], missing, missing + 1])
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message == "sequences: no event \(missing)")
            // Nothing of the refused list was acknowledged: all three are offered again once the lease ends.
            clock.advance(hours: 1)
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000).map(
                    \.sequence) == sequences)
            #expect(try await ledger.outbox.acknowledge(group: "g", sequences: []) == 0)
            #expect(
                try await ledger.outbox.acknowledge(group: "g", sequences: sequences + [sequences[0]]) == 4,
                "each sequence of the list counts, a repeat too")
            #expect(try await ledger.outbox.acknowledge(group: "g", sequences: sequences) == 3)
            #expect(
                try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 1_000)
                    .isEmpty)
        }
    }

    @Test("a proposed order's event, encoded by hand for its time, is the bytes SwiftProtobuf writes")
    func proposedEventEncoding() throws {
        for at: Int64 in [0, 1, 127, 128, 16_383, 16_384, 1_795_388_870_303, Int64.max, -1] {
            var event = LedgerOutbox.Event()
            event.type = "proposed"
            event.order.status = .pending
            event.atMillis = at
            let expected: [UInt8] = try event.serializedBytes()
            #expect(LedgerOutbox.proposedEvent(at: at) == expected, "at \(at)")
        }
    }

    @Test("兑付率: the share of promised money paid by each target date")
    func payoutRates() async throws {
        try await Self.withLedger { ledger, clock in
            _ = try await ledger.openFund(documentID: "jzbf-2023-38", year: 2023, budgetFen: 1_000_000_000)
            clock.millis.withLockedValue { $0 = 1_688_140_800_000 }  // 2023-07-01
            var ids: [String] = []
            for index in 0..<4 {
                ids.append(
                    try await ledger.propose(
                        Self.request(clause: "jzbf-2023-38/2.1.4b", amount: 50_000_000, subject: "award-\(index)")
                    ).id)
            }
            for id in ids.prefix(3) { _ = try await ledger.approve(orderID: id, by: .department(.jingxin)) }
            let rates = try await ledger.payoutRates(documentID: "jzbf-2023-38")
            let september = try #require(rates.first { $0.by.month == 9 })
            #expect(september.targetBasisPoints == 10_000)
            #expect(september.promisedFen == 200_000_000)
            #expect(september.paidFen == 150_000_000)
            #expect(september.achievedBasisPoints == 7_500)
        }
    }
}

extension LedgerTests {
    @Test(
        "a batch of 45 orders, written 32, 8 and one at a time: every order and event reads back as answered, and by enterprise"
    )
    func multiRowWrites() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzbf-2024-7", year: 2024, budgetFen: 1_000_000_000_000)
            // Three enterprises, fifteen contracts of 7万元 each under 每年最高100万元: the fifteenth is cut to 2万元
            // (an order not as drafted, with a reason), so rows of both kinds share the multi-row statements.
            var requests: [Ledger.ProposeRequest] = []
            for index in 0..<45 {
                let code = CreditCode.completing("9133041" + String(format: "%010d", index / 15))!.value
                requests.append(
                    Self.request(
                        clause: "jzbf-2024-7/3.3a", amount: 7_000_000, subject: "contract-\(index)", period: 2024,
                        creditCode: code))
            }
            let answered = try await ledger.propose(together: requests).map { try $0.get() }
            #expect(answered.filter { $0.amountFen == 2_000_000 && $0.reason.contains("每年最高100万元") }.count == 3)
            let stored = Dictionary(
                uniqueKeysWithValues: try await ledger.orders(.init(limit: 1000)).map { ($0.id, $0) })
            #expect(stored.count == 45)
            for order in answered { #expect(stored[order.id] == order) }
            // One enterprise's orders (on SQLite found by the range of its keys), with other terms of the filter.
            for enterprise in 0..<3 {
                let code = CreditCode.completing("9133041" + String(format: "%010d", enterprise))!.value
                let listed = try await ledger.orders(
                    .init(creditCode: code.lowercased(), status: .pending, county: .nanhu))
                #expect(Set(listed.map(\.id)) == Set(answered.filter { $0.creditCode == code }.map(\.id)))
                #expect(listed.count == 15)
            }
            // An enterprise's events come one at a time, each after the one before is acknowledged.
            var events: [LedgerOutbox.Event] = []
            while true {
                let leased = try await ledger.outbox.lease(
                    group: "test", consumer: "test", maximumInFlight: 1000, leaseMillis: 60_000)
                guard !leased.isEmpty, events.count < 100 else { break }
                events += leased
                _ = try await ledger.outbox.acknowledge(group: "test", sequences: leased.map(\.sequence))
            }
            #expect(events.count == 45)
            #expect(Set(events.map(\.order.id)) == Set(answered.map(\.id)))
            for event in events {
                #expect(event.type == "proposed")
                #expect(event.order == stored[event.order.id])
                #expect(event.atMillis == stored[event.order.id]?.createdAtMillis)
            }
        }
    }
}

extension LedgerTests {
    @Test("one batch keeps every limit across its own orders: per-year cap, 就高不重复, the fund's balance, repeated keys")
    func batchSeesItsOwnOrders() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzbf-2024-7", year: 2024, budgetFen: 1_000_000_000)
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            _ = try await ledger.openFund(documentID: "jzbf-2023-32", year: 2023, budgetFen: 1_000_000_000)
            var requests: [Ledger.ProposeRequest] = []
            // 每年最高100万元: twelve contracts of 10万元 in one batch, the last two over the cap.
            for index in 0..<12 {
                requests.append(
                    Self.request(
                        clause: "jzbf-2024-7/3.3a", amount: 10_000_000, subject: "contract-\(index)", period: 2024))
            }
            // 就高不重复: the same recognition under two clauses of one group; the second pays the difference.
            let littleGiant = "littleGiant/national/2023-06-20"
            requests.append(Self.request(clause: "jzf-2023-3/3.21b", amount: 100_000_000, subject: littleGiant))
            requests.append(Self.request(clause: "jzbf-2023-32/4.1b", amount: 150_000_000, subject: littleGiant))
            // The fund of jzf-2023-3 has 1,000万元, 100万元 of it reserved above: six awards of 150万元 fit, the
            // seventh does not.
            for index in 0..<7 {
                requests.append(
                    Self.request(
                        clause: "jzf-2023-3/3.19b", amount: 150_000_000,
                        creditCode: CreditCode.completing("9133040" + String(format: "%010d", index))!.value))
            }
            // The first award again (same key): the same order; with another amount: refused.
            requests.append(requests[14])
            var other = requests[14]
            other.amountFen = 20_000_000
            requests.append(other)
            // A bad request is refused on its own; the rest go on.
            requests.append(Self.request(clause: "no-such-clause", amount: 1))

            let results = try await ledger.propose(together: requests)
            func order(_ index: Int) -> Ledger.Order? { try? results[index].get() }
            func refusal(_ index: Int) -> LedgerError? {
                if case .failure(let error) = results[index] { return error as? LedgerError }
                return nil
            }
            #expect((0..<10).allSatisfy { order($0)?.amountFen == 10_000_000 })
            #expect(refusal(10)?.message.contains("每年最高100万元") == true)
            #expect(refusal(11)?.kind == .failedPrecondition)
            #expect(order(12)?.amountFen == 100_000_000)
            #expect(order(13)?.amountFen == 50_000_000 && order(13)?.reason.contains("就高不重复") == true)
            #expect((14..<20).allSatisfy { order($0)?.amountFen == 150_000_000 })
            #expect(refusal(20)?.message.contains("available") == true)
            #expect(order(21)?.id == order(14)?.id && order(21)?.replayed == true)
            #expect(refusal(22)?.kind == .alreadyExists)
            #expect(refusal(23)?.kind == .notFound)
            // What the batch wrote is what it answered: the orders, and the reservations of each fund.
            let funds = Dictionary(
                uniqueKeysWithValues: try await ledger.funds().funds.map { ($0.account, $0.reservedFen) })
            #expect(funds["fund:jzbf-2024-7:2024"] == 100_000_000)
            let reserved = funds["fund:jzf-2023-3:2023"] ?? -1  // 100万元 and six of 150万元: the whole budget
            #expect(reserved == 1_000_000_000, "\(funds)")
            #expect(funds["fund:jzbf-2023-32:2023"] == 50_000_000)
            #expect(try await ledger.orders(.init(limit: 1000)).count == 18)

            // Keys are matched as written, whatever they hold: quotes, braces, commas, backslashes, Chinese.
            var odd = Self.request(
                clause: "jzbf-2024-7/3.3a", amount: 10_000_000, subject: #"合同 "A", {B} \ C"#, period: 2024,
                creditCode: CreditCode.completing("91330402MA2B00009")!.value)
            let first = try await ledger.propose(together: [odd])[0].get()
            let again = try await ledger.propose(together: [odd, requests[0]])
            #expect(try again[0].get().id == first.id && again[0].get().replayed)
            #expect(try again[1].get().replayed)
            odd.amountFen = 5_000_000
            #expect(await Self.refusal { _ = try await ledger.propose(odd) }?.kind == .alreadyExists)
        }
    }
}

extension LedgerTests {
    static func describe(_ result: Result<Ledger.Order, any Error>) -> String {
        switch result {
        case .success(let order): return "order \(order.id)"
        case .failure(let error as LedgerError): return "\(error.kind): \(error.message)"
        case .failure(let error): return "other: \(error)"
        }
    }

    @Test("two replicas on one PostgreSQL ledger: concurrent batches never overdraw the fund or pay a key twice")
    func replicasShareOnePostgresLedger() async throws {
        let postgres = try await TemporaryPostgres.shared()
        let name = try await postgres.makeDatabase()
        func replica() async throws -> Ledger {
            Ledger(database: try await postgres.database(name), catalog: { Self.catalog })
        }
        let (first, second) = (try await replica(), try await replica())
        try await first.migrate()
        // Room for six awards of 150万元. Each replica proposes for its own twelve enterprises in one batch (so
        // each alone would accept six), both at once; the first four enterprises also go through the other
        // replica one by one (the same key twice).
        _ = try await first.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
        let codes = (0..<24).map { CreditCode.completing("9133041" + String(format: "%010d", $0))!.value }
        let request: @Sendable (String) -> Ledger.ProposeRequest = {
            Self.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000, creditCode: $0)
        }
        let outcomes = try await first.running {
            try await second.running { await Self.race(first, second, codes, request) }
        }
        let orders = try await first.orders(.init(limit: 100))
        #expect(orders.count == 6, "\(outcomes)")
        #expect(Set(orders.map(\.creditCode)).count == 6)
        // Every answer is the order that exists for its key, or a refusal for want of money.
        let byCode = Dictionary(uniqueKeysWithValues: orders.map { ($0.creditCode, $0.id) })
        for (code, outcome) in outcomes {
            if let id = byCode[code] {
                #expect(outcome == "order \(id)" || outcome.contains("available"), "\(code): \(outcome)")
            } else {
                #expect(outcome.hasPrefix("failedPrecondition") && outcome.contains("available"), "\(code): \(outcome)")
            }
        }
        #expect(try await second.funds().funds.first?.reservedFen == 6 * 150_000_000)
        #expect(try await second.reconcile().isEmpty)
    }

    /// Each replica proposes for its half of `codes` in one batch, both at once, and the first four codes also
    /// go through the other replica one by one; returns each code's outcomes in words.
    static func race(
        _ first: Ledger, _ second: Ledger, _ codes: [String],
        _ request: @escaping @Sendable (String) -> Ledger.ProposeRequest
    ) async -> [(String, String)] {
        await withTaskGroup(of: [(String, String)].self) { group in
            for (replica, ledger) in [first, second].enumerated() {
                let mine = codes.enumerated().filter { $0.offset % 2 == replica }.map(\.element)
                group.addTask {
                    do {
                        return zip(mine, try await ledger.propose(together: mine.map(request))).map {
                            ($0, Self.describe($1.mapError { $0 as any Error }))
                        }
                    } catch {
                        return mine.map { ($0, "other: \(error)") }
                    }
                }
                for code in codes.prefix(4) where !mine.contains(code) {
                    group.addTask {
                        do {
                            return [(code, Self.describe(.success(try await ledger.propose(request(code)))))]
                        } catch {
                            return [(code, Self.describe(.failure(error)))]
                        }
                    }
                }
            }
            return await group.reduce(into: [(String, String)]()) { $0 += $1 }
        }
    }
}

extension LedgerTests {
    @Test(
        "texts passed to PostgreSQL as one array parameter come back as they were: quotes, backslashes, braces, commas, blanks"
    )
    func postgresArrays() async throws {
        let database = try await TemporaryPostgres.shared().database()
        let texts = [#"a"b"#, #"c\d"#, "{e}", "f,g", "嘉兴", "", "NULL", " h "]
        let rows = try await database.read { tx in
            try await tx.query(
                "SELECT t FROM unnest(?::text[]) WITH ORDINALITY AS a(t, n) ORDER BY n",
                [.text(Ledger.postgresArray(texts))])
        }
        #expect(rows.map { $0.text(0) } == texts)
    }
}

extension LedgerTests {
    @Test(
        "one enterprise however its credit code is spelled (a ligature, lower case): the same key, the same caps, one order"
    )
    func creditCodeSpellings() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let code = try #require(CreditCode.completing("91330402MA2FF0K01")).value
            let ligature = code.replacingOccurrences(of: "FF", with: "\u{FB00}")  // 'ﬀ', upper-cased "FF"
            let first = try await ledger.propose(
                Self.request(clause: "jzf-2023-3/3.19b", amount: 20_000_000, creditCode: ligature))
            #expect(Array(first.creditCode.utf8) == Array(code.utf8))
            #expect(first.idempotencyKey.hasPrefix(code + "|"))
            // The plain and the lower-case spellings find it, alone and in one batch with the ligature again.
            #expect(
                try await ledger.propose(Self.request(clause: "jzf-2023-3/3.19b", amount: 20_000_000, creditCode: code))
                    .replayed)
            let batch = try await ledger.propose(
                together: [code.lowercased(), ligature].map {
                    Self.request(clause: "jzf-2023-3/3.19b", amount: 20_000_000, creditCode: $0)
                })
            #expect(try batch.allSatisfy { try $0.get().id == first.id })
            #expect(try await ledger.orders(.init(creditCode: ligature)).map(\.id) == [first.id])
        }
    }
}
