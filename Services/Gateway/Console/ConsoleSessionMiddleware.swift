import Foundation
import HTTPTypes
import Hummingbird

/// Finds the session of the request's cookie; sends anyone without one to sign in (keeping what a POST
/// carried), and refuses every POST whose CSRF token is not the session's.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let token = request.cookies[Console.sessionCookie]?.value, !token.isEmpty {
            context.session = try await self.console.store.session(
                token: token, policy: self.console.policy, at: self.console.nowMillis)
        }
        let path = request.uri.path
        if path == "/console/sign-in" { return try await next(request, context) }
        guard let session = context.session else {
            if request.method == .post {
                // The session ended while the person was filling the form: sign in again, then resubmit. Only a
                // form posted from the console itself is kept: a cross-site post (which never carries the
                // SameSite=Strict cookie) must not come back pre-filled with a fresh token.
                let form = try await ConsoleForm.read(request)
                let kept = Self.sameOrigin(request) ? form.fields.filter { $0.name != "csrf" } : []
                return self.console.signInPage(
                    next: path, preserved: kept, status: .unauthorized, error: "会话已过期，请重新登录。")
            }
            let target = request.uri.string.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: "/console/sign-in?next=\(target)")
        }
        if request.method == .post {
            let form = try await ConsoleForm.read(request)
            guard constantTimeEqual(form["csrf"] ?? "", session.csrfToken) else {
                self.console.audit.record(
                    caller: "console/\(session.account.userName)", method: "Console", outcome: "refused",
                    detail: ["reason": "CSRF token missing or wrong", "path": path])
                return self.console.message(
                    "请求被拒绝", "表单校验码缺失或不正确，请求未被处理。请回到页面重新提交。", session: session, status: .forbidden,
                    back: Console.home(of: session.account))
            }
            context.form = form
        }
        return try await next(request, context)
    }

    /// Whether the browser says the request came from the console's own pages (Sec-Fetch-Site, else Origin
    /// against Host). A client that sends neither (not a browser) is taken at its word.
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] { return site == "same-origin" }
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            return origin == "https://\(host)"
        }
        return true
    }
}
