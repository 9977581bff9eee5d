import BenefitsDomain
import MeshMessages

/// A department's list as CSV, one record a row, for `POST /v1/PublishRecords` with `text/csv`.
///
/// The first row names the columns, in any order: `credit_code` and `reference` always; `type`
/// (`recognition`, `project` or `fact`) and `id` (the recognition, project kind or fact of the vocabulary);
/// then what the type needs: `level` and `date` (recognized on) for a recognition; `name`, `amount`
/// (investment in fen) and `date` (completed on) for a project; `year` and `amount` or `flag` for a fact;
/// `withdrawn` (`true`/`false`) for any; a column `figure:<fact>` gives a project's own figure of that fact
/// (`figure:techContractAmountPaid`, the amount a contract actually paid). Fields are RFC 4180: a field with a comma or a quote is quoted, a quote
/// inside doubled; a field may not span lines.
struct PublishedRecordCSV {
    static let columns: Set<String> = [
        "credit_code", "reference", "type", "id", "level", "date", "year", "amount", "flag", "name", "withdrawn",
    ]
    static let required = ["credit_code", "reference", "type", "id"]

    let header: [String]

    struct Problem: Error {
        let message: String
    }

    /// The header row; refuses a column it does not know, or one missing, naming it.
    init(header line: String) throws(Problem) {
        // Column names are case-insensitive; a figure's fact id keeps its case (techContractAmountPaid).
        let names = try Self.fields(of: line).map { field in
            let name = field.trimmingCharacters(in: .whitespaces)
            return name.lowercased().hasPrefix("figure:") ? "figure:" + name.dropFirst(7) : name.lowercased()
        }
        if let unknown = names.first(where: { !Self.columns.contains($0) && Self.figure($0) == nil }) {
            throw Problem(
                message:
                    "header: unknown column '\(unknown)'; the columns are \(Self.columns.sorted().joined(separator: ", "))"
            )
        }
        if let missing = Self.required.first(where: { !names.contains($0) }) {
            throw Problem(message: "header: the column '\(missing)' is required")
        }
        self.header = names
    }

    /// The fact a `figure:<fact>` column names, as written in the header.
    static func figure(_ column: String) -> String? {
        guard column.hasPrefix("figure:"), column.count > 7 else { return nil }
        return String(column.dropFirst(7))
    }

    /// One row as a record; refuses naming the column.
    func record(_ line: String) throws(Problem) -> Jiaxing_Benefits_V1_PublishedRecord {
        let values = try Self.fields(of: line)
        guard values.count == self.header.count else {
            throw Problem(message: "\(values.count) fields, but the header names \(self.header.count)")
        }
        var row: [String: String] = [:]
        for (name, value) in zip(self.header, values) { row[name] = value.trimmingCharacters(in: .whitespaces) }
        func text(_ name: String) -> String { row[name] ?? "" }
        func date(_ name: String) throws(Problem) -> Jiaxing_Benefits_V1_Date? {
            guard !text(name).isEmpty else { return nil }
            guard let day = CalendarDate(text(name)) else {
                throw Problem(message: "\(name): a date as YYYY-MM-DD, got '\(text(name))'")
            }
            return day.message
        }
        func integer(_ name: String) throws(Problem) -> Int64? {
            guard !text(name).isEmpty else { return nil }
            guard let value = Int64(text(name)) else {
                throw Problem(message: "\(name): a whole number, got '\(text(name))'")
            }
            return value
        }
        func flag(_ name: String) throws(Problem) -> Bool? {
            switch text(name).lowercased() {
            case "": return nil
            case "true", "1", "是": return true
            case "false", "0", "否": return false
            default: throw Problem(message: "\(name): true or false, got '\(text(name))'")
            }
        }
        var record = Jiaxing_Benefits_V1_PublishedRecord()
        record.creditCode = text("credit_code")
        record.reference = text("reference")
        record.withdrawn = try flag("withdrawn") ?? false
        switch text("type").lowercased() {
        case "recognition":
            var recognition = Jiaxing_Benefits_V1_RecognitionRecord()
            recognition.recognition = text("id")
            recognition.level = text("level")
            if let day = try date("date") { recognition.recognizedOn = day }
            record.recognition = recognition
        case "project":
            var project = Jiaxing_Benefits_V1_ProjectRecord()
            project.kind = text("id")
            project.name = text("name")
            project.investmentFen = try integer("amount") ?? 0
            if let day = try date("date") { project.completedOn = day }
            for column in self.header {
                guard let fact = Self.figure(column), let value = try integer(column) else { continue }
                project.figures[fact] = value
            }
            record.project = project
        case "fact":
            var fact = Jiaxing_Benefits_V1_FactRecord()
            fact.fact = text("id")
            fact.year = Int32(clamping: try integer("year") ?? 0)
            if let amount = try integer("amount") {
                fact.amount = amount
            } else if let flag = try flag("flag") {
                fact.flag = flag
            } else {
                throw Problem(message: "amount: a fact needs an amount or a flag")
            }
            record.fact = fact
        default:
            throw Problem(message: "type: recognition, project or fact, got '\(text("type"))'")
        }
        return record
    }

    /// The fields of one CSV line (RFC 4180, without line breaks inside fields).
    static func fields(of line: String) throws(Problem) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var characters = line.makeIterator()
        while let character = characters.next() {
            if quoted {
                if character == "\"" {
                    if let following = characters.next() {
                        if following == "\"" {
                            field.append("\"")
                        } else if following == "," {
                            quoted = false
                            fields.append(field)
                            field = ""
                            atFieldStart = true
                        } else {
                            throw Problem(message: "a quoted field is followed by '\(following)', not a comma")
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"", atFieldStart {
                quoted = true
                atFieldStart = false
            } else if character == "," {
                fields.append(field)
                field = ""
                atFieldStart = true
            } else {
                field.append(character)
                atFieldStart = false
            }
        }
        guard !quoted else { throw Problem(message: "a quoted field is not closed on its line") }
        fields.append(field)
        return fields
    }
}
