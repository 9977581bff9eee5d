import BenefitsDomain
import Crypto
import Foundation
import SQLStore

/// A signed-in browser: the cookie holds `token`, the store only its SHA-256, so a copy of the database
/// signs nobody in. `csrfToken` goes into every form and must come back with it.
public struct ConsoleSession: Sendable, Hashable {
    public var token: String
    public var csrfToken: String
    public var account: ConsoleAccount

    public init(token: String, csrfToken: String, account: ConsoleAccount) {
        self.token = token
        self.csrfToken = csrfToken
        self.account = account
    }
}

extension GatewayStore {
    public func createSession(for account: ConsoleAccount, at millis: Int64) async throws -> ConsoleSession {
        let session = ConsoleSession(token: Self.randomToken(), csrfToken: Self.randomToken(), account: account)
        try await self.database.transaction { transaction in
            try await transaction.execute(
                "INSERT INTO console_sessions (token_hash, user_name, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(Self.digest(session.token)), .text(account.userName), .text(session.csrfToken),
                    .integer(millis), .integer(millis),
                ]
            )
        }
        return session
    }

    /// The live session of a cookie's token, its idle clock restarted; nil when unknown or timed out.
    public func session(token: String, policy: ConsolePolicy, at millis: Int64) async throws -> ConsoleSession? {
        let key = Self.digest(token)
        return try await self.database.transaction { transaction in
            guard
                let row = try await transaction.queryOne(
                    """
                    SELECT a.user_name, a.role, a.party, a.display_name, s.csrf_token, s.created_at, s.last_seen_at
                    FROM console_sessions s JOIN console_accounts a ON a.user_name = s.user_name WHERE s.token_hash = ?
                    """,
                    [.text(key)]
                )
            else { return nil }
            guard millis - row.integer(6) <= policy.idleTimeoutMillis,
                millis - row.integer(5) <= policy.absoluteTimeoutMillis,
                let account = Self.account(row)
            else {
                try await transaction.execute("DELETE FROM console_sessions WHERE token_hash = ?", [.text(key)])
                return nil
            }
            try await transaction.execute(
                "UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?", [.integer(millis), .text(key)])
            return ConsoleSession(token: token, csrfToken: row.text(4), account: account)
        }
    }

    public func endSession(token: String) async throws {
        try await self.database.transaction { transaction in
            try await transaction.execute(
                "DELETE FROM console_sessions WHERE token_hash = ?", [.text(Self.digest(token))])
        }
    }

    /// 32 random bytes as 64 hexadecimal digits.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexadecimal
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).hexadecimal
    }
}
