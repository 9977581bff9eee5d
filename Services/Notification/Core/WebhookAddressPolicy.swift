import NIOCore

/// Where webhooks may go. A county registers its own endpoint, so without a rule a county could make the
/// notification service post to the cloud metadata service (169.254.169.254), to the mesh's own ports on
/// loopback, or into the private network behind it. Addresses that are not public — loopback, private
/// (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), shared (100.64/10),
/// unspecified, multicast, reserved — are refused, at registration for an address written as such and
/// at every delivery for the address a name resolves to (so a name cannot be re-pointed later), unless the
/// operator allows the host by name or address (`--webhook-allow-host`, e.g. 127.0.0.1 on one machine).
public struct WebhookAddressPolicy: Sendable, Hashable {
    public var allowedHosts: Set<String>

    /// Host names compare without case, as DNS does.
    public init(allowedHosts: Set<String> = []) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Why `address` (reached for `host`) is refused, or nil when a webhook may be posted to it.
    public func refusal(host: String, address: SocketAddress) -> String? {
        if self.allowedHosts.contains(host.lowercased()) { return nil }
        if let ip = address.ipAddress, self.allowedHosts.contains(ip) { return nil }
        guard let kind = Self.nonPublicKind(address) else { return nil }
        return
            "\(host) is \(kind) (\(address.ipAddress ?? "?")); webhooks go to public addresses unless the operator allows the host (--webhook-allow-host)"
    }

    /// What kind of non-public address this is; nil for a public one.
    static func nonPublicKind(_ address: SocketAddress) -> String? {
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return Self.nonPublicKind(ipv4: value)
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            return Self.nonPublicKind(ipv6: bytes)
        default:
            return "not an internet address"
        }
    }

    static func nonPublicKind(ipv4 value: UInt32) -> String? {
        func within(_ base: UInt32, _ bits: UInt32) -> Bool {
            bits == 0 || (value >> (32 - bits)) == (base >> (32 - bits))
        }
        if within(0x7F00_0000, 8) { return "a loopback address" }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) {
            return "a private address"
        }
        if within(0xA9FE_0000, 16) { return "a link-local address" }
        if within(0x6440_0000, 10) { return "a shared (carrier-grade NAT) address" }
        if within(0x0000_0000, 8) { return "an unspecified address" }
        if within(0xE000_0000, 4) { return "a multicast address" }
        if within(0xF000_0000, 4) { return "a reserved address" }
        return nil
    }

    static func nonPublicKind(ipv6 bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return "not an internet address" }
        if bytes.allSatisfy({ $0 == 0 }) { return "an unspecified address" }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return "a loopback address" }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            let v4 = bytes[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return Self.nonPublicKind(ipv4: v4)
        }
        if bytes[0] & 0xFE == 0xFC { return "a private address" }
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return "a link-local address" }
        if bytes[0] == 0xFF { return "a multicast address" }
        return nil
    }
}
