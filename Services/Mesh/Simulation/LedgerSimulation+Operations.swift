import BenefitsDomain
import Foundation
import Ledger
import MeshMessages
import MeshRPC

extension LedgerSimulation.Run {
    /// What a caller got: an answer, a refusal (the ledger said no, which is an answer too), nothing because
    /// a fault cut the call off (it may or may not have happened), or a failure that says the call was
    /// never taken (so it did not happen).
    enum Outcome<Value> {
        case answered(Value)
        case refused(LedgerError)
        case cut
        case notTaken
    }

    /// Runs one call. An error that is not the ledger's refusal is a fault's doing (the disk's or the
    /// network's), allowed only while one is injected; otherwise it fails the run.
    func attempt<Value>(_ step: Int, _ what: String, _ body: () async throws -> Value) async throws -> Outcome<Value> {
        self.networkFault = false
        self.strayCopy = false
        let result: Result<Value, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        if let broken = self.broken { throw broken }
        switch result {
        case .success(let value):
            self.report.answered += 1
            return .answered(value)
        case .failure(let refusal as LedgerError) where refusal.kind != .unavailable:
            self.report.refused += 1
            self.note(step, "\(what): refused, \(refusal.message)")
            return .refused(refusal)
        case .failure(let error as RPCError) where LedgerError.Kind(refusing: error.code) != nil:
            self.report.refused += 1
            self.note(step, "\(what): refused, \(error.message)")
            return .refused(LedgerError(LedgerError.Kind(refusing: error.code)!, error.message))
        case .failure(let error):
            guard self.fault != nil || self.networkFault else {
                throw self.failure(step, "\(what) failed with no fault injected: \(error)")
            }
            if let error = error as? RPCError, error.processing == .notProcessed {
                self.report.notTaken += 1
                self.note(step, "\(what): not taken (\(error))")
                return .notTaken
            }
            self.report.unanswered += 1
            self.note(step, "\(what): cut off (\(error))")
            return .cut
        }
    }

    /// What an order is now, as an answer or the store says: that status, or one a call still held up in the
    /// network may yet move it to.
    func settle(_ id: String, as status: LedgerModel.Status) {
        guard let order = self.model.orders[id] else { return }
        self.model.orders[id]?.possible = self.network.pendingTargets(
            of: id, createdAt: order.createdAt, status: status
        ).union([status])
    }

    /// One operation drawn from the seed.
    func operation(_ step: Int, _ random: inout SeededRandom) async throws {
        switch random.next() % 100 {
        case 0..<40: try await self.propose(step, &random)
        case 40..<52: try await self.decide(step, &random, approve: true)
        case 52..<55: try await self.approveInBulk(step, &random)
        case 55..<61: try await self.decide(step, &random, approve: false)
        case 61..<66: try await self.clawback(step, &random)
        case 66..<74: try await self.passTime(step, &random)
        case 74..<86: try await self.consume(step, &random)
        case 86..<96: try await self.send(step)
        default: try await self.raiseFund(step, &random)
        }
    }

    static let levels: [(name: String, amount: Fen)] = [
        ("national", 150_000_000), ("provincial", 50_000_000), ("municipal", 20_000_000),
    ]

    func propose(_ step: Int, _ random: inout SeededRandom) async throws {
        let enterprise = Int(random.next() % UInt64(self.simulation.configuration.enterprises))
        let level = Self.levels[Int(random.next() % 3)]
        var request = Ledger.ProposeRequest()
        request.creditCode = CreditCode.completing("9133040" + String(format: "%010d", enterprise))!.value
        request.enterpriseName = "模拟企业\(enterprise)号"
        request.county = .nanhu
        request.clauseID = "jzf-2023-3/3.19b"
        request.subject = "greenFactory/\(level.name)/2023-03-01"
        request.period = 2023
        request.amountFen = level.amount
        let key = Ledger.idempotencyKey(request)
        switch try await self.attempt(step, "propose \(key)", { try await self.remoteOrder(step, .propose(request)) }) {
        case .answered(let order):
            self.note(step, "propose \(key): \(order.id) \(order.status) \(order.amountFen)")
            if let known = self.model.keys[key], known != order.id {
                throw self.failure(step, "\(key) answered \(order.id), answered \(known) before: paid twice?")
            }
            if let known = self.model.orders[order.id] {
                guard known.possible.contains(order.status) else {
                    throw self.failure(
                        step,
                        "\(key) replayed as \(order.id) \(order.status); it was \(LedgerModel.words(known.possible))")
                }
                self.settle(order.id, as: order.status)
            } else {
                self.model.adopt(
                    id: order.id, key: key, status: order.status, createdAt: order.createdAtMillis,
                    expiresAt: order.expiresAtMillis)
                // A bulk approval still held up in the network may yet approve it, if it is not newer.
                self.settle(order.id, as: order.status)
            }
        case .refused, .notTaken: break
        case .cut: self.model.cutProposals.insert(key)
        }
    }

    func decide(_ step: Int, _ random: inout SeededRandom, approve: Bool) async throws {
        let pending = self.model.ids(in: .pending)
        guard !pending.isEmpty else { return }
        let id = pending[Int(random.next() % UInt64(pending.count))]
        let target: LedgerModel.Status = approve ? .posted : .rejected
        let what = "\(approve ? "approve" : "reject") \(id)"
        let outcome = try await self.attempt(step, what) {
            try await self.remoteOrder(step, approve ? .approve(orderID: id) : .reject(orderID: id))
        }
        switch outcome {
        case .answered(let order):
            self.note(step, "\(what): \(order.status)")
            guard order.status == target else {
                throw self.failure(step, "\(what) answered \(order.status)")
            }
            self.settle(id, as: order.status)
        case .refused(let refusal):
            // Refused only if it was no longer pending: expired by now.
            if refusal.kind == .failedPrecondition { self.model.orders[id]?.possible.insert(.expired) }
        case .cut: self.model.orders[id]?.possible.insert(target)
        case .notTaken: break
        }
    }

    /// 市经信局 approves in bulk what the ledger selects: only orders that may be pending and were proposed by
    /// the call's moment, each posted. A call cut off, or a copy the department never heard back from (a
    /// second delivery, a lost answer, one held up), may have approved any of them, and no other.
    func approveInBulk(_ step: Int, _ random: inout SeededRandom) async throws {
        let limit = 1 + Int(random.next() % 8)
        let now = self.clock.now
        // What the officer saw: nothing proposed later may be approved, however late the call arrives.
        let selectable = self.model.sequence.filter {
            let order = self.model.orders[$0]!
            return order.possible.contains(.pending) && order.expiresAt > now && order.createdAt <= now
        }
        let what = "approve up to \(limit) in bulk as of \(now)"
        let outcome = try await self.attempt(step, what) {
            try await self.remote(step, .approveInBulk(limit: limit, asOf: now))
        }
        // Cut off (some approvals may have been made before the fault, or the call is held up), or a copy acted
        // unheard.
        var cut = false
        if case .cut = outcome { cut = true }
        if cut || self.strayCopy {
            for id in selectable { self.model.orders[id]?.possible.insert(.posted) }
        }
        guard case .answered(.decided(let decided)) = outcome else { return }
        self.note(step, "\(what): \(decided.count) selected")
        guard decided.count <= limit else {
            throw self.failure(step, "\(what) decided \(decided.count) orders")
        }
        for (id, result) in decided {
            // An order the run has not been answered with yet (its proposal cut off) is adopted at the next check.
            guard let order = self.model.orders[id] else { continue }
            guard order.possible.contains(.pending) else {
                throw self.failure(step, "\(what) selected \(id), which was \(LedgerModel.words(order.possible))")
            }
            switch result {
            case .success(let approved):
                guard approved.status == .posted else {
                    throw self.failure(step, "\(what) answered \(id) \(approved.status)")
                }
                self.settle(id, as: .posted)
            case .failure(let refusal):
                throw self.failure(step, "\(what) selected \(id) as pending, then refused it: \(refusal.message)")
            }
        }
    }

    func clawback(_ step: Int, _ random: inout SeededRandom) async throws {
        let posted = self.model.ids(in: .posted)
        guard !posted.isEmpty else { return }
        let id = posted[Int(random.next() % UInt64(posted.count))]
        let outcome = try await self.attempt(step, "claw back \(id)") {
            try await self.remoteOrder(step, .clawback(orderID: id))
        }
        switch outcome {
        case .answered(let order):
            self.note(step, "claw back \(id): \(order.status)")
            guard order.status == .clawedBack else {
                throw self.failure(step, "claw back \(id) answered \(order.status)")
            }
            self.settle(id, as: .clawedBack)
        case .refused(let refusal): throw self.failure(step, "claw back of posted \(id) refused: \(refusal.message)")
        case .cut: self.model.orders[id]?.possible.insert(.clawedBack)
        case .notTaken: break
        }
    }

    /// Hours pass; the sweeper expires what is due.
    func passTime(_ step: Int, _ random: inout SeededRandom) async throws {
        let hours = 1 + Int64(random.next() % 8)
        self.clock.advance(by: hours * 3_600_000)
        let now = self.clock.now
        // Due: orders that are, or may be (a decision on them cut off), pending past their time.
        let due = self.model.sequence.filter {
            let order = self.model.orders[$0]!
            return order.possible.contains(.pending) && order.expiresAt <= now
        }
        let certain = due.filter { self.model.orders[$0]!.possible == [.pending] }
        switch try await self.attempt(step, "\(hours) h pass, expire", { try await self.ledger.expireDue() }) {
        case .answered(let count):
            self.note(step, "\(hours) h pass: \(count) expired, \(certain.count) certainly due")
            guard count >= certain.count else {
                throw self.failure(step, "\(certain.count) orders due to expire, \(count) expired")
            }
            // Pending until now, expired now; one that may have been decided is decided or expired.
            for id in due {
                self.model.orders[id]?.possible.remove(.pending)
                self.model.orders[id]?.possible.insert(.expired)
            }
        case .refused(let refusal): throw self.failure(step, "expiry refused: \(refusal.message)")
        case .cut, .notTaken: for id in due { self.model.orders[id]?.possible.insert(.expired) }
        }
    }

    /// The notification consumer leases events, records their notices (and the deliveries to the county's
    /// webhook) and acknowledges them once recorded: an event cut off before that is leased again.
    func consume(_ step: Int, _ random: inout SeededRandom) async throws {
        let consumer = "notification-\(random.next() % 2)"
        let outcome = try await self.attempt(step, "\(consumer) leases") {
            try await self.ledger.outbox.lease(
                group: LedgerSimulation.group, consumer: consumer, maximumInFlight: 16,
                leaseMillis: LedgerSimulation.leaseMillis)
        }
        guard case .answered(let events) = outcome, !events.isEmpty else { return }
        try await self.checkOrderPerEnterprise(step, events)
        for event in events { self.model.consume(event) }
        let recorded = try await self.attempt(step, "\(consumer) records \(events.count) events' notices") {
            try await self.notifier.record(events, catalog: self.simulation.catalog)
        }
        guard case .answered(let notices) = recorded else { return }
        self.note(step, "\(consumer): \(events.count) events, \(notices.count) new notices")
        let sequences = events.map(\.sequence)
        switch try await self.attempt(
            step, "\(consumer) acknowledges \(sequences.count)",
            {
                try await self.ledger.outbox.acknowledge(group: LedgerSimulation.group, sequences: sequences)
            })
        {
        case .answered: self.model.acknowledged.formUnion(sequences)
        case .refused(let refusal): throw self.failure(step, "acknowledgement refused: \(refusal.message)")
        case .cut, .notTaken: self.model.maybeAcknowledged.formUnion(sequences)
        }
    }

    /// The deliverer sends what is due to the county's endpoint and records the outcomes.
    func send(_ step: Int) async throws {
        if case .answered(let attempts) = try await self.attempt(
            step, "deliver due",
            {
                try await self.notifier.deliverDue(limit: 8)
            })
        {
            self.note(step, "deliver due: \(attempts) attempts")
        }
    }

    func raiseFund(_ step: Int, _ random: inout SeededRandom) async throws {
        let budget = min(self.budget + 500_000_000, Money.maximumFen)
        switch try await self.attempt(
            step, "raise the fund to \(budget)",
            {
                try await self.ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: budget)
            })
        {
        case .answered: self.budget = budget
        case .refused(let refusal): throw self.failure(step, "raising the fund refused: \(refusal.message)")
        case .cut, .notTaken: break
        }
    }
}
