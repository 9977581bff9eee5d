import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import Logging
import MeshHarness
import MeshMessages
import MeshPKI
import MeshProtocol
import MeshRPC
import NIOConcurrencyHelpers
import NotificationCore
import ServiceKit

/// One chaos run: synthetic enterprises (a municipal 绿色工厂 each, 20万元 under jzf-2023-3/3.19b), each
/// screened and proposed by its county and approved by the department through the gateway, retried on any
/// failure a crash can cause; meanwhile a killer takes processes down on a seeded schedule and starts them
/// again through the harness. The invariants are checked afterwards (`ChaosRun+Invariants.swift`).
final class ChaosRun: Sendable {
    let topology: Topology
    /// Where the mesh is; its processes, when it runs on this machine, are what the killer kills.
    let target: MeshTarget
    let state: NIOLockedValueBox<MeshState?>
    let seed: UInt64
    let payouts: Int
    let kills: Int
    let concurrency: Int
    /// 免申即享: register, one campaign, bulk approval (`ChaosRun+Campaign.swift`) instead of one payout at a time.
    let campaign: Bool
    /// Notices a county's endpoint takes in one delivery (1: a notice a delivery).
    let webhookBatch: Int32
    /// Enterprises registered for a campaign: the first `payouts` payable, the rest holding nothing it pays.
    let register: Int
    let logger: Logger
    /// Characters 9–10 of this run's credit codes (after each county's registration authority), so runs on one
    /// mesh do not meet.
    let codeMark: String
    static let asOf = CalendarDate(year: 2023, month: 9, day: 1)!
    static let awardFen: Fen = 20_000_000
    /// How long one call is retried before the run gives up on it.
    static let retryWindow = Duration.seconds(120)

    let clients = NIOLockedValueBox<[String: MeshClient]>([:])
    let next = NIOLockedValueBox(0)
    let completed = NIOLockedValueBox(0)
    let retries = NIOLockedValueBox(0)
    /// Orders the mesh accepted, as their proposers were told: id → the order.
    let accepted = NIOLockedValueBox<[String: Jiaxing_Benefits_V1_PayoutOrder]>([:])
    let errors = NIOLockedValueBox<[String]>([])
    let killed = NIOLockedValueBox<[String: Int]>([:])

    init(
        topology: Topology, target: MeshTarget, seed: UInt64, payouts: Int, kills: Int, concurrency: Int,
        campaign: Bool = false, webhookBatch: Int32 = 1, register: Int = 0
    ) throws {
        guard kills == 0 || target.local != nil else {
            throw ChaosError("kills need the mesh `mesh up` runs here: elsewhere, kill its containers yourself")
        }
        self.topology = topology
        self.target = target
        self.state = NIOLockedValueBox(target.local)
        self.seed = seed
        self.payouts = payouts
        self.kills = kills
        self.concurrency = concurrency
        self.campaign = campaign
        self.webhookBatch = webhookBatch
        self.register = max(register, payouts)
        var logger = Logger(label: "mesh.chaos")
        logger.logLevel = .critical
        self.logger = logger
        let letters = Array("ABCDEFGHJKLMNPQRTUWXY")
        var generator = SeededGenerator(state: seed)
        self.codeMark =
            String(letters[Int(generator.next() % UInt64(letters.count))])
            + String(letters[Int(generator.next() % UInt64(letters.count))])
    }

    struct ChaosError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A client of the gateway with `party`'s certificate, one per party for the whole run.
    func client(_ party: String) throws -> MeshClient {
        if let client = self.clients.withLockedValue({ $0[party] }) { return client }
        let client = try self.target.client(as: party)
        return self.clients.withLockedValue { clients in
            if let existing = clients[party] { return existing }
            clients[party] = client
            return client
        }
    }

    /// Runs `body` until it succeeds or fails in a way no crash explains, for up to `retryWindow` of failing
    /// attempts: an attempt that ran longer than the window (a campaign's call, killed minutes in) starts the
    /// window again, since it got somewhere.
    func retrying<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        var deadline = ContinuousClock.now + Self.retryWindow
        var delay = Duration.milliseconds(50)
        while true {
            let attempt = ContinuousClock.now
            do {
                return try await body()
            } catch {
                if ContinuousClock.now - attempt > Self.retryWindow {
                    deadline = ContinuousClock.now + Self.retryWindow
                }
                let code = RPCError.from(error).code
                let transient: Set<RPCStatusCode> = [
                    .unavailable, .deadlineExceeded, .unknown, .internal, .aborted, .resourceExhausted, .cancelled,
                ]
                guard transient.contains(code), ContinuousClock.now < deadline else { throw error }
                self.retries.withLockedValue { $0 += 1 }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(1))
            }
        }
    }

    static let counties = County.allCases

    func profile(_ index: Int) -> Jiaxing_Benefits_V1_EnterpriseProfile {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        let county = Self.counties[index % Self.counties.count]
        // Each county registers codes of its own registration authority (a zone, its host district's).
        let division = county.divisionCodes.sorted()[0]
        profile.creditCode =
            CreditCode.completing("91" + division + self.codeMark + String(format: "%07d", index))!
            .value
        profile.name = "混沌演练企业\(index)号"
        profile.county = county.message
        // Past the payouts: registered, holding nothing the campaign pays.
        guard index < self.payouts else { return profile }
        var recognition = Jiaxing_Benefits_V1_RecognitionRecord()
        recognition.recognition = "greenFactory"
        recognition.level = "municipal"
        recognition.recognizedOn = Jiaxing_Benefits_V1_Date.with {
            $0.year = 2023
            $0.month = 3
            $0.day = 1
        }
        profile.recognitions = [recognition]
        return profile
    }

    /// One payout: the county screens and proposes (idempotent, so retried freely), the department approves
    /// (a retry after a crash may find it approved already: then the order must say posted).
    func payout(_ index: Int) async throws {
        let profile = self.profile(index)
        let county = try self.client(Self.counties[index % Self.counties.count].partyName)
        var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
        request.screen.profile = profile
        request.screen.asOf = Self.asOf.message
        let orders: [Jiaxing_Benefits_V1_PayoutOrder] = try await self.retrying {
            let response: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await county.unary(
                GatewayMethods.screenAndPropose, request, options: CallOptions(timeout: .seconds(10)))
            if let refused = response.proposals.first(where: { !$0.hasOrder }) {
                throw RPCError(
                    RPCStatusCode(rawValue: refused.code) ?? .unknown, "\(refused.clauseID): \(refused.message)")
            }
            guard !response.proposals.isEmpty else {
                throw ChaosError("\(profile.creditCode): the screening proposed nothing")
            }
            return response.proposals.map(\.order)
        }
        self.accepted.withLockedValue { accepted in for order in orders { accepted[order.id] = order } }
        for order in orders {
            guard
                let department = Department.allCases.first(where: {
                    $0.isResponsible(among: order.responsibleDepartments)
                })
            else {
                throw ChaosError("no department decides \(order.clauseID)")
            }
            let client = try self.client(department.partyName)
            var decide = Jiaxing_Benefits_V1_DecideRequest()
            decide.orderID = order.id
            try await self.retrying {
                do {
                    let _: Jiaxing_Benefits_V1_PayoutOrder = try await client.unary(
                        GatewayMethods.approve, decide, options: CallOptions(timeout: .seconds(10)))
                } catch let error as RPCError where error.code == .failedPrecondition {
                    var get = Jiaxing_Benefits_V1_GetOrderRequest()
                    get.orderID = order.id
                    let current: Jiaxing_Benefits_V1_PayoutOrder = try await client.unary(
                        GatewayMethods.getOrder, get, options: CallOptions(timeout: .seconds(10)))
                    guard current.status == .posted else { throw error }
                }
            }
        }
    }

    /// Kills on a seeded schedule: every service its share, the k-th kill once k/(kills+1) of the payouts are
    /// done, a random replica, SIGKILL, a random pause, then started again and waited for.
    func killer() async throws {
        var generator = SeededGenerator(state: self.seed ^ 0x5EED)
        let services = ["catalog", "eligibility", "disbursement", "notification", "gateway"]
        var plan = (0..<self.kills).map { services[$0 % services.count] }
        plan.shuffle(using: &generator)
        for (number, service) in plan.enumerated() {
            let threshold = self.payouts * (number + 1) / (self.kills + 1)
            while self.completed.withLockedValue({ $0 }) < threshold { try await Task.sleep(for: .milliseconds(20)) }
            guard var state = self.state.withLockedValue({ $0 }) else { return }
            let candidates = state.instances.indices.filter { state.instances[$0].service == service }
            guard let index = candidates.randomElement(using: &generator) else { continue }
            let instance = state.instances[index]
            await ProcessControl.crash(instance.pid)
            print(
                "  kill \(number + 1)/\(self.kills): \(service) replica \(instance.replica) (pid \(instance.pid)) after \(self.completed.withLockedValue { $0 }) payouts"
            )
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...800, using: &generator)))
            try await RestartCommand.start(&state, index: index, topology: self.topology)
            self.state.withLockedValue { $0 = state }
            self.killed.withLockedValue { $0[service, default: 0] += 1 }
        }
    }

    /// The run, then the invariants; returns what broke (empty when everything held).
    func run(noticeWait: Duration) async throws -> [String] {
        let started = ContinuousClock.now
        let before = try await self.catalogFingerprint()
        let receiver = try await self.startReceiver()
        return try await receiver.stopping {
            try await self.fundTheRun()
            try await self.publishTheRun()

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.killer() }
                if self.campaign {
                    group.addTask { try await self.runCampaign() }
                    group.addTask { try await self.followCampaign() }
                    try await group.waitForAll()
                    return
                }
                for _ in 0..<self.concurrency {
                    group.addTask {
                        while true {
                            let index = self.next.withLockedValue { next -> Int? in
                                guard next < self.payouts else { return nil }
                                defer { next += 1 }
                                return next
                            }
                            guard let index else { return }
                            do {
                                try await self.payout(index)
                            } catch {
                                self.errors.withLockedValue { $0.append("payout \(index): \(error)") }
                            }
                            let done = self.completed.withLockedValue {
                                $0 += 1
                                return $0
                            }
                            if done % max(1, self.payouts / 10) == 0 {
                                print("  \(done) of \(self.payouts) payouts done")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let flowSeconds = Double((ContinuousClock.now - started).components.seconds)
            let killed = self.killed.withLockedValue { $0 }
            print(
                "payouts: \(self.completed.withLockedValue { $0 }) in \(Int(flowSeconds)) s, \(self.retries.withLockedValue { $0 }) retried calls; kills: \(killed.values.reduce(0, +)) (\(killed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
            )
            var failures = self.errors.withLockedValue { $0 }.prefix(20).map { $0 }
            if self.errors.withLockedValue({ $0.count }) > 20 {
                failures.append("… and \(self.errors.withLockedValue { $0.count } - 20) more payouts failed")
            }
            failures += try await self.checkNotices(receiver, within: noticeWait)
            let noticeSeconds = Double((ContinuousClock.now - started).components.seconds)
            print(
                "flow: \(String(format: "%.0f", Double(self.completed.withLockedValue { $0 }) / max(flowSeconds, 1))) payouts/s (each a screening, a proposal and an approval through the gateway); notices done after \(Int(noticeSeconds)) s"
            )
            if let instances = self.state.withLockedValue({ $0?.instances }) {
                print(
                    "peak memory (VmHWM, since each process started): "
                        + instances.map { instance in
                            "\(instance.service)-\(instance.replica) \(ProcessControl.memoryKilobytes(instance.pid, "VmHWM") / 1024) MB"
                        }.joined(separator: ", "))
            }
            failures += try await self.checkLedger()
            if try await self.catalogFingerprint() != before { failures.append("the catalog changed during the run") }
            for client in self.clients.withLockedValue({ Array($0.values) }) { await client.close() }
            return failures
        }
    }
}
