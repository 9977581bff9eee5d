import Foundation
import GatewayStore
import MeshIdentity
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    /// The operator's: creates a web console account, or replaces one (a new password and party; its sessions
    /// end). Through the gateway like every party's call, so a deployment's operator needs no access to the
    /// gateway's database. The password is hashed here and appears in no answer, log or audit line.
    public func putConsoleAccount(request: Jiaxing_Benefits_V1_PutConsoleAccountRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ConsoleAccountEntry
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        guard let role = PartyRole(rawValue: request.role), ConsoleAccount.roles.contains(role) else {
            let error = RPCError(.invalidArgument, "role: county, department or operator, got '\(request.role)'")
            self.audit.record(
                caller: caller.description, method: "PutConsoleAccount", outcome: "refused",
                detail: ["user": request.user, "reason": error.message])
            throw error
        }
        let party = request.party.isEmpty && role == .operator ? "operator" : request.party
        let account = ConsoleAccount(
            userName: request.user, role: role, party: party,
            displayName: request.displayName.isEmpty ? request.user : request.displayName)
        do {
            try await self.store.createAccount(
                account, password: request.password, policy: ConsolePolicy(), replace: request.replace,
                at: Self.nowMillis())
        } catch let error as GatewayStoreError {
            self.audit.record(
                caller: caller.description, method: "PutConsoleAccount", outcome: "refused",
                detail: ["user": request.user, "reason": error.description])
            throw error.rpcError
        }
        self.audit.record(
            caller: caller.description, method: "PutConsoleAccount",
            outcome: request.replace ? "replaced" : "created",
            detail: ["user": account.userName, "party": account.partyIdentity])
        return Self.entry(account)
    }

    /// The operator's: every console account, by user name, without passwords.
    public func listConsoleAccounts(request: Jiaxing_Benefits_V1_ListConsoleAccountsRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ListConsoleAccountsResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        var response = Jiaxing_Benefits_V1_ListConsoleAccountsResponse()
        response.accounts = try await self.store.accounts().map(Self.entry)
        return response
    }

    static func entry(_ account: ConsoleAccount) -> Jiaxing_Benefits_V1_ConsoleAccountEntry {
        var entry = Jiaxing_Benefits_V1_ConsoleAccountEntry()
        entry.user = account.userName
        entry.role = account.role.rawValue
        entry.party = account.party
        entry.displayName = account.displayName
        return entry
    }
}
