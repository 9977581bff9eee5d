extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hexadecimal, two digits each: how digests (sessions' token hashes, the catalog's
    /// revision, a seal's profile digest, evidence) are written and compared as text.
    public var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(self.underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
