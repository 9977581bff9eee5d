#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension String {
    /// Whether `fragment` occurs in this text, compared byte for byte in UTF-8.
    ///
    /// The verbatim check asks this of every quoted text against whole source documents on every catalog
    /// load. Foundation's `contains` folds character clusters as it goes and was most of a load's time; the
    /// texts compared are both whitespace-stripped UTF-8 from the same files, so bytes say the same.
    func containsBytes(of fragment: String) -> Bool {
        var found = false
        self.forEachByteOccurrence(of: fragment) { _ in
            found = true
            return false
        }
        return found
    }

    /// Calls `body` with the UTF-8 offset of each occurrence of `fragment` in this text, in order, until it
    /// returns false.
    func forEachByteOccurrence(of fragment: String, _ body: (Int) -> Bool) {
        var text = self
        var fragment = fragment
        text.withUTF8 { haystack in
            fragment.withUTF8 { needle in
                guard !needle.isEmpty, let textStart = haystack.baseAddress, let fragmentStart = needle.baseAddress
                else { return }
                // memmem is not exported by the Glibc module: memchr finds each candidate first byte, memcmp
                // compares the rest.
                let first = Int32(needle[0])
                var offset = 0
                while haystack.count - offset >= needle.count {
                    guard let found = memchr(textStart + offset, first, haystack.count - offset - needle.count + 1)
                    else { return }
                    let position = UnsafeRawPointer(found) - UnsafeRawPointer(textStart)
                    if memcmp(textStart + position, fragmentStart, needle.count) == 0, !body(position) { return }
                    offset = position + 1
                }
            }
        }
    }
}
