import BenefitsDomain
import Foundation
import GatewayStore
import MeshMessages
import MeshTestSupport
import SQLStore
import Testing

/// The gateway's own store — the enterprise register, console accounts and sessions — on SQLite and then on
/// PostgreSQL: both backends pass the same tests.
@Suite("Gateway store")
struct GatewayStoreTests {
    static func withStore(_ body: (GatewayStore) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await body(GatewayStore.open(SQLiteDatabase(path: path)))
        try await body(GatewayStore.open(TemporaryPostgres.shared().database()))
    }

    static let policy: ConsolePolicy = {
        var policy = ConsolePolicy()
        policy.bcryptCost = 5
        return policy
    }()

    static func profile(_ body: String, _ name: String, _ county: Jiaxing_Benefits_V1_County)
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing(body)!.value
        profile.name = name
        profile.county = county
        return profile
    }

    @Test(
        "published records: idempotent by reference, a correction is a new version, a withdrawal ends it, history kept")
    func publishedRecords() async throws {
        try await Self.withStore { store in
            let code = CreditCode.completing("91330402MA2B00001")!.value
            var record = Jiaxing_Benefits_V1_PublishedRecord()
            record.creditCode = code
            record.reference = "浙经信〔2023〕45号#17"
            record.recognition.recognition = "greenFactory"
            record.recognition.level = "municipal"
            record.recognition.recognizedOn = CalendarDate("2023-03-01")!.message
            #expect(try await store.publish([record], department: .jingxin, at: 1) == [.published(version: 1)])
            #expect(try await store.publish([record], department: .jingxin, at: 2) == [.unchanged(version: 1)])
            // The same reference from another department is that department's own record.
            #expect(try await store.publish([record], department: .keji, at: 2) == [.published(version: 1)])
            var corrected = record
            corrected.recognition.level = "provincial"
            #expect(try await store.publish([corrected], department: .jingxin, at: 3) == [.published(version: 2)])
            var current = try await store.attestedRecords(creditCode: code)
            #expect(current.count == 2)
            #expect(
                current.first { $0.department == "jingxin" }?.record.recognition.level == "provincial"
                    && current.first { $0.department == "jingxin" }?.version == 2)
            var withdrawal = corrected
            withdrawal.withdrawn = true
            #expect(try await store.publish([withdrawal], department: .jingxin, at: 4) == [.withdrawn(version: 3)])
            current = try await store.attestedRecords(creditCode: code)
            #expect(current.map(\.department) == ["keji"])
            let history = try await store.publishedHistory(creditCode: code)
            #expect(history.filter { $0.department == "jingxin" }.map(\.version) == [1, 2, 3])
            // A reference moved to another enterprise leaves the first one's records.
            var moved = record
            moved.creditCode = CreditCode.completing("91330402MA2B00002")!.value
            #expect(try await store.publish([moved], department: .keji, at: 5) == [.published(version: 2)])
            #expect(try await store.attestedRecords(creditCode: code).isEmpty)
            #expect(try await store.attestedRecords(creditCode: moved.creditCode).count == 1)
            let tooMany = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.publish(
                    Array(repeating: record, count: GatewayStore.maximumRecordsPerCall + 1), department: .jingxin,
                    at: 6)
            }
            #expect(tooMany?.field == "records")
        }
    }

    @Test("what a county registers is stamped as registered by that county, whatever source it wrote")
    func registeredSource() async throws {
        try await Self.withStore { store in
            var profile = Self.profile("91330402MA2B00003", "南湖示例公司", .nanhu)
            var recognition = Jiaxing_Benefits_V1_RecognitionRecord()
            recognition.recognition = "greenFactory"
            recognition.source = .vouched(.attested, by: "jingxin", reference: "伪造", at: 0)
            profile.recognitions = [recognition]
            _ = try await store.register([profile], registeringCounty: .nanhu, at: 7)
            let stored = try #require(try await store.enterprise(creditCode: profile.creditCode))
            #expect(stored.recognitions[0].source.kind == .registered)
            #expect(stored.recognitions[0].source.party == "nanhu")
            #expect(stored.recognitions[0].source.reference.isEmpty)
            #expect(stored.recognitions[0].source.recordedAtMillis == 7)
        }
    }

    @Test(
        "the register: added then updated, another county's takeover held as a claim, bad input names its field")
    func register() async throws {
        try await Self.withStore { store in
            let first = Self.profile("91330402MA2B00001", "南湖示例公司", .nanhu)
            let added = try await store.register([first], registeringCounty: .nanhu, at: 1)
            #expect(added.added == 1 && added.updated == 0)
            var renamed = first
            renamed.name = "南湖示例有限公司"
            let updated = try await store.register([renamed], registeringCounty: .nanhu, at: 2)
            #expect(updated.added == 0 && updated.updated == 1)
            let stored = try await store.enterprise(creditCode: first.creditCode)
            #expect(stored?.name == "南湖示例有限公司")
            var takeover = first
            takeover.county = .haining
            let held = try await store.register([takeover], registeringCounty: .haining, at: 3)
            #expect(held.added == 0 && held.updated == 0 && held.held == 1)
            #expect(held.claims.first?.reason == "registered in 南湖区")
            #expect(held.claims.first?.registeredIn == .nanhu)
            let unchanged = try await store.enterprise(creditCode: first.creditCode)
            #expect(unchanged?.county == .nanhu, "nothing already registered changed")
            var bad = first
            bad.creditCode = "91330402MA2B0000X"
            let invalid = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.register([first, bad], registeringCounty: .nanhu, at: 4)
            }
            #expect(invalid?.field == "profiles[1].credit_code")
            let tooMany = Array(repeating: first, count: GatewayStore.maximumProfilesPerCall + 1)
            let limit = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.register(tooMany, registeringCounty: .nanhu, at: 5)
            }
            #expect(limit?.field == "profiles")

            // A full call is written several rows a statement; a code twice in one call is registered once, the
            // later row's, counted as added then updated, as two calls would count it.
            var many = (0..<GatewayStore.maximumProfilesPerCall - 1).map {
                Self.profile(String(format: "91330402MA2C%05d", $0), "南湖批量企业\($0)号", .nanhu)
            }
            var again = many[3]
            again.name = "南湖批量企业三号（更名）"
            many.append(again)
            let batch = try await store.register(many, registeringCounty: .nanhu, at: 6)
            #expect(batch.added == GatewayStore.maximumProfilesPerCall - 1 && batch.updated == 1 && batch.held == 0)
            #expect(try await store.enterprise(creditCode: again.creditCode)?.name == "南湖批量企业三号（更名）")
            #expect(try await store.enterprise(creditCode: many[998].creditCode)?.name == "南湖批量企业998号")
        }
    }

    @Test(
        "claims: another county's division or registration is held, seen by both counties, transferred or refused by the operator"
    )
    func claims() async throws {
        try await Self.withStore { store in
            // 海宁市's registration authority (330481): 南湖区 may not register it on its own word.
            let hainingCode = Self.profile("91330481MA2B00041", "海宁皮革", .nanhu)
            var outcome = try await store.register([hainingCode], registeringCounty: .nanhu, at: 1)
            #expect(outcome.held == 1 && outcome.added == 0)
            #expect(outcome.claims[0].reason == "registration authority 330481 is 海宁市's")
            #expect(try await store.enterprise(creditCode: hainingCode.creditCode) == nil)
            // The city's own authority (330400): any county.
            let cityCode = Self.profile("91330400MA2B00042", "嘉兴市级登记公司", .haining)
            outcome = try await store.register([cityCode], registeringCounty: .haining, at: 2)
            #expect(outcome.added == 1 && outcome.held == 0)
            // 经开区 registers its host districts' codes.
            let zone = Self.profile("91330411MA2B00043", "经开区企业", .economicDevelopmentZone)
            outcome = try await store.register([zone], registeringCounty: .economicDevelopmentZone, at: 2)
            #expect(outcome.added == 1)
            // 南湖区 claims the city-level enterprise 海宁市 registered: held, seen by both, not by a third.
            var claimed = cityCode
            claimed.county = .nanhu
            outcome = try await store.register([claimed], registeringCounty: .nanhu, at: 3)
            #expect(outcome.held == 1)
            #expect(try await store.claims(visibleTo: .nanhu, status: .pending).count == 2)
            #expect(
                try await store.claims(visibleTo: .haining, status: .pending).map(\.creditCode) == [cityCode.creditCode]
            )
            #expect(try await store.claims(visibleTo: .jiashan, status: .unspecified).isEmpty)
            #expect(try await store.claims(visibleTo: nil, status: .pending).count == 2)
            // The operator transfers one and refuses the other; a second decision is refused.
            let transferred = try await store.resolveClaim(
                creditCode: cityCode.creditCode, claimant: .nanhu, transfer: true, reason: "经核实迁入南湖区",
                by: "operator/operator", at: 4)
            #expect(transferred.status == .transferred && transferred.registeredIn == .nanhu)
            #expect(try await store.enterprise(creditCode: cityCode.creditCode)?.county == .nanhu)
            let refused = try await store.resolveClaim(
                creditCode: hainingCode.creditCode, claimant: .nanhu, transfer: false, reason: "非本区企业",
                by: "operator/operator", at: 5)
            #expect(refused.status == .refused && refused.resolvedBy == "operator/operator")
            #expect(try await store.enterprise(creditCode: hainingCode.creditCode) == nil)
            let again = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.resolveClaim(
                    creditCode: hainingCode.creditCode, claimant: .nanhu, transfer: true, reason: "再议",
                    by: "operator/operator", at: 6)
            }
            #expect(again?.code == .alreadyExists)
            let missing = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.resolveClaim(
                    creditCode: hainingCode.creditCode, claimant: .tongxiang, transfer: true, reason: "无",
                    by: "operator/operator", at: 6)
            }
            #expect(missing?.code == .notFound)
            #expect(try await store.claims(visibleTo: nil, status: .pending).isEmpty)
        }
    }

    @Test("a replica started again takes back its earlier life's campaign runs at once; another's are left alone")
    func releaseEarlierRuns() async throws {
        try await Self.withStore { opened in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            func request(_ clause: String) -> Jiaxing_Benefits_V1_CampaignRequest {
                var request = Jiaxing_Benefits_V1_CampaignRequest()
                request.clauseIds = [clause]
                request.asOf = CalendarDate("2023-09-01")!.message
                return request
            }
            let earlier = GatewayStore(database: opened.database, replica: "gateway-host:7400")
            let other = GatewayStore(database: opened.database, replica: "gateway-host:7401")
            let mine = request("jzf-2023-3/3.19b")
            let theirs = request("jzf-2023-3/3.21b")
            guard
                case .fresh = try await earlier.startCampaign(
                    id: "mine", request: mine, startedBy: "operator/operator", at: now),
                case .fresh = try await other.startCampaign(
                    id: "theirs", request: theirs, startedBy: "operator/operator", at: now)
            else { throw StoreTestError("new campaigns did not start fresh") }

            // The first replica is killed and starts again under the same name.
            let restarted = GatewayStore(database: opened.database, replica: "gateway-host:7400")
            #expect(try await restarted.releaseEarlierRuns() == 1)
            guard
                case .resume = try await restarted.startCampaign(
                    id: "mine", request: mine, startedBy: "operator/operator", at: now + 1)
            else { throw StoreTestError("its own campaign did not resume at once") }
            guard
                case .running = try await restarted.startCampaign(
                    id: "theirs", request: theirs, startedBy: "operator/operator", at: now + 1)
            else { throw StoreTestError("another replica's running campaign was taken") }
            // A replica whose name only begins the same takes nothing.
            #expect(
                try await GatewayStore(database: opened.database, replica: "gateway-host:740").releaseEarlierRuns() == 0
            )
        }
    }

    @Test("search: by part of the name or code, within a county, wildcards taken literally")
    func search() async throws {
        try await Self.withStore { store in
            _ = try await store.register(
                [
                    Self.profile("91330402MA2B00001", "南湖100%科技", .nanhu),
                    Self.profile("91330402MA2B00002", "南湖智造", .nanhu),
                    Self.profile("91330481MA2B00003", "海宁皮革", .haining),
                ], registeringCounty: nil, at: 1)
            #expect(try await store.searchEnterprises(query: "南湖", county: .nanhu, limit: 0).count == 2)
            #expect(try await store.searchEnterprises(query: "南湖", county: .haining, limit: 0).isEmpty)
            #expect(try await store.searchEnterprises(query: "%", county: nil, limit: 0).map(\.name) == ["南湖100%科技"])
            #expect(try await store.searchEnterprises(query: "MA2B0000", county: nil, limit: 0).count == 3)
            let limit = await #expect(throws: GatewayStoreError.self) {
                _ = try await store.searchEnterprises(query: "", county: nil, limit: 501)
            }
            #expect(limit?.field == "limit")
        }
    }

    @Test(
        "accounts: bcrypt hashes, a lock-out after five failures that a success does not bypass, sessions that time out"
    )
    func accountsAndSessions() async throws {
        try await Self.withStore { store in
            let account = ConsoleAccount(userName: "li.wei", role: .department, party: "jingxin", displayName: "李伟")
            try await store.createAccount(account, password: "a long enough password", policy: Self.policy, at: 0)
            let duplicate = await #expect(throws: GatewayStoreError.self) {
                try await store.createAccount(account, password: "another long password", policy: Self.policy, at: 0)
            }
            #expect(duplicate?.code == .alreadyExists)
            let short = await #expect(throws: GatewayStoreError.self) {
                try await store.createAccount(
                    ConsoleAccount(userName: "x1", role: .operator, party: "operator", displayName: ""),
                    password: "short", policy: Self.policy, at: 0)
            }
            #expect(short?.field == "password")
            let party = await #expect(throws: GatewayStoreError.self) {
                try await store.createAccount(
                    ConsoleAccount(userName: "x2", role: .county, party: "shanghai", displayName: ""),
                    password: "long enough password", policy: Self.policy, at: 0)
            }
            #expect(party?.field == "party")
            let hash =
                try await store.database.read {
                    try await $0.queryOne("SELECT password_hash FROM console_accounts WHERE user_name = 'li.wei'", [])
                }?.text(0) ?? ""
            #expect(hash.hasPrefix("$2b$05$") && !hash.contains("a long enough password"))

            #expect(
                try await store.signIn(userName: "nobody", password: "x", policy: Self.policy, at: 0)
                    == .failure(.unknownUser))
            for attempt in 1...5 {
                #expect(
                    try await store.signIn(
                        userName: "li.wei", password: "wrong \(attempt)", policy: Self.policy, at: 1000)
                        == .failure(.wrongPassword))
            }
            #expect(
                try await store.signIn(
                    userName: "li.wei", password: "a long enough password", policy: Self.policy, at: 2000)
                    == .failure(.locked))
            let unlocked = 1000 + Self.policy.lockoutMillis + 1
            #expect(
                try await store.signIn(
                    userName: "li.wei", password: "a long enough password", policy: Self.policy, at: unlocked)
                    == .success(account))

            // Concurrent guesses cannot lift the lock one of them sets, nor let the right password through it.
            let later = unlocked + 1
            await withTaskGroup(of: Void.self) { group in
                for attempt in 0..<12 {
                    group.addTask {
                        _ = try? await store.signIn(
                            userName: "li.wei", password: "guess \(attempt)", policy: Self.policy, at: later)
                    }
                }
            }
            #expect(
                try await store.signIn(
                    userName: "li.wei", password: "a long enough password", policy: Self.policy, at: later + 1)
                    == .failure(.locked))
            let afterLock = later + Self.policy.lockoutMillis + 1
            #expect(
                try await store.signIn(
                    userName: "li.wei", password: "a long enough password", policy: Self.policy, at: afterLock)
                    == .success(account))
            let nul = await #expect(throws: GatewayStoreError.self) {
                try await store.createAccount(
                    ConsoleAccount(userName: "x3", role: .operator, party: "operator", displayName: ""),
                    password: "long enough\u{0}password", policy: Self.policy, at: 0)
            }
            #expect(nul?.field == "password")

            let session = try await store.createSession(for: account, at: 0)
            #expect(session.token != session.csrfToken && session.token.count == 64)
            let stored = try await store.database.read {
                try await $0.query("SELECT token_hash FROM console_sessions", [])
            }.map { $0.text(0) }
            #expect(!stored.contains(session.token), "only the token's hash is stored")
            var at: Int64 = 0
            for _ in 0..<3 {
                at += Self.policy.idleTimeoutMillis - 1
                #expect(
                    try await store.session(token: session.token, policy: Self.policy, at: at)?.account == account,
                    "each request restarts the idle clock")
            }
            #expect(
                try await store.session(
                    token: session.token, policy: Self.policy, at: at + Self.policy.idleTimeoutMillis + 1) == nil)
            #expect(
                try await store.session(token: session.token, policy: Self.policy, at: at) == nil,
                "a timed-out session is gone")
            let long = try await store.createSession(for: account, at: 0)
            var now: Int64 = 0
            while now + Self.policy.idleTimeoutMillis / 2 < Self.policy.absoluteTimeoutMillis {
                now += Self.policy.idleTimeoutMillis / 2
                _ = try await store.session(token: long.token, policy: Self.policy, at: now)
            }
            #expect(
                try await store.session(
                    token: long.token, policy: Self.policy, at: Self.policy.absoluteTimeoutMillis + 1) == nil,
                "no session outlives the absolute limit")
            try await store.endSession(token: session.token)
            #expect(try await store.session(token: "not a token", policy: Self.policy, at: 0) == nil)
        }
    }
}

struct StoreTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
