import Foundation

extension Console {
    /// Enterprises a search page lists; a link leads to the next page.
    public static let enterprisesPerPage = 200
    /// Pending applications the queue lists; a link leads to the older ones.
    static let applicationsPerPage = 200

    /// A query string of `values`, each percent-encoded (page tokens and searches carry `+`, `/`, `=`, `&`).
    static func query(_ values: [String: String]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return values.sorted { $0.key < $1.key }.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }
}
