import BenefitsDomain
import Foundation
import Testing

@Suite("Hexadecimal bytes")
struct BytesHexadecimalTests {
    @Test("every byte is two lowercase digits, as printf's %02x writes it; nothing is empty")
    func everyByte() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(bytes.hexadecimal == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().hexadecimal == "")
        #expect([0x0f, 0xf0].hexadecimal == "0ff0")
    }
}
