import Foundation
import GatewayService
import GatewayStore
import HTTPTypes
import Hummingbird
import Logging
import MeshIdentity
import MeshRPC
import Mustache
import NIOCore

/// The web console, served by the gateway over TLS: department officers decide payout orders and
/// applications, county staff look up their enterprises and file applications, the city operator watches
/// funds, 兑付率, the services and dead-lettered notices. Plain server-rendered HTML in Chinese, no script.
///
/// Every action is a call on the gateway's own mesh server (in process) as the account's party, with the person named
/// (`ConsoleGateway`), so the console can do nothing a certificate holder of that party could not.
public struct Console: Sendable {
    /// Largest form body accepted.
    public static let maximumFormBytes = 64 << 10
    static let sessionCookie = "jb_session"
    static let signInCookie = "jb_sign_in"

    let store: GatewayStore
    let policy: ConsolePolicy
    let gateway: ConsoleGateway
    let services: GatewayHandlers.Services?
    /// The catalog's names for facts, recognitions, levels and project kinds, so officers read 牵头承担国家重点研发计划
    /// rather than `leadsNationalKeyRdProgramme`.
    let vocabulary = VocabularyCache()
    let audit: AuditLog
    let library: MustacheLibrary
    let now: @Sendable () -> Date
    /// Sign-ins being checked at once (each a bcrypt), at most `maximumConcurrentSignIns`.
    let signIns = ConcurrencyLimit(maximum: Console.maximumConcurrentSignIns)
    public static let maximumConcurrentSignIns = 8

    /// - Parameters:
    ///   - gateway: a client of this gateway's own mesh server (in process, as the gateway's own party).
    ///   - services: the replica pools, for the operator's health table.
    public init(
        store: GatewayStore, policy: ConsolePolicy = ConsolePolicy(), gateway: MeshClient,
        services: GatewayHandlers.Services?,
        audit: AuditLog, now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.store = store
        self.policy = policy
        self.gateway = ConsoleGateway(client: gateway)
        self.services = services
        self.audit = audit
        self.library = try ConsoleTemplates.library()
        self.now = now
    }

    var nowMillis: Int64 { Int64(self.now().timeIntervalSince1970 * 1000) }

    public func router() -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        // A span per request; the calls a page makes through the gateway are its children.
        router.add(middleware: TracingMiddleware())
        router.add(middleware: ConsoleSecurityHeaders())
        router.get("/") { _, _ in Response.redirect(to: "/console") }
        let console = router.group("console").add(middleware: ConsoleSessionMiddleware(console: self))
        console.get("/") { _, context in
            guard let account = context.session?.account else { return Response.redirect(to: "/console/sign-in") }
            return Response.redirect(to: Self.home(of: account))
        }
        console.get("sign-in") { request, _ in try self.signInPage(request) }
        console.post("sign-in") { request, context in try await self.signIn(request, context) }
        console.post("sign-out") { _, context in try await self.signOut(context) }
        self.addDepartmentRoutes(console)
        self.addCountyRoutes(console)
        self.addOperatorRoutes(console)
        return router
    }

    /// Stands in where a page is reached without a session (the middleware prevents it; nothing is shown).
    static let noSession = ConsoleSession(
        token: "", csrfToken: "", account: ConsoleAccount(userName: "", role: .county, party: "", displayName: ""))

    static func home(of account: ConsoleAccount) -> String {
        switch account.role {
        case .department: return "/console/queue"
        case .county: return "/console/enterprises"
        case .operator: return "/console/overview"
        case .service, .client: return "/console/sign-in"  // no account holds these roles
        }
    }

    // MARK: Rendering

    /// A full page: `template` rendered with `values`, inside the layout with the account's navigation.
    func page(
        _ title: String, _ template: String, _ values: [String: Any], session: ConsoleSession?,
        status: HTTPResponse.Status = .ok, flash: String? = nil, error: String? = nil
    ) -> Response {
        var values = values
        values["csrf"] = session?.csrfToken ?? values["csrf"]
        let body = self.library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let flash { layout["flash"] = flash }
        if let error { layout["error"] = error }
        if let session {
            let account = session.account
            layout["account"] =
                [
                    "displayName": account.displayName, "roleName": Self.roleName(account), "csrf": session.csrfToken,
                    "links": Self.links(account).map { ["href": $0.0, "label": $0.1] },
                ] as [String: Any]
        }
        let html = self.library.render(layout, withTemplate: "layout") ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func message(
        _ title: String, _ text: String, session: ConsoleSession?, status: HTTPResponse.Status, back: String? = nil
    ) -> Response {
        var values: [String: Any] = ["text": text]
        if let back { values["back"] = back }
        return self.page(title, "message", values, session: session, status: status)
    }

    static func roleName(_ account: ConsoleAccount) -> String {
        switch account.role {
        case .county: return "\(account.county?.chineseName ?? account.party)工作人员"
        case .department: return account.department?.chineseName ?? account.party
        case .operator: return "市级运营"
        case .service, .client: return account.party
        }
    }

    static func links(_ account: ConsoleAccount) -> [(String, String)] {
        switch account.role {
        case .department: return [("/console/queue", "待办审批")]
        case .county: return [("/console/enterprises", "本地企业"), ("/console/forecast", "预算测算")]
        case .operator:
            return [("/console/overview", "运行总览"), ("/console/enterprises", "全部企业"), ("/console/forecast", "预算测算")]
        case .service, .client: return []
        }
    }

    /// An error from the mesh as a page: the status it maps to and its message, which names the field.
    func failure(_ error: any Error, session: ConsoleSession?, back: String?) -> Response {
        let rpc = RPCError.from(error)
        let status: HTTPResponse.Status
        switch rpc.code {
        case .permissionDenied: status = .forbidden
        case .notFound: status = .notFound
        case .invalidArgument, .failedPrecondition, .outOfRange, .alreadyExists: status = .badRequest
        case .resourceExhausted: status = .tooManyRequests
        case .unavailable, .deadlineExceeded: status = .serviceUnavailable
        default: status = .internalServerError
        }
        let title = status == .forbidden ? "无权访问" : "操作未完成"
        return self.message(title, rpc.message, session: session, status: status, back: back)
    }
}
