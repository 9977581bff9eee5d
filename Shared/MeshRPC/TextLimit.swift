import Foundation
import SwiftProtobuf

/// The longest text a request may carry in any one string field, enforced on every request a router
/// decodes once set (`RPCRouter.requestCheck`): a name, a reason or a query of megabytes would otherwise be
/// kept, listed and sent back to every reader. The refusal names the field by its path
/// (`profiles[3].name`), the limit and the length found.
public struct TextLimit: Sendable {
    public var maximumCharacters: Int

    public init(maximumCharacters: Int) {
        self.maximumCharacters = maximumCharacters
    }

    /// Refuses `message` with `invalidArgument` if any string field, at any depth, is longer than the limit.
    public func check(_ message: any SwiftProtobuf.Message) throws {
        var visitor = Visitor(limit: self.maximumCharacters, root: message)
        try message.traverse(visitor: &visitor)
        guard let violation = visitor.violation else { return }
        let path = Self.path(violation.frames, leaf: violation.leaf, value: violation.value)
        throw RPCError(
            .invalidArgument,
            "\(path): at most \(self.maximumCharacters) characters, got \(violation.value.count)")
    }

    struct Frame {
        let parent: any SwiftProtobuf.Message
        let child: any SwiftProtobuf.Message
        let index: Int?
    }

    struct Violation {
        let frames: [Frame]
        let leaf: any SwiftProtobuf.Message
        let value: String
    }

    /// Walks every field; strings are measured in UTF-8 bytes first, which no text's characters exceed, so
    /// only a string over the limit in bytes is counted in characters.
    struct Visitor: SwiftProtobuf.Visitor {
        let limit: Int
        var current: any SwiftProtobuf.Message
        var frames: [Frame] = []
        var violation: Violation?

        init(limit: Int, root: any SwiftProtobuf.Message) {
            self.limit = limit
            self.current = root
        }

        mutating func measure(_ value: String) {
            guard self.violation == nil, value.utf8.count > self.limit, value.count > self.limit else { return }
            self.violation = Violation(frames: self.frames, leaf: self.current, value: value)
        }

        mutating func descend(into child: any SwiftProtobuf.Message, index: Int?) throws {
            guard self.violation == nil else { return }
            let parent = self.current
            self.frames.append(Frame(parent: parent, child: child, index: index))
            self.current = child
            try child.traverse(visitor: &self)
            self.current = parent
            self.frames.removeLast()
        }

        mutating func visitSingularStringField(value: String, fieldNumber: Int) throws { self.measure(value) }
        mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {
            for text in value { self.measure(text) }
        }
        mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
            try self.descend(into: value, index: nil)
        }
        mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
            for (index, element) in value.enumerated() { try self.descend(into: element, index: index) }
        }
        mutating func visitSingularGroupField<G: SwiftProtobuf.Message>(value: G, fieldNumber: Int) throws {
            try self.descend(into: value, index: nil)
        }
        mutating func visitMapField<KeyType, ValueType: MapValueType>(
            fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType,
            fieldNumber: Int
        ) throws {
            for (key, element) in value {
                if let key = key as? String { self.measure(key) }
                if let element = element as? String { self.measure(element) }
            }
        }
        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type,
            value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws {
            for key in value.keys { if let key = key as? String { self.measure(key) } }
        }
        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
            value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws {
            for (key, element) in value {
                if let key = key as? String { self.measure(key) }
                try self.descend(into: element, index: nil)
            }
        }
        mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
        mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
        mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
        mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
        mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
        mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {}
        mutating func visitUnknown(bytes: Data) throws {}
    }

    /// The field names along the path, read from each message's protobuf JSON (only for a refusal: the
    /// names are not otherwise public in SwiftProtobuf).
    static func path(_ frames: [Frame], leaf: any SwiftProtobuf.Message, value: String) -> String {
        var parts: [String] = []
        for frame in frames {
            guard let parent = Self.object(frame.parent), let child = Self.object(frame.child) else {
                parts.append("?")
                continue
            }
            let key = parent.first { _, field in
                if let index = frame.index {
                    guard let array = field as? [Any], index < array.count, let element = array[index] as? NSDictionary
                    else { return false }
                    return element.isEqual(to: child)
                }
                return (field as? NSDictionary)?.isEqual(to: child) ?? false
            }?.key
            parts.append((key ?? "?") + (frame.index.map { "[\($0)]" } ?? ""))
        }
        let leafKey = Self.object(leaf)?.first { _, field in
            (field as? String) == value || ((field as? [Any])?.contains { ($0 as? String) == value } ?? false)
        }?.key
        parts.append(leafKey ?? "?")
        return parts.joined(separator: ".")
    }

    static func object(_ message: any SwiftProtobuf.Message) -> [String: Any]? {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        guard let data = try? message.jsonUTF8Data(options: options) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
