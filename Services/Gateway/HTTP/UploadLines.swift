import NIOCore

/// An upload split into lines as its chunks arrive, for the streaming faces (ScreenBatch, PublishRecords).
///
/// Memory is bounded by one line: a line longer than `maximumLineBytes` is reported once (`tooLong`) and
/// skipped to its end, so an endless line cannot hold the gateway's memory. Blank lines are counted, not
/// returned. Line numbers start at 1.
struct UploadLines {
    enum Line {
        case text(number: Int, String)
        case tooLong(number: Int)
    }

    let maximumLineBytes: Int
    private(set) var lineNumber = 0
    private var pending: [UInt8] = []
    private var skipping = false

    init(maximumLineBytes: Int) {
        self.maximumLineBytes = maximumLineBytes
    }

    /// The lines `chunk` completes.
    mutating func feed(_ chunk: ByteBuffer) -> [Line] {
        var chunk = chunk
        self.pending += chunk.readBytes(length: chunk.readableBytes) ?? []
        var lines: [Line] = []
        var start = self.pending.startIndex
        while let newline = self.pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if self.skipping {
                self.skipping = false
            } else {
                self.take(self.pending[start..<newline], into: &lines)
            }
            start = newline + 1
        }
        self.pending.removeSubrange(self.pending.startIndex..<start)
        if self.pending.count > self.maximumLineBytes {
            if !self.skipping {
                self.lineNumber += 1
                lines.append(.tooLong(number: self.lineNumber))
                self.skipping = true
            }
            self.pending.removeAll(keepingCapacity: true)
        }
        return lines
    }

    /// The last line, when the upload does not end with a newline.
    mutating func finish() -> [Line] {
        var lines: [Line] = []
        if !self.pending.isEmpty, !self.skipping { self.take(self.pending[...], into: &lines) }
        self.pending.removeAll()
        return lines
    }

    private mutating func take(_ bytes: ArraySlice<UInt8>, into lines: inout [Line]) {
        self.lineNumber += 1
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty { lines.append(.text(number: self.lineNumber, text)) }
    }
}
