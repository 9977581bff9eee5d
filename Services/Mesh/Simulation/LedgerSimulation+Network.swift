import DisbursementService
import Ledger
import MeshMessages
import MeshProtocol
import MeshRPC

extension LedgerSimulation.Run {
    /// What a replica answers: one order, or a bulk decision's orders, each approved or refused.
    enum Reply {
        case order(Ledger.Order)
        case decided([(id: String, result: Result<Ledger.Order, LedgerError>)])
    }

    /// A call from the gateway to disbursement: through the gateway's balancer (its choice of replica, ejection
    /// and retries) over the simulated network.
    func remote(_ step: Int, _ call: SimulatedNetwork.Call) async throws -> Reply {
        try await self.disbursement.call(idempotent: call.idempotent) { replica in
            try await self.carry(step, call, to: replica)
        }
    }

    /// A call answered with one order.
    func remoteOrder(_ step: Int, _ call: SimulatedNetwork.Call) async throws -> Ledger.Order {
        guard case .order(let order) = try await self.remote(step, call) else {
            throw self.breaking(step, "\(call) was answered with more than one order")
        }
        return order
    }

    /// One attempt on one replica, as the network's fate for it has it.
    func carry(_ step: Int, _ call: SimulatedNetwork.Call, to replica: Int) async throws -> Reply {
        let fate = self.network.fate(to: replica, at: step)
        // Of the last attempt only: a failure after a clean delivery is the ledger's, whatever came before.
        self.networkFault = fate != .deliver
        if [.loseAnswer, .resetAfterActing, .duplicate].contains(fate) { self.strayCopy = true }
        if fate != .deliver {
            self.report.networkFaults += 1
            self.note(step, "\(call) to disbursement-\(replica): \(fate)")
        }
        switch fate {
        case .deliver:
            return try await self.serve(step, call)
        case .refuse:
            throw RPCError(
                .unavailable, "disbursement-\(replica): connection refused", processing: .notProcessed)
        case .loseRequest:
            throw RPCError(.deadlineExceeded, "disbursement-\(replica): no answer within the deadline")
        case .loseAnswer:
            try await self.copy(step, call)
            throw RPCError(.deadlineExceeded, "disbursement-\(replica): no answer within the deadline")
        case .resetAfterActing:
            try await self.copy(step, call)
            throw RPCError(.unavailable, "disbursement-\(replica): connection reset by peer")
        case .duplicate:
            let first: Result<Reply, any Error>
            do { first = .success(try await self.serve(step, call)) } catch { first = .failure(error) }
            try await self.copy(step, call)
            return try first.get()
        case .holdUp(let steps):
            self.network.held.append((step + steps, call))
            throw RPCError(.deadlineExceeded, "disbursement-\(replica): no answer within the deadline")
        }
    }

    /// An invariant failed inside a call the balancer carries: kept in `broken`, since the balancer turns
    /// whatever its body throws into a status, and thrown by `attempt` when the call returns.
    func breaking(_ step: Int, _ problem: String) -> LedgerSimulation.Failure {
        let failure = self.failure(step, problem)
        self.broken = failure
        return failure
    }

    /// What a replica does with a call: the ledger's answer, or its refusal as the status the replica sends.
    /// A bulk decision's orders are decided one after another, not at once as `DecideOrdersBatch` does, so that
    /// a seed replays.
    func serve(_ step: Int, _ call: SimulatedNetwork.Call) async throws -> Reply {
        do {
            switch call {
            case .propose(let request):
                return .order(try await self.ledger.propose(request))
            case .approve(let id):
                return .order(try await self.ledger.approve(orderID: id, by: .department(.jingxin)))
            case .reject(let id):
                return .order(
                    try await self.ledger.reject(orderID: id, by: .department(.jingxin), reason: "模拟: 不符合条件"))
            case .clawback(let id):
                return .order(
                    try await self.ledger.clawback(
                        orderID: id, by: .department(.jingxin), trigger: "撤资", reason: "模拟: 政策期内撤资"))
            case .approveInBulk(let limit, let asOf):
                var selection = Jiaxing_Benefits_V1_OrderSelection()
                selection.proposedAtOrBeforeMillis = asOf
                let ids = try await self.ledger.pendingOrderIDs(selection, department: .jingxin, limit: limit)
                var decided: [(id: String, result: Result<Ledger.Order, LedgerError>)] = []
                for id in ids {
                    do {
                        let order = try await self.ledger.approve(orderID: id, by: .department(.jingxin))
                        guard order.createdAtMillis <= asOf else {
                            throw self.breaking(
                                step, "\(call) approved \(id), proposed at \(order.createdAtMillis), after its moment")
                        }
                        decided.append((id, .success(order)))
                    } catch let refusal as LedgerError where refusal.kind != .unavailable {
                        decided.append((id, .failure(refusal)))
                    }
                }
                return .decided(decided)
            }
        } catch let error as LedgerError {
            throw error.rpcError
        }
    }

    /// A copy no caller waits for (an answer lost, a second delivery, a late arrival): the ledger may refuse
    /// it, and a disk fault may cut it off, but nothing else may go wrong.
    func copy(_ step: Int, _ call: SimulatedNetwork.Call) async throws {
        do {
            _ = try await self.serve(step, call)
        } catch let error as RPCError where error.code != .unavailable && error.code != .unknown {
            self.note(step, "\(call), a copy: refused, \(error.message)")
        } catch {
            guard self.fault != nil else {
                throw self.breaking(step, "a copy of \(call) failed with no disk fault: \(error)")
            }
        }
    }

    /// Calls held up that arrive by this step: each acts as its first copy would have; no one hears the answer.
    func deliverHeld(_ step: Int) async throws {
        for call in self.network.arriving(by: step) {
            self.note(step, "\(call) arrives late")
            self.report.lateArrivals += 1
            if case .approveInBulk = call { self.report.lateBulkApprovals += 1 }
            try await self.copy(step, call)
        }
    }
}

extension LedgerError.Kind {
    /// The ledger's refusal a replica's status stands for, the inverse of `LedgerError.rpcError`; nil for a
    /// status no refusal is sent as, and for unavailable, which is the store or the network failing.
    init?(refusing code: RPCStatusCode) {
        switch code {
        case .invalidArgument: self = .invalidArgument
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .failedPrecondition: self = .failedPrecondition
        case .permissionDenied: self = .permissionDenied
        default: return nil
        }
    }
}
