import MeshWire

/// Key-value pairs sent with a call and its response. Keys are lowercase; a key ending in `-bin` holds bytes.
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: MetadataValue
    }

    private var entries: [Entry] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, value) in elements { self.add(key, value) }
    }

    public mutating func add(_ key: String, _ value: String) {
        self.entries.append(Entry(key: key.lowercased(), value: .text(value)))
    }

    public mutating func add(_ key: String, binary value: [UInt8]) {
        self.entries.append(Entry(key: key.lowercased(), value: .binary(value)))
    }

    /// The first text value under `key`.
    public subscript(_ key: String) -> String? {
        let key = key.lowercased()
        for entry in self.entries where entry.key == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    public func values(_ key: String) -> [MetadataValue] {
        let key = key.lowercased()
        return self.entries.filter { $0.key == key }.map(\.value)
    }

    /// Removes every value under `key`.
    public mutating func remove(_ key: String) {
        let key = key.lowercased()
        self.entries.removeAll { $0.key == key }
    }

    public var isEmpty: Bool { self.entries.isEmpty }
    public var count: Int { self.entries.count }

    public func makeIterator() -> IndexingIterator<[Entry]> { self.entries.makeIterator() }

    public mutating func merge(_ other: Metadata) {
        self.entries.append(contentsOf: other.entries)
    }

    init(wire: [Mesh_Rpc_V1_MetadataEntry]) {
        for entry in wire {
            switch entry.value {
            case .binaryValue(let bytes): self.entries.append(Entry(key: entry.key, value: .binary(Array(bytes))))
            case .textValue(let text): self.entries.append(Entry(key: entry.key, value: .text(text)))
            case nil: self.entries.append(Entry(key: entry.key, value: .text("")))
            }
        }
    }

    var wire: [Mesh_Rpc_V1_MetadataEntry] {
        self.entries.map { entry in
            var wire = Mesh_Rpc_V1_MetadataEntry()
            wire.key = entry.key
            switch entry.value {
            case .text(let text): wire.textValue = text
            case .binary(let bytes): wire.binaryValue = .init(bytes)
            }
            return wire
        }
    }
}

/// A metadata value: text, or bytes under a key ending in `-bin`.
public enum MetadataValue: Sendable, Hashable {
    case text(String)
    case binary([UInt8])
}
