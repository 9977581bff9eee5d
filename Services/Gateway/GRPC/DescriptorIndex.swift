import BenefitsAPI
import Foundation
import SwiftProtobuf

/// The mesh's .proto files (`ProtoDescriptorSet`) indexed for server reflection: each file by its name, and the
/// file that declares each fully qualified service, method, message and enum.
struct DescriptorIndex: Sendable {
    /// Each file, serialized as reflection sends it, by its name.
    let files: [String: Data]
    /// The files each file imports, by name.
    let imports: [String: [String]]
    /// The declaring file of every symbol (`jiaxing.benefits.v1.Gateway`, `….Gateway.Screen`, `….ScreenRequest`).
    let symbols: [String: String]

    static let shared: DescriptorIndex = {
        guard let set = try? Google_Protobuf_FileDescriptorSet(serializedBytes: ProtoDescriptorSet.bytes) else {
            preconditionFailure("ProtoDescriptorSet is not a descriptor set: run scripts/generate-protos.sh")
        }
        return DescriptorIndex(set)
    }()

    init(_ set: Google_Protobuf_FileDescriptorSet) {
        var files: [String: Data] = [:]
        var imports: [String: [String]] = [:]
        var symbols: [String: String] = [:]
        for file in set.file {
            files[file.name] = (try? file.serializedData()) ?? Data()
            imports[file.name] = file.dependency
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func add(_ message: Google_Protobuf_DescriptorProto, in scope: String) {
                let name = scope + message.name
                symbols[name] = file.name
                for nested in message.nestedType { add(nested, in: name + ".") }
                for nested in message.enumType { symbols[name + "." + nested.name] = file.name }
            }
            for message in file.messageType { add(message, in: prefix) }
            for enumeration in file.enumType { symbols[prefix + enumeration.name] = file.name }
            for service in file.service {
                symbols[prefix + service.name] = file.name
                for method in service.method { symbols[prefix + service.name + "." + method.name] = file.name }
            }
        }
        self.files = files
        self.imports = imports
        self.symbols = symbols
    }

    /// The file and every file it imports, directly or not, the file first (what reflection answers).
    func withImports(_ name: String) -> [Data] {
        var order: [String] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            guard seen.insert(name).inserted, self.files[name] != nil else { return }
            order.append(name)
            for dependency in self.imports[name] ?? [] { visit(dependency) }
        }
        visit(name)
        return order.compactMap { self.files[$0] }
    }
}
