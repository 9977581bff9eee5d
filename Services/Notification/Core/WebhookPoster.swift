/// What delivers a webhook: `WebhookClient` over HTTPS, or in the simulation (`MeshSimulation`) endpoints
/// that fail, time out or take a notice twice as its seed says. The notifier's retries, claims and records
/// are the same whichever it is given.
public protocol WebhookPoster: Sendable {
    /// POSTs `body` with `headers` to `endpoint`; returns the HTTP status, or throws when no answer came
    /// (refused, unreachable, timed out).
    func post(_ endpoint: WebhookClient.Endpoint, headers: [(String, String)], body: [UInt8], timeout: Duration)
        async throws -> Int

    /// Why an endpoint may not be posted to (an address the policy refuses), or nil.
    func refusal(_ endpoint: WebhookClient.Endpoint) async throws -> String?
}

extension WebhookClient: WebhookPoster {}
