extension Array {
    /// The array cut into consecutive pieces of `size` (the last may be shorter): the pages of a batch call.
    public func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: self.count, by: size).map { self[$0..<Swift.min($0 + size, self.count)] }
    }
}
