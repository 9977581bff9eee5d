import BenefitsDomain
import Foundation
import HummingbirdBcrypt
import MeshIdentity
import NIOPosix
import SQLStore

extension GatewayStore {
    /// Why a sign-in failed, for the audit log only: the person is told the same thing in every case.
    public enum SignInRefusal: String, Error, Sendable, Hashable {
        case unknownUser, wrongPassword, locked
    }

    /// Creates an account, or replaces its password and party when `replace` is set.
    public func createAccount(
        _ account: ConsoleAccount, password: String, policy: ConsolePolicy, replace: Bool = false, at millis: Int64
    ) async throws {
        guard account.userName.range(of: #"^[A-Za-z0-9._-]{2,64}$"#, options: .regularExpression) != nil else {
            throw GatewayStoreError(.invalidArgument, field: "user", "2 to 64 letters, digits, '.', '_' or '-'")
        }
        switch account.role {
        case .county:
            guard account.county != nil else {
                throw GatewayStoreError(
                    .invalidArgument, field: "party",
                    "'\(account.party)' is not a county party name (nanhu, xiuzhou, …)")
            }
        case .department:
            guard account.department != nil else {
                throw GatewayStoreError(
                    .invalidArgument, field: "party",
                    "'\(account.party)' is not a department party name (jingxin, fagai, …)")
            }
        case .operator:
            guard account.party == "operator" else {
                throw GatewayStoreError(.invalidArgument, field: "party", "the city operator's party is 'operator'")
            }
        case .service, .client:
            throw GatewayStoreError(
                .invalidArgument, field: "role", "an account acts for a county, a department or the operator")
        }
        let length = password.utf8.count
        guard length >= policy.minimumPasswordLength, length <= policy.maximumPasswordLength else {
            throw GatewayStoreError(
                .invalidArgument, field: "password",
                "\(policy.minimumPasswordLength) to \(policy.maximumPasswordLength) bytes, got \(length)")
        }
        guard !password.utf8.contains(0) else {
            throw GatewayStoreError(.invalidArgument, field: "password", "no NUL characters")
        }
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: policy.bcryptCost) }
        try await self.database.transaction { transaction in
            let exists =
                try await transaction.queryOne(
                    "SELECT 1 FROM console_accounts WHERE user_name = ?", [.text(account.userName)]) != nil
            if exists && !replace {
                throw GatewayStoreError(
                    .alreadyExists, field: "user", "\(account.userName) exists; replace it to set a new password")
            }
            try await transaction.execute("DELETE FROM console_accounts WHERE user_name = ?", [.text(account.userName)])
            try await transaction.execute("DELETE FROM console_sessions WHERE user_name = ?", [.text(account.userName)])
            try await transaction.execute(
                "INSERT INTO console_accounts (user_name, role, party, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(account.userName), .text(account.role.rawValue), .text(account.party),
                    .text(account.displayName), .text(hash), .integer(millis),
                ]
            )
        }
    }

    public func accounts() async throws -> [ConsoleAccount] {
        try await self.database.read { transaction in
            try await transaction.query(
                "SELECT user_name, role, party, display_name FROM console_accounts ORDER BY user_name", [])
        }.compactMap(Self.account)
    }

    public func account(userName: String) async throws -> ConsoleAccount? {
        try await self.database.read { transaction in
            try await transaction.queryOne(
                "SELECT user_name, role, party, display_name FROM console_accounts WHERE user_name = ?",
                [.text(userName)])
        }.flatMap(Self.account)
    }

    static func account(_ row: SQLRow) -> ConsoleAccount? {
        guard let role = PartyRole(rawValue: row.text(1)), ConsoleAccount.roles.contains(role) else { return nil }
        return ConsoleAccount(userName: row.text(0), role: role, party: row.text(2), displayName: row.text(3))
    }

    /// Checks a password. Failures count towards a lock-out; a success resets the count. An unknown user costs
    /// the same bcrypt work as a known one, so timing does not tell which part was wrong. The count and the
    /// lock are read and written in one transaction after the (slow) check, so concurrent guesses cannot
    /// lift a lock another one set, and a right password is refused while the account is locked.
    public func signIn(userName: String, password: String, policy: ConsolePolicy, at millis: Int64) async throws
        -> Result<ConsoleAccount, SignInRefusal>
    {
        let row = try await self.database.read { transaction in
            try await transaction.queryOne(
                "SELECT user_name, role, party, display_name, password_hash FROM console_accounts WHERE user_name = ?",
                [.text(userName)]
            )
        }
        let hash = row?.text(4) ?? Self.decoyHash
        // bcrypt reads a C string: a NUL would end the password early, so a password with one never matches.
        let acceptable = password.utf8.count <= policy.maximumPasswordLength && !password.utf8.contains(0)
        let matches = try await NIOThreadPool.singleton.runIfActive {
            acceptable && Bcrypt.verify(password, hash: hash)
        }
        guard let row, let account = Self.account(row) else { return .failure(.unknownUser) }
        return try await self.database.transaction { transaction in
            guard
                let current = try await transaction.queryOne(
                    "SELECT failed_attempts, locked_until FROM console_accounts WHERE user_name = ?", [.text(userName)])
            else {
                return .failure(.unknownUser)
            }
            if current.integer(1) > millis { return .failure(.locked) }
            if matches {
                try await transaction.execute(
                    "UPDATE console_accounts SET failed_attempts = 0, locked_until = 0 WHERE user_name = ?",
                    [.text(userName)])
                return .success(account)
            }
            let failures = current.integer(0) + 1
            if failures >= Int64(policy.maximumFailedAttempts) {
                try await transaction.execute(
                    "UPDATE console_accounts SET failed_attempts = 0, locked_until = ? WHERE user_name = ?",
                    [.integer(millis + policy.lockoutMillis), .text(userName)]
                )
            } else {
                try await transaction.execute(
                    "UPDATE console_accounts SET failed_attempts = ? WHERE user_name = ?",
                    [.integer(failures), .text(userName)])
            }
            return .failure(.wrongPassword)
        }
    }

    /// A bcrypt hash of a random secret nobody knows, verified against when the user does not exist.
    static let decoyHash = Bcrypt.hash(GatewayStore.randomToken(), cost: ConsolePolicy().bcryptCost)
}
