import Foundation
import Logging
import MeshRPC
import MeshTracing

/// Writes each record as one line of JSON, for log collectors (Loki, Elasticsearch, journald's JSON): time
/// (UTC, milliseconds), level, logger, message, and every metadata key beside them — the call's `trace_id`
/// among them while a call is served, so every line of one county request can be found together.
///
/// Invariant: one record is one line and one write; a message holding quotes or newlines stays inside its
/// JSON string.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    /// - Parameter write: where a line goes (standard error unless a test says otherwise); it is given the
    ///   line with its newline.
    public init(
        label: String, metadataProvider: Logger.MetadataProvider?,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The call's own metadata wins over the provider's, which wins over the handler's.
        var fields: [String: Any] = [:]
        for (key, value) in self.metadata { fields[key] = Self.json(value) }
        for (key, value) in self.metadataProvider?.get() ?? [:] { fields[key] = Self.json(value) }
        for (key, value) in event.metadata ?? [:] { fields[key] = Self.json(value) }
        fields["time"] = Self.timestamp(Date())
        fields["level"] = event.level.rawValue
        fields["logger"] = self.label
        fields["message"] = event.message.description
        guard
            let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
            let line = String(data: data, encoding: .utf8)
        else { return }
        self.write(line + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(Self.json)
        case .dictionary(let entries): return entries.mapValues(Self.json)
        }
    }

    /// RFC 3339 in UTC with milliseconds: 2026-12-06T23:59:59.123Z.
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var time = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }
}

extension Logger.MetadataProvider {
    /// The trace of the span the logging task runs in (a call being served, an HTTP request, a ledger batch),
    /// as `trace_id`: every line logged while a call runs carries the id its `traceparent` gave, in either log
    /// format.
    public static let meshTrace = Logger.MetadataProvider {
        guard let traceID = MeshTracing.currentTraceID else { return [:] }
        return ["trace_id": .string(traceID)]
    }
}

/// How a service writes its log: text lines for people, or JSON lines for a log collector.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}
