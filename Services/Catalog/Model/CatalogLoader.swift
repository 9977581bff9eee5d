import BenefitsDomain
import Crypto
import Foundation

/// Reads the catalog files (one JSON file per document, and `vocabulary.json`) and validates them.
public enum CatalogLoader {
    /// The folder of source documents beside the catalog files (`<directory>/sources`).
    public static func sourcesDirectory(of directory: String) -> String { "\(directory)/sources" }

    /// Loads every `*.json` in `directory` and checks that every verbatim text is found in the source
    /// documents its document names, read from `sourcesDirectory` (by default the catalog's own `sources`
    /// folder). The check never skips: a source file that is missing or unreadable is a problem naming it.
    /// The working-day calendar comes from `<directory>/calendar` (one published year a file), followed by
    /// provisional years through `provisionalThrough` (by default two years after the later of the last
    /// published year and the current one). The files of both folders make the revision.
    /// Throws `CatalogValidationError` listing every problem.
    public static func load(directory: String, sourcesDirectory: String? = nil, provisionalThrough: Int? = nil)
        throws -> Catalog
    {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: directory) else {
            throw CatalogValidationError(issues: [
                CatalogIssue(file: directory, field: "directory", message: "cannot read the catalog directory")
            ])
        }
        var issues: [CatalogIssue] = []
        var hasher = SHA256()
        var vocabulary: Vocabulary?
        var documents: [(file: String, document: PolicyDocument)] = []
        var coverage: CatalogCoverage?
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
                } else if name == Self.coverageFile {
                    coverage = try decoder.decode(CatalogCoverage.self, from: data)
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
            throw CatalogValidationError(
                issues: issues + [
                    CatalogIssue(
                        file: "vocabulary.json", field: "file",
                        message: "missing or invalid: every catalog needs its vocabulary")
                ])
        }
        let calendarDirectory = "\(directory)/calendar"
        var calendar: WorkingCalendar?
        do {
            let published = try WorkingCalendar.readYears(directory: calendarDirectory)
            for name in try files.contentsOfDirectory(atPath: calendarDirectory).filter({ $0.hasSuffix(".json") })
                .sorted()
            {
                hasher.update(data: Data("calendar/\(name)".utf8))
                hasher.update(data: files.contents(atPath: "\(calendarDirectory)/\(name)") ?? Data())
            }
            let lastPublished = published.map(\.year).max() ?? Self.currentYear
            let through = provisionalThrough ?? max(lastPublished, Self.currentYear) + 2
            let provisional =
                through > lastPublished ? (lastPublished + 1...through).map(WorkingCalendar.Year.provisional) : []
            calendar = try WorkingCalendar(years: published + provisional)
        } catch {
            issues.append(CatalogIssue(file: "calendar", field: "calendar", message: "\(error)"))
        }
        let sources = Self.readSources(
            named: Set(documents.flatMap(\.document.sources)),
            in: sourcesDirectory ?? Self.sourcesDirectory(of: directory)
        )
        let validator = CatalogValidator(vocabulary: vocabulary, sources: sources)
        issues += validator.validate(documents)
        if let coverage { issues += validator.checkCoverage(coverage, of: documents.map(\.document)) }
        guard issues.isEmpty, let calendar else { throw CatalogValidationError(issues: issues) }
        let revision = hasher.finalize().hexadecimal.prefix(16)
        return Catalog(
            revision: String(revision), documents: documents.map(\.document), vocabulary: vocabulary,
            calendar: calendar)
    }

    /// The file that claims the catalog covers its sources, listing the passages it does not encode.
    public static let coverageFile = "coverage.json"

    /// The current year in China (UTC+8).
    static var currentYear: Int {
        CalendarDate.todayInChina().year
    }

    /// Each named source file → its text with all whitespace removed, or why it could not be read.
    static func readSources(named names: Set<String>, in directory: String) -> [String: Result<String, SourceError>] {
        var sources: [String: Result<String, SourceError>] = [:]
        for name in names {
            let path = "\(directory)/\(name)"
            if name.contains("/") || name.hasPrefix(".") {
                sources[name] = .failure(
                    SourceError(message: "source '\(name)' must be a plain file name in \(directory)"))
            } else if !FileManager.default.fileExists(atPath: path) {
                sources[name] = .failure(SourceError(message: "source file '\(name)' not found in \(directory)"))
            } else if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                sources[name] = .success(CatalogValidator.removingWhitespace(Self.removingPageFurniture(text)))
            } else {
                sources[name] = .failure(SourceError(message: "source file '\(path)' cannot be read as UTF-8 text"))
            }
        }
        return sources
    }

    /// The text without the lines a page break left in it: a page marker (第15页) or a page number alone on its
    /// line. A sentence cut by a page break is then found whole, as it was printed.
    static func removingPageFurniture(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let isPageNumber =
                !trimmed.isEmpty && trimmed.count <= 3 && trimmed.allSatisfy(\.isASCII)
                && trimmed.allSatisfy(\.isNumber)
            let isMarker =
                trimmed.hasPrefix("第") && trimmed.hasSuffix("页")
                && trimmed.dropFirst().dropLast().allSatisfy { $0.isASCII && $0.isNumber }
                && trimmed.count > 2
            return !isPageNumber && !isMarker
        }.joined(separator: "\n")
    }

    /// Why a source document could not be used for the verbatim check.
    struct SourceError: Error {
        let message: String
    }

    /// Names the field a decoding error is about, e.g. `clauses[3].formula.amountFen`.
    static func issue(file: String, _ error: DecodingError) -> CatalogIssue {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
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
