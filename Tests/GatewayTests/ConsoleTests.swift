import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayConsole
import GatewayHTTP
import GatewayStore
import Ledger
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

/// The web console in front of a real gateway and real services, driven by curl with a cookie jar as a
/// browser would (the headless Chromium run is `scripts/console-check.py`, in CI).
@Suite("Web console")
struct ConsoleTests {
    /// A browser: one cookie jar, the console's port, and a clock the test moves.
    struct Browser {
        let port: Int
        let folder: String
        let jar: String
        let clock: NIOLockedValueBox<Date>

        /// GET or POST (`form` given) a console path; returns the status, the body and the Location header.
        func request(
            _ path: String, form: [(String, String)]? = nil, headers extra: [String] = [], curl options: [String] = []
        ) async throws -> (
            status: Int, body: String, location: String, headers: String
        ) {
            let id = UUID().uuidString
            let bodyPath = "\(self.folder)/body-\(id)"
            let headersPath = "\(self.folder)/headers-\(id)"
            let statusPath = "\(self.folder)/status-\(id)"
            var arguments = [
                "-s", "-o", bodyPath, "-D", headersPath, "-w", "%{http_code}", "--max-time", "30", "--cacert",
                "\(self.folder)/ca.pem",
                "-b", self.jar, "-c", self.jar,
            ]
            if let form {
                for (name, value) in form { arguments += ["--data-urlencode", "\(name)=\(value)"] }
            }
            for header in extra { arguments += ["-H", header] }
            arguments += options
            arguments.append("https://localhost:\(self.port)\(path)")
            FileManager.default.createFile(atPath: statusPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: statusPath))
            process.standardError = FileHandle.nullDevice
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                process.terminationHandler = { _ in done.resume() }
                do { try process.run() } catch { done.resume() }
            }
            defer {
                for path in [bodyPath, headersPath, statusPath] { try? FileManager.default.removeItem(atPath: path) }
            }
            let headers = (try? String(contentsOfFile: headersPath, encoding: .utf8)) ?? ""
            let location =
                headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }.map {
                    String($0.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces)
                } ?? ""
            return (
                Int((try? String(contentsOfFile: statusPath, encoding: .utf8)) ?? "") ?? 0,
                (try? String(contentsOfFile: bodyPath, encoding: .utf8)) ?? "", location, headers
            )
        }

        /// The CSRF token of the last form on a page.
        static func csrf(_ page: String) -> String {
            guard let match = page.matches(of: /name="csrf" value="([0-9a-f]{64})"/).last else { return "" }
            return String(match.output.1)
        }

        func signIn(_ user: String, _ password: String, extra: [(String, String)] = []) async throws -> (
            status: Int, body: String, location: String, headers: String
        ) {
            let page = try await self.request("/console/sign-in")
            return try await self.request(
                "/console/sign-in",
                form: [("csrf", Self.csrf(page.body)), ("user", user), ("password", password)] + extra)
        }

        func advance(minutes: Int) {
            self.clock.withLockedValue { $0 = $0.addingTimeInterval(Double(minutes) * 60) }
        }
    }

    static let password = "correct horse battery"
    /// A cheaper bcrypt than production's, so a suite of sign-ins stays quick; the cost is a policy setting.
    static let policy: ConsolePolicy = {
        var policy = ConsolePolicy()
        policy.bcryptCost = 6
        return policy
    }()

    /// - Parameter start: the day the console and the ledger live in (the browser's clock moves both).
    static func withConsole(
        at start: Date = Date(), limits: ConnectionLimits = .init(),
        _ body: (GatewayTests.Mesh, Browser) async throws -> Void
    ) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is not installed (Debian: apt-get install curl; .ci/run installs it)")
            return
        }
        let clock = NIOLockedValueBox(start)
        let now: @Sendable () -> Int64 = { Int64(clock.withLockedValue { $0 }.timeIntervalSince1970 * 1000) }
        try await GatewayTests.withMesh(now: now) { mesh in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try TestMesh.authority.certificatePEM.write(toFile: "\(folder)/ca.pem", atomically: true, encoding: .utf8)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for account in [
                ConsoleAccount(userName: "li.wei", role: .department, party: "jingxin", displayName: "李伟"),
                ConsoleAccount(userName: "nanhu-staff", role: .county, party: "nanhu", displayName: "南湖区工作人员"),
                ConsoleAccount(userName: "operator", role: .operator, party: "operator", displayName: "市级运营"),
            ] {
                try await mesh.store.createAccount(account, password: Self.password, policy: Self.policy, at: now)
            }
            let own = TestMesh.client(port: mesh.gatewayPort, tls: TestMesh.serviceCredentials("gateway"))
            let console = try Console(
                store: mesh.store, policy: Self.policy, gateway: own, services: mesh.services, audit: mesh.audit,
                now: { clock.withLockedValue { $0 } })
            let listening = AsyncStream<Int>.makeStream()
            let application = try console.application(
                host: "127.0.0.1", port: 0, tls: TestMesh.credentials.server, logger: TestMesh.logger, limits: limits
            ) { port in
                listening.continuation.yield(port)
            }
            let group = ServiceGroup(
                services: [application], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
            let running = Task { try await group.run() }
            var ports = listening.stream.makeAsyncIterator()
            let port = try #require(await ports.next())
            do {
                try await body(mesh, Browser(port: port, folder: folder, jar: "\(folder)/cookies", clock: clock))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await own.close()
        }
    }

    /// A pending order for 南湖区's single champion (jingxin decides it).
    static func pendingOrder(_ mesh: GatewayTests.Mesh) async throws -> Jiaxing_Benefits_V1_PayoutOrder {
        let nanhu = mesh.client("nanhu", .county)
        defer { Task { await nanhu.close() } }
        var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
        request.screen = GatewayTests.request(county: .nanhu, recognition: "singleChampion")
        try await GatewayTests.attest([request.screen.profile], mesh)
        let response: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
            GatewayMethods.screenAndPropose, request)
        return try #require(response.proposals.first?.order)
    }

    @Test("an enterprise's payout record names each order's clause by title and article, not its id")
    func orderClauseNamed() async throws {
        try await Self.withConsole { mesh, browser in
            let order = try await Self.pendingOrder(mesh)
            let clause = try #require(GatewayTests.catalog.clause(id: order.clauseID)?.clause)
            _ = try await browser.signIn("nanhu-staff", Self.password)
            let page = try await browser.request("/console/enterprises/\(order.creditCode)?as_of=2023-09-01")
            #expect(page.status == 200)
            let record = try #require(page.body.components(separatedBy: #"<table id="orders">"#).last)
            #expect(
                record.contains("<td>\(order.id)</td><td>\(clause.title)（\(clause.article)）</td>"),
                "\(record.prefix(600))")
            #expect(!record.prefix(600).contains("<td>\(order.clauseID)</td>"))
        }
    }

    @Test("an enterprise's notices a page at a time: a link to the older ones, each notice once, the as-of kept")
    func enterpriseNoticesPaged() async throws {
        try await Self.withConsole { mesh, browser in
            let order = try await Self.pendingOrder(mesh)
            let events = (1...(Console.historyPerPage + 4)).map { index in
                var event = Jiaxing_Benefits_V1_DisbursementEvent()
                event.sequence = Int64(10_000 + index)
                event.type = "approved"
                event.order = order
                event.order.id = "order-paged-\(index)"
                event.order.amountFen = 1_000_000 + Int64(index)  // each notice told apart by its amount
                return event
            }
            _ = try await mesh.notifier.record(events, catalog: GatewayTests.catalog)
            _ = try await browser.signIn("nanhu-staff", Self.password)
            var path = "/console/enterprises/\(order.creditCode)?as_of=2023-09-01"
            var seen: [String] = []
            var pages = 0
            while !path.isEmpty, pages < 5 {
                let page = try await browser.request(path)
                #expect(page.status == 200)
                pages += 1
                let table = try #require(
                    page.body.components(separatedBy: #"<table id="notices">"#).last?.components(
                        separatedBy: "</table>"
                    )
                    .first)
                let rows = table.components(separatedBy: "<tr><td>").dropFirst()
                #expect(rows.count <= Console.historyPerPage)
                seen += rows.map { String($0) }
                let link =
                    page.body.range(of: #"id="notices-next""#) == nil
                    ? nil : page.body.components(separatedBy: #"<a href=""#).last { $0.contains(#"id="notices-next""#) }
                path = link.map { String($0.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") } ?? ""
                if !path.isEmpty {
                    #expect(path.contains("as_of=2023-09-01") && path.contains("notices_page="), "\(path)")
                }
            }
            #expect(pages == 2)
            for event in events {
                let amount = Money.chinese(event.order.amountFen)
                #expect(seen.filter { $0.contains(amount) }.count == 1, "\(amount) not shown exactly once")
            }
        }
    }

    @Test("the console's port has the same bounds: one address's share, then a silent connection's deadline")
    func consoleConnectionLimits() async throws {
        try await Self.withConsole(
            limits: ConnectionLimits(maximumConnections: 100, maximumPerAddress: 2, handshakeTimeout: .seconds(8))
        ) { _, browser in
            let channels = try await GatewayHTTPTests.silentConnections(3, to: browser.port)
            // One over the address's share is closed as it arrives, long before the handshake deadline.
            let first = try #require(await GatewayHTTPTests.firstClosed(channels, within: .seconds(5)))
            #expect(channels.indices.filter { $0 != first && channels[$0].isActive }.count == 2)
            // The two within it said nothing and are closed at the handshake deadline; the slots free up.
            for channel in channels {
                #expect(await GatewayHTTPTests.closes(channel, within: .seconds(60)))
            }
            var page = try await browser.request("/console/sign-in")
            for _ in 0..<50 where page.status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                page = try await browser.request("/console/sign-in")
            }
            #expect(page.status == 200)
        }
    }

    @Test("TLS 1.2 in the console only with forward-secret AEAD suites: a CBC/SHA-1 suite gets no answer")
    func consoleCipherSuites() async throws {
        try await Self.withConsole { _, browser in
            let cbc = try await browser.request(
                "/console/sign-in", curl: ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA"])
            #expect(cbc.status == 0, "a CBC/SHA-1 suite was accepted: \(cbc.status)")
            let gcm = try await browser.request(
                "/console/sign-in", curl: ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"])
            #expect(gcm.status == 200)
            let current = try await browser.request("/console/sign-in", curl: ["--tlsv1.3"])
            #expect(current.status == 200)
        }
    }

    @Test(
        "sign-in: one message for an unknown user and a wrong password; five failures lock the account; cookies are Secure, HttpOnly, SameSite=Strict"
    )
    func signIn() async throws {
        try await Self.withConsole { mesh, browser in
            let unknown = try await browser.signIn("nobody", Self.password)
            let wrong = try await browser.signIn("li.wei", "not the password")
            #expect(unknown.status == 401 && wrong.status == 401)
            #expect(unknown.body.contains("用户名或密码不正确") && wrong.body.contains("用户名或密码不正确"))
            #expect(!wrong.body.contains("not the password"))
            for _ in 0..<4 { _ = try await browser.signIn("li.wei", "still wrong") }
            let locked = try await browser.signIn("li.wei", Self.password)
            #expect(locked.status == 401, "the right password is refused while the account is locked")
            #expect(mesh.audit.entries().contains { $0["caller"] == "console/li.wei" && $0["reason"] == "locked" })
            browser.advance(minutes: 16)
            let signedIn = try await browser.signIn("li.wei", Self.password)
            #expect(signedIn.status == 303 && signedIn.location == "/console/queue")
            let cookie =
                signedIn.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: jb_session=") }
                ?? ""
            for attribute in ["Path=/console", "Secure", "HttpOnly", "SameSite=Strict"] {
                #expect(cookie.contains(attribute), "session cookie: \(cookie)")
            }
            #expect(signedIn.headers.contains("content-security-policy: default-src 'none'"))
            // Without the sign-in form's own token (double submit), a sign-in post is refused.
            let forged = try await browser.request(
                "/console/sign-in", form: [("user", "li.wei"), ("password", Self.password)])
            #expect(forged.status == 403)
        }
    }

    @Test(
        "a department officer approves in the console: the ledger posts the order and names the officer; a post without the CSRF token changes nothing"
    )
    func departmentApproves() async throws {
        try await Self.withConsole { mesh, browser in
            let order = try await Self.pendingOrder(mesh)
            _ = try await browser.signIn("li.wei", Self.password)
            let queue = try await browser.request("/console/queue")
            #expect(queue.status == 200)
            #expect(queue.body.contains(order.id) && queue.body.contains("300万元"))
            #expect(queue.body.contains("单项冠军") || queue.body.contains("冠军"), "the clause's own words are shown")
            #expect(
                !order.explanation.isEmpty && queue.body.contains(#"class="explanation""#),
                "with the screening's explanation")
            let forged = try await browser.request("/console/orders/\(order.id)/approve", form: [("reason", "")])
            #expect(forged.status == 403)
            #expect(try await mesh.ledger.order(id: order.id).status == .pending)
            let approved = try await browser.request(
                "/console/orders/\(order.id)/approve", form: [("csrf", Browser.csrf(queue.body))])
            #expect(approved.status == 200 && approved.body.contains("已批准"))
            let posted = try await mesh.ledger.order(id: order.id)
            #expect(posted.status == .posted)
            #expect(posted.decidedBy == "department/jingxin (li.wei)")
            #expect(
                mesh.audit.entries().contains {
                    $0["caller"] == "department/jingxin (li.wei)" && $0["method"] == "Approve"
                })
            // The officer may not open the operator's page.
            #expect(try await browser.request("/console/overview").status == 403)
        }
    }

    @Test(
        "a department decides a group at once: counts and totals by clause and county, one reason on every order, CSRF required"
    )
    func departmentDecidesAGroup() async throws {
        try await Self.withConsole { mesh, browser in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            let requests = (1...3).map {
                GatewayTests.request(county: .nanhu, body: "91330402MA2K0000\($0)", recognition: "singleChampion")
            }
            try await GatewayTests.attest(requests.map(\.profile), mesh)
            for screen in requests {
                var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
                request.screen = screen
                let _: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
                    GatewayMethods.screenAndPropose, request)
            }
            let pending = try await mesh.ledger.orders(.init(status: .pending))
            #expect(pending.count == 3)
            let clause = try #require(pending.first?.clauseID)
            _ = try await browser.signIn("li.wei", Self.password)
            let queue = try await browser.request("/console/queue")
            #expect(queue.status == 200)
            #expect(queue.body.contains(#"id="groups""#))
            #expect(queue.body.contains("3 笔<br>900万元"), "three orders of 300万元 in one group")
            #expect(queue.body.contains("南湖区"))
            let forged = try await browser.request(
                "/console/orders/groups/decide",
                form: [("clause", clause), ("county", "nanhu"), ("decision", "approve"), ("reason", "名单核实无误")])
            #expect(forged.status == 403)
            #expect(try await mesh.ledger.orders(.init(status: .pending)).count == 3)
            let noReason = try await browser.request(
                "/console/orders/groups/decide",
                form: [
                    ("csrf", Browser.csrf(queue.body)), ("clause", clause), ("county", "nanhu"),
                    ("decision", "approve"),
                ])
            #expect(noReason.body.contains("须填写一条理由"))
            // Filters: above 300万元 nothing is left to group; a bad amount is named; a group decided under a
            // filter decides only what it selects (none was reduced by a cap here).
            let above = try await browser.request("/console/queue?min_yuan=3000000.01")
            #expect(above.status == 200)
            #expect(!above.body.contains(#"<tr class="group">"#), "no order is above 300万元")
            #expect(above.body.contains(#"value="3000000.01""#), "the filter is shown as set")
            let within = try await browser.request("/console/queue?min_yuan=3000000&max_yuan=3000000")
            #expect(within.body.contains("3 笔<br>900万元"), "300万元 is within 300万元…300万元")
            let bad = try await browser.request("/console/queue?max_yuan=abc")
            #expect(bad.status == 400)
            #expect(bad.body.contains("max_yuan"))
            let onlyReduced = try await browser.request(
                "/console/orders/groups/decide",
                form: [
                    ("csrf", Browser.csrf(queue.body)), ("clause", clause), ("county", "nanhu"),
                    ("adjustment", "reduced"), ("decision", "approve"), ("reason", "名单核实无误"),
                ])
            #expect(onlyReduced.body.contains("已批准 0 笔"), "\(onlyReduced.body.prefix(1500))")
            #expect(try await mesh.ledger.orders(.init(status: .pending)).count == 3)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { await jingxin.close() } }
            var inverted = Jiaxing_Benefits_V1_DecideOrdersRequest()
            inverted.approve = true
            inverted.minimumFen = 2
            inverted.maximumFen = 1
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                    GatewayMethods.decideOrders, inverted)
            }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.message.hasPrefix("minimum_fen, maximum_fen") == true)
            // Each group's form carries the moment the queue was read: as of a moment before these orders were
            // proposed, a decision takes none of them; a moment that is not one is named.
            #expect(queue.body.contains(#"name="as_of" value=""#))
            let earliest = try #require(pending.map(\.createdAtMillis).min())
            for (asOf, expected) in [("\(earliest - 1)", "已批准 0 笔"), ("昨天", "as_of")] {
                let answer = try await browser.request(
                    "/console/orders/groups/decide",
                    form: [
                        ("csrf", Browser.csrf(queue.body)), ("clause", clause), ("county", "nanhu"),
                        ("as_of", asOf), ("decision", "approve"), ("reason", "名单核实无误"),
                    ])
                #expect(answer.body.contains(expected), "\(answer.body.prefix(1500))")
            }
            #expect(try await mesh.ledger.orders(.init(status: .pending)).count == 3)
            // The form as the queue page filled it: its moment comes after the three were proposed.
            let shown = try #require(queue.body.firstMatch(of: /name="as_of" value="(\d+)"/)?.1)
            let decided = try await browser.request(
                "/console/orders/groups/decide",
                form: [
                    ("csrf", Browser.csrf(queue.body)), ("clause", clause), ("county", "nanhu"),
                    ("as_of", String(shown)), ("decision", "approve"), ("reason", "名单核实无误"),
                ])
            #expect(decided.status == 200)
            #expect(decided.body.contains("已批准 3 笔，共 900万元"), "\(decided.body.prefix(2000))")
            for order in pending {
                let posted = try await mesh.ledger.order(id: order.id)
                #expect(posted.status == .posted)
                #expect(posted.decidedBy == "department/jingxin (li.wei)")
            }
            #expect(
                mesh.audit.entries().filter {
                    $0["caller"] == "department/jingxin (li.wei)" && $0["method"] == "DecideOrders"
                }
                .count >= 3, "a line per order")
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test("the enterprise list is paged: 200 a page, a link to the next, each enterprise once")
    func enterprisePages() async throws {
        try await Self.withConsole { mesh, browser in
            let profiles = (0...Console.enterprisesPerPage).map { index in
                GatewayTests.request(county: .nanhu, body: String(format: "91330402MA2P%05d", index)).profile
            }
            _ = try await mesh.store.register(profiles, registeringCounty: nil, at: 0)
            _ = try await browser.signIn("nanhu-staff", Self.password)
            func codes(_ body: String) -> [String] {
                body.components(separatedBy: "href=\"/console/enterprises/").dropFirst().map { String($0.prefix(18)) }
            }
            let first = try await browser.request("/console/enterprises")
            #expect(first.status == 200)
            #expect(codes(first.body).count == Console.enterprisesPerPage)
            let link = try #require(
                first.body.components(separatedBy: #"<a href=""#).last { $0.contains(#"id="next-page""#) })
            let next = String(link.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            #expect(next.hasPrefix("/console/enterprises?page="), "\(next)")
            let second = try await browser.request(next)
            #expect(second.status == 200)
            #expect(!second.body.contains(#"id="next-page""#))
            let all = codes(first.body) + codes(second.body)
            #expect(all.count == profiles.count)
            #expect(Set(all) == Set(profiles.map(\.creditCode)))
        }
    }

    @Test(
        "county staff find their own enterprises with entitlements and are refused another county's; HTML in a name is escaped"
    )
    func countyStaff() async throws {
        try await Self.withConsole { mesh, browser in
            var own = GatewayTests.request(county: .nanhu, recognition: "singleChampion").profile
            own.name = "<script>alert(1)</script>南湖示例"
            let other = GatewayTests.request(county: .haining, body: "91330481MA2B00002").profile
            var combining = GatewayTests.request(county: .nanhu, body: "91330402MA2B00003").profile
            // A quote and a bracket each joined by a combining mark into one Character with the next scalar.
            combining.name = "南湖\"\u{301}><b>组合</b>\u{600}<i>x"
            _ = try await mesh.store.register([own, other, combining], registeringCounty: nil, at: 0)
            _ = try await browser.signIn("nanhu-staff", Self.password)
            let list = try await browser.request("/console/enterprises?q=%E5%8D%97%E6%B9%96")
            #expect(list.status == 200)
            #expect(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;南湖示例"))
            #expect(!list.body.contains("<script>"))
            #expect(
                !list.body.contains("<b>组合") && !list.body.contains("<i>x")
                    && list.body.contains("&quot;\u{301}&gt;&lt;b&gt;组合"))
            #expect(!list.body.contains(other.creditCode), "another county's enterprise is not listed")
            let page = try await browser.request("/console/enterprises/\(own.creditCode)?as_of=2023-09-01")
            #expect(page.status == 200)
            #expect(page.body.contains("300万元"))
            let refused = try await browser.request("/console/enterprises/\(other.creditCode)")
            #expect(refused.status == 403)
            #expect(refused.body.contains("海宁市"))
        }
    }

    @Test(
        "预算测算: on attested facts, the operator forecasts the city or a county, a county its own; a bad date names the field"
    )
    func forecast() async throws {
        try await Self.withConsole { mesh, browser in
            let nanhu = GatewayTests.request(county: .nanhu).profile
            let haining = GatewayTests.request(county: .haining, body: "91330481MA2B00002").profile
            _ = try await mesh.store.register([nanhu, haining], registeringCounty: nil, at: 0)
            _ = try await browser.signIn("operator", Self.password)
            // On the register's word alone nothing would be paid: no department has attested the recognitions.
            let unattested = try await browser.request("/console/forecast?as_of=2023-09-01")
            #expect(unattested.body.contains("登记企业 2 家，其中 0 家可获兑付"), "\(unattested.body.suffix(600))")
            try await GatewayTests.attest([nanhu, haining], mesh)
            let form = try await browser.request("/console/forecast")
            #expect(form.status == 200 && form.body.contains("forecast-form") && !form.body.contains("forecast-total"))
            let city = try await browser.request("/console/forecast?as_of=2023-09-01")
            #expect(city.status == 200)
            #expect(city.body.contains("登记企业 2 家，其中 2 家可获兑付，合计 <strong>300万元</strong>"))
            #expect(city.body.contains("jzf-2023-3/3.19b"))
            let county = try await browser.request("/console/forecast?as_of=2023-09-01&county=haining")
            #expect(county.body.contains("登记企业 1 家") && county.body.contains("150万元"))
            let badDate = try await browser.request("/console/forecast?as_of=2023-13-01")
            #expect(badDate.status == 400 && badDate.body.contains("as_of"))
            _ = try await browser.request("/console/sign-out", form: [("csrf", Browser.csrf(city.body))])
            _ = try await browser.signIn("nanhu-staff", Self.password)
            let own = try await browser.request("/console/forecast?as_of=2023-09-01&county=haining")
            #expect(own.status == 200)
            #expect(own.body.contains("测算南湖区登记企业") && own.body.contains("登记企业 1 家"))
        }
    }

    @Test("an expired session sends the form through sign-in with what was typed kept, and it can be resubmitted")
    func expiredSession() async throws {
        try await Self.withConsole { mesh, browser in
            let order = try await Self.pendingOrder(mesh)
            _ = try await browser.signIn("li.wei", Self.password)
            let queue = try await browser.request("/console/queue")
            browser.advance(minutes: 31)
            // A post from another site never comes back pre-filled.
            let crossSite = try await browser.request(
                "/console/orders/\(order.id)/reject", form: [("reason", "伪造")],
                headers: ["Origin: https://evil.example"])
            #expect(crossSite.status == 401 && !crossSite.body.contains("keep.reason"))
            let expired = try await browser.request(
                "/console/orders/\(order.id)/reject",
                form: [("csrf", Browser.csrf(queue.body)), ("reason", "材料不全 <b>")])
            #expect(expired.status == 401)
            #expect(expired.body.contains(#"name="keep.reason" value="材料不全 &lt;b&gt;""#))
            #expect(try await mesh.ledger.order(id: order.id).status == .pending)
            let page = try await browser.request("/console/sign-in")
            let resumed = try await browser.request(
                "/console/sign-in",
                form: [
                    ("csrf", Browser.csrf(page.body)), ("user", "li.wei"), ("password", Self.password),
                    ("next", "/console/orders/\(order.id)/reject"), ("keep.reason", "材料不全 <b>"),
                ])
            #expect(resumed.status == 200)
            #expect(
                resumed.body.contains(#"action="/console/orders/\#(order.id)/reject""#)
                    && resumed.body.contains("材料不全 &lt;b&gt;"))
            let rejected = try await browser.request(
                "/console/orders/\(order.id)/reject",
                form: [("csrf", Browser.csrf(resumed.body)), ("reason", "材料不全 <b>")])
            #expect(rejected.status == 200)
            let decided = try await mesh.ledger.order(id: order.id)
            #expect(decided.status == .rejected && decided.reason == "材料不全 <b>")
        }
    }

    @Test("the operator sees funds that balance, 兑付率 against targets, and every replica serving")
    func operatorOverview() async throws {
        try await Self.withConsole { mesh, browser in
            // A campaign the operator ran shows with its progress.
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { await operatorClient.close() } }
            _ = try await CampaignTests.greenFactories(mesh)
            var campaign = Jiaxing_Benefits_V1_CampaignRequest()
            campaign.clauseIds = ["jzf-2023-3/3.19b"]
            campaign.asOf = CalendarDate("2023-09-01")!.message
            let ran: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, campaign)
            _ = try await browser.signIn("operator", Self.password)
            // The page asks every replica live, each within a second; on a loaded machine the first asks can
            // include TLS handshakes that take longer, so the page is read again (at most five times).
            var page = try await browser.request("/console/overview")
            for _ in 0..<4 where page.body.components(separatedBy: "SERVING").count - 1 < 5 {
                try await Task.sleep(for: .seconds(1))
                page = try await browser.request("/console/overview")
            }
            #expect(page.status == 200)
            #expect(page.body.contains("jzf-2023-3"))
            // A fund is named by its document and number, its account id beside it.
            let document = try #require(GatewayTests.catalog.documents.first { $0.id == "jzf-2023-3" })
            #expect(
                page.body.contains("《\(document.shortTitle)》（\(document.documentNumber ?? "")） 2023年度"),
                "\(page.body.components(separatedBy: "<table").dropFirst().first?.prefix(600) ?? "")")
            #expect(page.body.contains("（平衡）"))
            #expect(page.body.contains(#"<svg id="payout-chart""#))
            let campaigns = page.body.components(separatedBy: #"<table id="campaigns">"#).last ?? ""
            let link = "/console/campaigns/\(ran.campaignID)"
            #expect(campaigns.contains(#"<a href="\#(link)">\#(ran.campaignID)</a>"#), "\(campaigns.prefix(600))")
            #expect(campaigns.contains("已完成") && campaigns.contains("筛查 6 家，新拨付 5 笔"))
            // Its own page: a bar per stage, six screened of six, five orders waiting on their department.
            let detail = try await browser.request(link)
            #expect(detail.status == 200)
            #expect(detail.body.components(separatedBy: "<progress").count - 1 == 5)
            #expect(detail.body.contains(#"<td>筛查</td><td><progress value="6" max="6"></progress></td><td>6 / 6</td>"#))
            #expect(
                detail.body.contains("<td>审定</td><td><progress value=\"0\" max=\"5\"></progress></td><td>0 / 5</td>"))
            // Nothing paid yet: 南湖区 and 海宁市 each with what their orders promise, 0.0% paid.
            let shares = detail.body.components(separatedBy: #"<table id="campaign-shares">"#).last ?? ""
            let clause = try #require(GatewayTests.catalog.clause(id: "jzf-2023-3/3.19b")?.clause)
            #expect(
                shares.contains(
                    "<td>南湖区</td><td>\(clause.title)（\(clause.article)）<br><small>jzf-2023-3/3.19b</small></td><td>3</td><td>0</td>"
                ), "\(shares.prefix(800))")
            #expect(shares.contains("<td>0.0%</td>"))
            #expect(try await browser.request("/console/campaigns/no-such-campaign").body.contains("no campaign"))
            #expect(
                page.body.components(separatedBy: "SERVING").count - 1 == 5,
                "catalog, two eligibility, disbursement, notification")
            let signOut = try await browser.request("/console/sign-out", form: [("csrf", Browser.csrf(page.body))])
            #expect(signOut.status == 303)
            let after = try await browser.request("/console/overview")
            #expect(after.status == 303 && after.location.hasPrefix("/console/sign-in"))
        }
    }

    @Test(
        "county staff file an application from the enterprise page: 即申即享 decided at once; the operator sees it tallied by document and department"
    )
    func applicationFromTheConsole() async throws {
        // 2023-09-01, while the document is in force: an application is filed for today.
        try await Self.withConsole(at: Date(timeIntervalSince1970: 1_693_533_600)) { mesh, browser in
            let profile = ApplicationTests.profile()
            _ = try await mesh.store.register([profile], registeringCounty: .nanhu, at: 0)
            try await GatewayTests.attest([profile], mesh)
            _ = try await browser.signIn("nanhu-staff", Self.password)
            let page = try await browser.request("/console/enterprises/\(profile.creditCode)?as_of=2023-09-01")
            #expect(
                page.body.contains(#"<option value="jzf-2023-3/3.18a">"#),
                "the clause needing an application is offered")
            let filed = try await browser.request(
                "/console/enterprises/\(profile.creditCode)/applications",
                form: [
                    ("csrf", Browser.csrf(page.body)), ("clause", "jzf-2023-3/3.18a"), ("subject", "MES上云"),
                    ("amount_yuan", ""), ("as_of", "2023-09-01"),
                ])
            #expect(filed.status == 200, "\(filed.body.suffix(400))")
            #expect(filed.body.contains("即申即享") && filed.body.contains("80万元"))
            let badAmount = try await browser.request(
                "/console/enterprises/\(profile.creditCode)/applications",
                form: [
                    ("csrf", Browser.csrf(page.body)), ("clause", "jzf-2023-3/3.18a"), ("subject", "MES上云"),
                    ("amount_yuan", "12.345"),
                ])
            #expect(badAmount.status == 400 && badAmount.body.contains("amount_yuan"))
            let staffOnly = try await browser.request("/console/sign-out", form: [("csrf", Browser.csrf(page.body))])
            #expect(staffOnly.status == 303)
            _ = try await browser.signIn("operator", Self.password)
            let overview = try await browser.request("/console/overview")
            let tallies = overview.body.components(separatedBy: #"id="application-tallies""#).last ?? ""
            #expect(tallies.contains("<td>jzf-2023-3</td><td>市经信局</td><td>1</td><td>1</td>"))
        }
    }

    @Test(
        "a department officer decides a 限时即享 application in the console: the time left, declared facts marked, the evidence as a download, an amount over the cap refused, one within it paid"
    )
    func departmentDecidesApplication() async throws {
        try await Self.withConsole(at: Date(timeIntervalSince1970: 1_693_533_600)) { mesh, browser in
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2023-38", year: 2023, budgetFen: 1_000_000_000)
            try await mesh.store.createAccount(
                ConsoleAccount(userName: "zhao.min", role: .department, party: "shangwu", displayName: "赵敏"),
                password: Self.password, policy: Self.policy, at: 0)
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            var request = ApplicationTests.application(
                clause: "jzbf-2023-38/2.4.15b", claimed: [ApplicationTests.crossBorderTrade], requested: 300_000,
                subject: "crossBorder/2023")
            var file = Jiaxing_Benefits_V1_Evidence()
            file.name = "报关单.png"
            file.contentType = "image/png"
            file.content = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 1, count: 100))
            request.evidence = [file]
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(GatewayMethods.fileApplication, request)
            #expect(filed.status == .pending)

            _ = try await browser.signIn("zhao.min", Self.password)
            let queue = try await browser.request("/console/queue")
            #expect(queue.body.contains("application-\(filed.id)"))
            #expect(queue.body.contains("剩余 36 天（20 个工作日时限）"), "due 2023-10-07, after the National Day holiday")
            let link = "/console/applications/\(filed.id)/evidence/\(filed.evidence[0].sha256)"
            #expect(queue.body.contains(link))
            // What the decision rests on that no department attested is marked so: the claimed trade and the
            // county's own record of its project.
            // Facts and project kinds by the catalog's names, not their ids.
            #expect(queue.body.contains("跨境电商综试区模式进出口 2023年：是（企业申报，未经部门认定）"))
            #expect(queue.body.contains("项目 纯数字化改造项目「MES上云」400万元 2023-05-01验收（企业申报，未经部门认定）"))
            #expect(!queue.body.contains("crossBorderEcommerceTrade"))
            let download = try await browser.request(link)
            #expect(download.status == 200)
            #expect(download.headers.lowercased().contains("content-type: image/png"))
            #expect(download.headers.lowercased().contains("content-disposition: attachment"))

            let overCap = try await browser.request(
                "/console/applications/\(filed.id)/decide",
                form: [
                    ("csrf", Browser.csrf(queue.body)), ("decision", "approve"),
                    ("amount_yuan", "\(filed.maximumFen / 100 + 1)"), ("reason", ""),
                ])
            #expect(overCap.status == 400 && overCap.body.contains("amount_fen"))
            for signed in ["1.-5", "-3", "+3", "1e3", "1.234"] {
                let refused = try await browser.request(
                    "/console/applications/\(filed.id)/decide",
                    form: [
                        ("csrf", Browser.csrf(queue.body)), ("decision", "approve"), ("amount_yuan", signed),
                        ("reason", ""),
                    ])
                #expect(refused.status == 400 && refused.body.contains("amount_yuan"), "\(signed)")
            }
            let approved = try await browser.request(
                "/console/applications/\(filed.id)/decide",
                form: [
                    ("csrf", Browser.csrf(queue.body)), ("decision", "approve"), ("amount_yuan", "2500.00"),
                    ("reason", ""),
                ])
            #expect(approved.status == 200 && approved.body.contains("已批准，核定 0.25万元"))
            let decided = try #require(
                try await ApplicationsDesk(ledger: mesh.ledger).list(.init()).applications.first { $0.id == filed.id })
            #expect(decided.status == .approved && decided.decidedFen == 250_000)
            #expect(decided.decidedBy == "department/shangwu (zhao.min)")
        }
    }

    @Test("replaying a notice: the operator's button names a notice that does not exist; a department may not replay")
    func replayRoute() async throws {
        try await Self.withConsole { _, browser in
            _ = try await browser.signIn("li.wei", Self.password)
            let queue = try await browser.request("/console/queue")
            let refused = try await browser.request(
                "/console/deliveries/no-such-notice/replay", form: [("csrf", Browser.csrf(queue.body))])
            #expect(refused.status == 403)
            let signOut = try await browser.request("/console/sign-out", form: [("csrf", Browser.csrf(queue.body))])
            #expect(signOut.status == 303)
            _ = try await browser.signIn("operator", Self.password)
            let overview = try await browser.request("/console/overview")
            let missing = try await browser.request(
                "/console/deliveries/no-such-notice/replay", form: [("csrf", Browser.csrf(overview.body))])
            #expect(missing.status == 404 && missing.body.contains("notice_id"))
        }
    }
}
