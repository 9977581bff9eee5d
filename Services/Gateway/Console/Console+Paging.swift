import Foundation
import Hummingbird

extension Console {
    /// Enterprises a search page lists; a link leads to the next page.
    public static let enterprisesPerPage = 200
    /// Pending applications the queue lists; a link leads to the older ones.
    static let applicationsPerPage = 200
    /// An enterprise's orders and notices, and the operator's dead letters and breached applications, a page
    /// at a time; a link per list leads to the next page of that list, the others staying on theirs.
    public static let historyPerPage = 100

    /// The query's values of `names` (empty where absent): where each of a page's lists is.
    static func queryValues(_ request: Request, _ names: [String]) -> [String: String] {
        names.reduce(into: [String: String]()) { values, name in
            values[name] = request.uri.queryParameters.get(name).map { String($0) } ?? ""
        }
    }

    /// Template values `name` → the link to the page after `token` of the list read from `parameter`,
    /// keeping the other lists' pages; none on a list's last page (the template shows no link then).
    static func nextLinks(
        _ path: String, keeping current: [String: String], _ lists: [(name: String, parameter: String, token: String)]
    ) -> [String: Any] {
        lists.reduce(into: [String: Any]()) { links, list in
            guard !list.token.isEmpty else { return }
            var values = current.filter { !$0.value.isEmpty }
            values[list.parameter] = list.token
            links[list.name] = path + "?" + Self.query(values)
        }
    }

    /// A query string of `values`, each percent-encoded (page tokens and searches carry `+`, `/`, `=`, `&`).
    static func query(_ values: [String: String]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return values.sorted { $0.key < $1.key }.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }
}
