import Configuration
import Foundation
import SystemPackage

/// Where a service's settings come from, highest first: a flag given on the command line, the environment
/// (`--catalog-port` is `MESH_CATALOG_PORT`), a file in the secrets directory (`/run/secrets/mesh-catalog-port`,
/// a Compose secret; its surrounding blanks and newline dropped), and last the flag's default. Only regular
/// files are read (swift-configuration's `DirectoryFilesProvider`): a Kubernetes secret volume's entries are
/// symbolic links, which it passes over; mount such a secret with `subPath`, or set the variable. An empty
/// variable or file counts as not set.
/// A container is configured without a command line, and a password never appears in one.
///
/// Invariant: a value from the environment or a file passes the same checks as the flag's (`ServiceSettingsError`
/// names the variable, the file and the flag), so no setting reaches a service unchecked.
public struct ServiceSettings: Sendable {
    /// Every setting's name begins with it, in the environment and in the secrets directory: `HOST` or `PORT`
    /// alone are often set for something else.
    public static let prefix = "mesh"
    /// Where Compose and Kubernetes mount secrets; `MESH_SECRETS_DIRECTORY` names another.
    public static let defaultSecretsDirectory = "/run/secrets"

    /// What `--help` says of it, for every service.
    public static let discussion = """
        Every option may also be set in the environment, as MESH_ and its name in capitals with _ for - \
        (MESH_CATALOG_PORT for --catalog-port), or in a file of the secrets directory (/run/secrets, or \
        MESH_SECRETS_DIRECTORY) named mesh- and its name (mesh-catalog-port). A flag wins over the \
        environment, the environment over a file, a file over the default. A PostgreSQL password is never a \
        flag: it is read from the URL, MESH_DATABASE_PASSWORD, the file mesh-database-password, PGPASSWORD or \
        the file PGPASSWORD_FILE names, in that order.
        """

    let given: Set<String>
    let reader: ConfigReader
    let secretsDirectory: String

    /// - Parameters:
    ///   - arguments: the command line, for which flags were given (ArgumentParser has checked it already).
    ///   - secretsDirectory: read once, here; a directory that does not exist holds nothing.
    public static func load(
        arguments: [String] = CommandLine.arguments,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        secretsDirectory: String? = nil
    ) async throws -> ServiceSettings {
        let secretsDirectory = secretsDirectory ?? environment["MESH_SECRETS_DIRECTORY"] ?? Self.defaultSecretsDirectory
        let files: DirectoryFilesProvider
        do {
            files = try await DirectoryFilesProvider(directoryPath: FilePath(secretsDirectory), allowMissing: true)
        } catch {
            throw ServiceSettingsError(message: "secrets directory \(secretsDirectory): \(error)")
        }
        let given = Set(
            arguments.dropFirst().compactMap { argument -> String? in
                guard argument.hasPrefix("--"), argument.count > 2 else { return nil }
                return String(argument.dropFirst(2).prefix { $0 != "=" })
            })
        // An empty variable is as if unset: the file, then the default, decide.
        let set = environment.filter { !$0.value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: set, secretsSpecifier: .none), files,
        ])
        return ServiceSettings(given: given, reader: reader, secretsDirectory: secretsDirectory)
    }

    /// The environment variable that sets `--name`.
    public static func variable(_ name: String) -> String {
        (Self.prefix + "_" + name).uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The file in the secrets directory that sets `--name`.
    public func file(_ name: String) -> String { "\(self.secretsDirectory)/\(Self.prefix)-\(name)" }

    /// The text for `--name` from the environment or the secrets directory, if either has one.
    func text(_ name: String, isSecret: Bool = false) -> String? {
        guard let text = self.reader.string(forKey: ConfigKey([Self.prefix, name]), isSecret: isSecret),
            !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else { return nil }
        return text
    }

    /// Where a value that did not pass came from, for its message.
    func origin(_ name: String) -> String {
        "\(Self.variable(name)) (or \(self.file(name))), read for --\(name)"
    }

    /// `--name`'s value: the flag where given, else the environment, else the secrets directory, else
    /// `parsed`, the flag's default.
    public func resolve<Value: LosslessStringConvertible>(_ name: String, _ parsed: Value) throws -> Value {
        guard !self.given.contains(name), let text = self.text(name) else { return parsed }
        return try self.convert(text, for: name)
    }

    /// `--name`'s value where it has no default: nil if no flag, variable or file sets it.
    public func resolve<Value: LosslessStringConvertible>(_ name: String, _ parsed: Value?) throws -> Value? {
        guard !self.given.contains(name), let text = self.text(name) else { return parsed }
        return try self.convert(text, for: name) as Value
    }

    func convert<Value: LosslessStringConvertible>(_ text: String, for name: String) throws -> Value {
        guard let value = Value(text) else {
            let kind = Value.self is any BinaryInteger.Type ? "whole number" : "\(Value.self)"
            throw ServiceSettingsError(message: "\(self.origin(name)): '\(text)' is not a \(kind)")
        }
        return value
    }

    /// A setting with named values (a log format), checked against them.
    public func resolve<Value: RawRepresentable & CaseIterable>(_ name: String, _ parsed: Value) throws -> Value
    where Value.RawValue == String {
        guard !self.given.contains(name), let text = self.text(name) else { return parsed }
        return try self.convertCase(text, for: name)
    }

    /// `--name`'s value, one of a set, where it has no default: nil if no flag, variable or file sets it.
    public func resolve<Value: RawRepresentable & CaseIterable>(_ name: String, _ parsed: Value?) throws -> Value?
    where Value.RawValue == String {
        guard !self.given.contains(name), let text = self.text(name) else { return parsed }
        return try self.convertCase(text, for: name) as Value
    }

    func convertCase<Value: RawRepresentable & CaseIterable>(_ text: String, for name: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: text) else {
            let names = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw ServiceSettingsError(message: "\(self.origin(name)): '\(text)' is not one of \(names)")
        }
        return value
    }

    /// A repeatable flag: the flags where any is given, else the comma-separated list of the environment or
    /// the secrets directory.
    public func resolve(_ name: String, _ parsed: [String]) -> [String] {
        guard !self.given.contains(name), let text = self.text(name) else { return parsed }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A secret that has no flag (a command line is readable by every local user): from the environment or
    /// the secrets directory only.
    public func secret(_ name: String) -> String? {
        self.text(name, isSecret: true)
    }
}

/// A setting from the environment or the secrets directory that is not what its flag takes.
public struct ServiceSettingsError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
