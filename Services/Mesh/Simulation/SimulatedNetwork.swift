import Ledger

/// The network between the gateway and the disbursement replicas, and the replicas' lives, drawn from the
/// seed. Each call is delivered; or refused (no connection: the replica never took it); or its request or its
/// answer is lost (the caller's deadline passes either way); or the connection is reset after the replica
/// acted; or it is delivered twice; or it is held up and delivered some steps later, after calls sent after
/// it. A replica may be taken down (killed, or cut off by a partition) for some steps, refusing every call
/// until it is back. Both replicas serve one ledger, as under Compose with PostgreSQL.
struct SimulatedNetwork {
    /// What happens to one call on its way to a replica and back.
    enum Fate: Equatable, CustomStringConvertible {
        case deliver
        case refuse
        case loseRequest
        case loseAnswer
        case resetAfterActing
        case duplicate
        case holdUp(steps: Int)

        var description: String {
            switch self {
            case .deliver: return "delivered"
            case .refuse: return "refused"
            case .loseRequest: return "request lost"
            case .loseAnswer: return "answer lost"
            case .resetAfterActing: return "reset after the replica acted"
            case .duplicate: return "delivered twice"
            case .holdUp(let steps): return "held up \(steps) steps"
            }
        }
    }

    /// A call from the gateway to a replica, as the network carries it: what a late or second copy does again.
    enum Call: CustomStringConvertible {
        case propose(Ledger.ProposeRequest)
        case approve(orderID: String)
        case reject(orderID: String)
        case clawback(orderID: String)
        /// 市经信局 approves up to `limit` of its pending orders proposed by `asOf`, oldest first, chosen by the
        /// ledger (a campaign's bulk decision by selection, as of the moment the officer looked).
        case approveInBulk(limit: Int, asOf: Int64)

        /// As the gateway makes it: proposing may be retried on another replica (the ledger derives its key);
        /// a decision or a clawback is not.
        var idempotent: Bool {
            if case .propose = self { return true }
            return false
        }

        var description: String {
            switch self {
            case .propose(let request): return "propose \(Ledger.idempotencyKey(request))"
            case .approve(let id): return "approve \(id)"
            case .reject(let id): return "reject \(id)"
            case .clawback(let id): return "claw back \(id)"
            case .approveInBulk(let limit, let asOf): return "approve up to \(limit) in bulk as of \(asOf)"
            }
        }
    }

    static let replicas = 2

    var random: SeededRandom
    /// Replica → the step it is back at.
    var downUntil: [Int: Int] = [:]
    /// Calls held up, each with the step it arrives at, in the order they were sent.
    var held: [(due: Int, call: Call)] = []

    init(seed: UInt64) {
        self.random = SeededRandom(seed: seed ^ 0x5E7_0000)
    }

    func isDown(_ replica: Int, at step: Int) -> Bool {
        self.downUntil[replica].map { step < $0 } ?? false
    }

    /// One step in `every`, a replica goes down for 1 to 30 steps.
    mutating func takeDown(at step: Int, every: Int) -> (replica: Int, steps: Int)? {
        guard self.random.next() % UInt64(every) == 0 else { return nil }
        let replica = Int(self.random.next() % UInt64(Self.replicas))
        let steps = 1 + Int(self.random.next() % 30)
        self.downUntil[replica] = max(self.downUntil[replica] ?? 0, step + steps)
        return (replica, steps)
    }

    /// The fate of one call to `replica`: 82 in 100 delivered, the rest spread over the faults.
    mutating func fate(to replica: Int, at step: Int) -> Fate {
        if self.isDown(replica, at: step) { return .refuse }
        switch self.random.next() % 100 {
        case 0..<82: return .deliver
        case 82..<85: return .refuse
        case 85..<88: return .loseRequest
        case 88..<91: return .loseAnswer
        case 91..<94: return .resetAfterActing
        case 94..<97: return .duplicate
        default: return .holdUp(steps: 1 + Int(self.random.next() % 20))
        }
    }

    /// Takes the held calls due by `step`, in the order they were sent.
    mutating func arriving(by step: Int) -> [Call] {
        let due = self.held.filter { $0.due <= step }.map(\.call)
        self.held.removeAll { $0.due <= step }
        return due
    }

    /// The statuses calls still held up may yet move `order`, proposed at `createdAt` and now `status`, to: a
    /// decision (or a bulk approval, if the order is not newer) only a pending order, a clawback only a posted
    /// one. (No chain arises: an order with a call held up is never picked for another.)
    func pendingTargets(of order: String, createdAt: Int64, status: LedgerModel.Status) -> Set<LedgerModel.Status> {
        var targets: Set<LedgerModel.Status> = []
        for (_, call) in self.held {
            switch call {
            case .approve(let id) where id == order && status == .pending: targets.insert(.posted)
            case .reject(let id) where id == order && status == .pending: targets.insert(.rejected)
            case .clawback(let id) where id == order && status == .posted: targets.insert(.clawedBack)
            case .approveInBulk(_, let asOf) where createdAt <= asOf && status == .pending: targets.insert(.posted)
            default: break
            }
        }
        return targets
    }
}
