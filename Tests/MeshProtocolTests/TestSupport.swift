import MeshProtocol
import Testing

/// Checks that `error` carries `code` and that its message mentions every fragment.
func checkConnectionError(
    _ error: ConnectionError,
    code: ConnectionErrorCode,
    mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(error.code == code, "expected \(code), got \(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(
            error.message.contains(fragment),
            "message \"\(error.message)\" does not mention \"\(fragment)\"",
            sourceLocation: sourceLocation
        )
    }
}

/// Runs `body`, which must throw a `ConnectionError` with `code` whose message mentions every fragment.
func expectConnectionError<T>(
    code: ConnectionErrorCode,
    mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) {
    do {
        let value = try body()
        Issue.record("expected ConnectionError(\(code)), got \(value)", sourceLocation: sourceLocation)
    } catch let error as ConnectionError {
        checkConnectionError(error, code: code, mentioning: fragments, sourceLocation: sourceLocation)
    } catch {
        Issue.record(error, "expected ConnectionError(\(code))", sourceLocation: sourceLocation)
    }
}
