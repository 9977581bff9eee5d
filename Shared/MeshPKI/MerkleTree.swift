import Crypto

/// A hash tree over many statements, so one signature over its root vouches for each of them: a leaf is
/// SHA-256(0x00 ‖ statement), a node SHA-256(0x01 ‖ left ‖ right) (RFC 6962's domain separation, so no leaf
/// can pass for a node). Each level pairs its nodes left to right; an odd last node rises unchanged.
///
/// A statement's proof is the sibling hashes from its leaf up; with its index and the number of leaves the
/// root is recomputed from the statement alone.
public enum MerkleTree {
    public static func leaf(_ statement: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: statement)
        return Array(hasher.finalize())
    }

    static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of `leaves` (leaf hashes), and each leaf's proof.
    public static func build(_ leaves: [[UInt8]]) -> (root: [UInt8], proofs: [[[UInt8]]]) {
        guard !leaves.isEmpty else { return ([], []) }
        var proofs = [[[UInt8]]](repeating: [], count: leaves.count)
        // Which node of the current level each leaf is under.
        var positions = Array(leaves.indices)
        var level = leaves
        while level.count > 1 {
            for leaf in proofs.indices {
                let position = positions[leaf]
                if position % 2 == 1 {
                    proofs[leaf].append(level[position - 1])
                } else if position + 1 < level.count {
                    proofs[leaf].append(level[position + 1])
                }
                positions[leaf] = position / 2
            }
            var next: [[UInt8]] = []
            next.reserveCapacity((level.count + 1) / 2)
            for start in stride(from: 0, to: level.count, by: 2) {
                next.append(start + 1 < level.count ? Self.node(level[start], level[start + 1]) : level[start])
            }
            level = next
        }
        return (level[0], proofs)
    }

    /// The root a leaf at `index` of `count` leaves leads to through `proof`; nil when the proof does not fit
    /// that place (too short, too long, or an index outside the tree).
    public static func root(leaf: [UInt8], index: Int, count: Int, proof: [[UInt8]]) -> [UInt8]? {
        guard count > 0, (0..<count).contains(index), proof.allSatisfy({ $0.count == 32 }) else { return nil }
        var hash = leaf
        var position = index
        var width = count
        var used = 0
        while width > 1 {
            if position % 2 == 1 {
                guard used < proof.count else { return nil }
                hash = Self.node(proof[used], hash)
                used += 1
            } else if position + 1 < width {
                guard used < proof.count else { return nil }
                hash = Self.node(hash, proof[used])
                used += 1
            }
            position /= 2
            width = (width + 1) / 2
        }
        return used == proof.count ? hash : nil
    }
}
