import MeshPKI
import Testing

/// The hash tree one seal signs for a campaign's page.
@Suite("Merkle tree")
struct MerkleTreeTests {
    static func statements(_ count: Int) -> [[UInt8]] { (0..<count).map { Array("statement \($0)".utf8) } }

    @Test("every statement of trees of 1 to 40 leads to the root through its proof, and only from its own place")
    func proofs() {
        for count in 1...40 {
            let statements = Self.statements(count)
            let tree = MerkleTree.build(statements.map(MerkleTree.leaf))
            #expect(tree.root.count == 32)
            for index in 0..<count {
                let leaf = MerkleTree.leaf(statements[index])
                let proof = tree.proofs[index]
                #expect(MerkleTree.root(leaf: leaf, index: index, count: count, proof: proof) == tree.root)
                // Another place, another statement, a proof cut short or lengthened: not the root.
                if count > 1 {
                    let other = (index + 1) % count
                    #expect(MerkleTree.root(leaf: leaf, index: other, count: count, proof: proof) != tree.root)
                    #expect(
                        MerkleTree.root(
                            leaf: MerkleTree.leaf(statements[other]), index: index, count: count, proof: proof)
                            != tree.root)
                    #expect(
                        MerkleTree.root(leaf: leaf, index: index, count: count, proof: Array(proof.dropLast())) == nil)
                }
                #expect(
                    MerkleTree.root(leaf: leaf, index: index, count: count, proof: proof + [tree.root]) == nil)
            }
            #expect(MerkleTree.root(leaf: tree.root, index: count, count: count, proof: []) == nil)
        }
    }

    @Test("a leaf is not a node: a statement made of two hashes does not stand for the pair")
    func domainSeparation() {
        let statements = Self.statements(2)
        let tree = MerkleTree.build(statements.map(MerkleTree.leaf))
        let forged = MerkleTree.leaf(statements[0]) + MerkleTree.leaf(statements[1])
        #expect(MerkleTree.build([MerkleTree.leaf(forged)]).root != tree.root)
    }
}
