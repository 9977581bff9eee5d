import ArgumentParser
import BenefitsAPI
import Foundation
import GatewayStore
import Logging
import MeshHarness
import MeshIdentity
import MeshMessages
import MeshRPC
import ServiceKit

/// Web console accounts, kept in the gateway's database.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Create and list web console accounts (county staff, department officers, the city operator).",
        subcommands: [Add.self, List.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "Topology file: the gateway's database is <state>/gateway.sqlite.")
        var topology = "Compose/topology.json"

        @Option(help: "The gateway's database instead: a SQLite file or postgres://… (as the gateway's --database).")
        var database: String?

        @Option(
            help:
                "A running gateway to go through instead (Compose's published port), with the operator's certificate: the database is the gateway's business."
        )
        var host: String?

        @Option(help: "With --host: the gateway's mesh port.")
        var port = 7400

        /// The gateway at `--host`, as the operator, when one is named.
        func gateway() throws -> GatewayClient? {
            guard let host = self.host else { return nil }
            let certificates = try Topology.load(path: self.topology).certificates
            return GatewayClient(
                try MeshTarget.remote(host: host, port: self.port, certificates: certificates).client(as: "operator"))
        }

        /// Runs `body` on the gateway's store, its database served meanwhile.
        func withStore<Result>(_ body: (GatewayStore) async throws -> Result) async throws -> Result {
            let path = try self.database ?? "\(Topology.load(path: self.topology).state)/gateway.sqlite"
            if !path.hasPrefix("postgres") {
                try FileManager.default.createDirectory(
                    atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                    withIntermediateDirectories: true)
            }
            var logger = Logger(label: "mesh.account")
            logger.logLevel = .warning
            let database = try DatabaseOption.open(path, logger: logger)
            return try await database.running { try await body(GatewayStore.open(database)) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create an account; the password is read from standard input (one line), never from the command line."
        )

        @OptionGroup var location: Location

        @Option(help: "User name: 2 to 64 letters, digits, '.', '_' or '-'.")
        var user: String

        @Option(help: "county, department or operator.")
        var role: String

        @Option(help: "The county or department party name (nanhu, jingxin, …); operator for the operator.")
        var party: String?

        @Option(help: "The person's name as shown in the console.")
        var name: String?

        @Flag(help: "Replace an existing account's password and party, and end its sessions.")
        var replace = false

        func run() async throws {
            guard let role = PartyRole(rawValue: self.role), ConsoleAccount.roles.contains(role) else {
                throw ValidationError("--role: county, department or operator, got '\(self.role)'")
            }
            let party = self.party ?? (role == .operator ? "operator" : "")
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw ValidationError(
                    "password: give it on standard input, e.g. `printf '%s\\n' \"$PASSWORD\" | mesh account add …`")
            }
            let account = ConsoleAccount(
                userName: self.user, role: role, party: party, displayName: self.name ?? self.user)
            if let gateway = try self.location.gateway() {
                var request = Jiaxing_Benefits_V1_PutConsoleAccountRequest()
                request.user = account.userName
                request.role = role.rawValue
                request.party = party
                request.displayName = account.displayName
                request.password = password
                request.replace = self.replace
                do {
                    _ = try await gateway.client.closing {
                        try await gateway.putConsoleAccount(request, options: CallOptions(timeout: .seconds(30)))
                    }
                } catch let error as RPCError {
                    throw ValidationError("\(error.code): \(error.message)")
                }
                print("account \(account.userName): \(account.partyIdentity)\(self.replace ? " (replaced)" : "")")
                return
            }
            do {
                try await self.location.withStore { store in
                    try await store.createAccount(
                        account, password: password, policy: ConsolePolicy(), replace: self.replace,
                        at: Int64(Date().timeIntervalSince1970 * 1000))
                }
            } catch let error as GatewayStoreError {
                throw ValidationError("\(error)")
            }
            print("account \(account.userName): \(account.partyIdentity)\(self.replace ? " (replaced)" : "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts.")

        @OptionGroup var location: Location

        func run() async throws {
            if let gateway = try self.location.gateway() {
                let response = try await gateway.client.closing {
                    try await gateway.listConsoleAccounts(
                        Jiaxing_Benefits_V1_ListConsoleAccountsRequest(), options: CallOptions(timeout: .seconds(10)))
                }
                for account in response.accounts {
                    print("\(account.user)\t\(account.role)/\(account.party)\t\(account.displayName)")
                }
                return
            }
            for account in try await self.location.withStore({ try await $0.accounts() }) {
                print("\(account.userName)\t\(account.partyIdentity)\t\(account.displayName)")
            }
        }
    }
}
