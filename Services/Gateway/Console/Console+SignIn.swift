import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird

extension Console {
    /// The same words for every failure: no hint whether the user or the password was wrong, or locked.
    static let signInRefused = "用户名或密码不正确。连续多次失败后账户将暂时锁定。"

    func signInPage(_ request: Request) throws -> Response {
        let next = request.uri.queryParameters.get("next") ?? ""
        return self.signInPage(next: next, preserved: [], status: .ok, error: nil)
    }

    /// The sign-in form with a fresh token, set as a cookie too: a post must bring both (double submit).
    /// `preserved` fields travel through the form, so nothing typed before a session ended is lost.
    func signInPage(
        next: String, preserved: [(name: String, value: String)], status: HTTPResponse.Status, error: String?,
        user: String = ""
    ) -> Response {
        let token = GatewayStore.randomToken()
        let kept = preserved.map {
            ["name": $0.name.hasPrefix("keep.") ? $0.name : "keep.\($0.name)", "value": $0.value]
        }
        var response = self.page(
            "登录", "signIn",
            [
                "csrf": token, "next": Self.safeNext(next) ?? "", "user": user, "preserved": kept,
                "hasPreserved": !kept.isEmpty,
            ], session: nil, status: status, error: error)
        response.setCookie(
            Cookie(
                name: Self.signInCookie, value: token, path: "/console/sign-in", secure: true, httpOnly: true,
                sameSite: .strict))
        return response
    }

    func signIn(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        let kept = form.fields.filter { $0.name.hasPrefix("keep.") }
        let next = form["next"] ?? ""
        // Only a name an account could have is written anywhere (the audit log included).
        let user = String(
            (form.text("user") ?? "").unicodeScalars.filter {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }.prefix(64))
        guard let cookie = request.cookies[Self.signInCookie]?.value, constantTimeEqual(cookie, form["csrf"] ?? "")
        else {
            self.audit.record(
                caller: "console/\(user)", method: "ConsoleSignIn", outcome: "refused",
                detail: ["reason": "CSRF token missing or wrong"])
            return self.signInPage(next: next, preserved: kept, status: .forbidden, error: "登录表单已失效，请重新输入。")
        }
        let password = form["password"] ?? ""
        // bcrypt is deliberately slow: a flood of sign-ins waits its turn instead of taking every thread.
        guard self.signIns.enter() else {
            self.audit.record(
                caller: "console/\(user)", method: "ConsoleSignIn", outcome: "refused",
                detail: ["reason": "too many sign-ins at once"])
            return self.signInPage(
                next: next, preserved: kept, status: .tooManyRequests, error: "登录请求过多，请稍后再试。", user: user)
        }
        defer { self.signIns.leave() }
        switch try await self.store.signIn(userName: user, password: password, policy: self.policy, at: self.nowMillis)
        {
        case .failure(let refusal):
            self.audit.record(
                caller: "console/\(user)", method: "ConsoleSignIn", outcome: "refused",
                detail: ["reason": refusal.rawValue])
            return self.signInPage(
                next: next, preserved: kept, status: .unauthorized, error: Self.signInRefused, user: user)
        case .success(let account):
            let session = try await self.store.createSession(for: account, at: self.nowMillis)
            self.audit.record(
                caller: "console/\(user)", method: "ConsoleSignIn", outcome: "signedIn",
                detail: ["party": account.partyIdentity])
            var response: Response
            if !kept.isEmpty, let action = Self.safeNext(next) {
                let fields = kept.map { ["name": String($0.name.dropFirst("keep.".count)), "value": $0.value] }
                response = self.page("重新提交", "resume", ["action": action, "fields": fields], session: session)
            } else {
                response = Response.redirect(to: Self.safeNext(next) ?? Self.home(of: account))
            }
            response.setCookie(
                Cookie(
                    name: Self.sessionCookie, value: session.token, path: "/console", secure: true, httpOnly: true,
                    sameSite: .strict))
            response.setCookie(
                Cookie(
                    name: Self.signInCookie, value: "", maxAge: 0, path: "/console/sign-in", secure: true,
                    httpOnly: true, sameSite: .strict))
            return response
        }
    }

    func signOut(_ context: ConsoleRequestContext) async throws -> Response {
        if let session = context.session {
            try await self.store.endSession(token: session.token)
            self.audit.record(
                caller: "console/\(session.account.userName)", method: "ConsoleSignOut", outcome: "signedOut")
        }
        var response = Response.redirect(to: "/console/sign-in")
        response.setCookie(
            Cookie(
                name: Self.sessionCookie, value: "", maxAge: 0, path: "/console", secure: true, httpOnly: true,
                sameSite: .strict))
        return response
    }

    /// A path inside the console to return to, or nil: never another site, never the sign-in page itself.
    static func safeNext(_ next: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-?=&%".unicodeScalars)
        guard next.hasPrefix("/console/"), !next.contains("//"), !next.hasPrefix("/console/sign-"),
            next.unicodeScalars.count <= 512,
            next.unicodeScalars.allSatisfy({ allowed.contains($0) })
        else { return nil }
        return next
    }
}
