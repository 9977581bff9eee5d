import Crypto
import Foundation

/// Reads the catalog files (one JSON file per document, and `vocabulary.json`) and validates them.
public enum CatalogLoader {
    /// Loads every `*.json` in `directory`. With `seedsDirectory`, also checks that every verbatim text is
    /// found in its seed. Throws `CatalogValidationError` listing every problem.
    public static func load(directory: String, seedsDirectory: String? = nil) throws -> Catalog {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: directory) else {
            throw CatalogValidationError(issues: [CatalogIssue(file: directory, field: "directory", message: "cannot read the catalog directory")])
        }
        var issues: [CatalogIssue] = []
        var hasher = SHA256()
        var vocabulary: Vocabulary?
        var documents: [(file: String, document: PolicyDocument)] = []
        let decoder = JSONDecoder()
        for name in names.filter({ $0.hasSuffix(".json") }).sorted() {
            guard let data = files.contents(atPath: "\(directory)/\(name)") else {
                issues.append(CatalogIssue(file: name, field: "file", message: "cannot read"))
                continue
            }
            hasher.update(data: Data(name.utf8))
            hasher.update(data: data)
            do {
                if name == "vocabulary.json" {
                    vocabulary = try decoder.decode(Vocabulary.self, from: data)
                } else {
                    documents.append((name, try decoder.decode(PolicyDocument.self, from: data)))
                }
            } catch let error as DecodingError {
                issues.append(Self.issue(file: name, error))
            } catch {
                issues.append(CatalogIssue(file: name, field: "file", message: "\(error)"))
            }
        }
        guard let vocabulary else {
            throw CatalogValidationError(issues: issues + [CatalogIssue(file: "vocabulary.json", field: "file", message: "missing or invalid: every catalog needs its vocabulary")])
        }
        let seeds = seedsDirectory.map(Self.readSeeds)
        issues += CatalogValidator(vocabulary: vocabulary, seeds: seeds).validate(documents)
        guard issues.isEmpty else { throw CatalogValidationError(issues: issues) }
        let revision = hasher.finalize().map { String(format: "%02x", $0) }.joined().prefix(16)
        return Catalog(revision: String(revision), documents: documents.map(\.document), vocabulary: vocabulary)
    }

    /// Seed file name → its text with all whitespace removed.
    static func readSeeds(_ directory: String) -> [String: String] {
        var seeds: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if let text = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) {
                seeds[name] = CatalogValidator.removingWhitespace(text)
            }
        }
        return seeds
    }

    /// Names the field a decoding error is about, e.g. `clauses[3].formula.amountFen`.
    static func issue(file: String, _ error: DecodingError) -> CatalogIssue {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            return CatalogIssue(file: file, field: path(context.codingPath + [key]), message: "missing")
        case .typeMismatch(let type, let context):
            return CatalogIssue(file: file, field: path(context.codingPath), message: "expected \(type)")
        case .valueNotFound(let type, let context):
            return CatalogIssue(file: file, field: path(context.codingPath), message: "expected \(type), found null")
        case .dataCorrupted(let context):
            return CatalogIssue(file: file, field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return CatalogIssue(file: file, field: "file", message: "\(error)")
        }
    }
}
