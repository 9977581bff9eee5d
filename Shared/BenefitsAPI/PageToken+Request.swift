import BenefitsDomain
import MeshRPC

extension PageToken {
    /// The place in a list that a request's `page_token` names, read from the token's parts by `position`;
    /// nil for an empty token (the first page). A token this list did not give (another list's, edited, made
    /// up) is refused `invalidArgument` naming the field, never read as a place in the list.
    public static func position<Position>(
        in encoded: String, parts: Int, _ position: ([String]) -> Position?
    ) throws(RPCError) -> Position? {
        guard !encoded.isEmpty else { return nil }
        guard let token = PageToken(encoded: encoded, parts: parts), let found = position(token.parts) else {
            throw RPCError(.invalidArgument, "page_token: not a token this list gave")
        }
        return found
    }
}
