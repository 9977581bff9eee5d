extension String {
    /// Calls `body` with the string's UTF-8 bytes: in place where they are contiguous (native strings, small
    /// ones through a temporary), else a copy. The pointer is valid only inside `body`.
    func withUTF8Bytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try self.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self.utf8).withUnsafeBytes(body)
    }
}
