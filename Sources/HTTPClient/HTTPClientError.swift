import Foundation

/// A request that got no HTTP response: the network, not the server, said no.
///
/// The message names the request (method and URL without its query, which may
/// carry tokens), the reason, and what to check.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong on the way, so retry policies can decide.
    public enum Kind: String, Sendable {
        case dns, connect, timeout, tls, reset, invalidRequest, other
    }

    public var kind: Kind
    public var method: String
    public var url: String
    public var reason: String

    public init(kind: Kind, method: String, url: String, reason: String) {
        self.kind = kind
        self.method = method
        self.url = Self.redacted(url)
        self.reason = reason
    }

    /// Failures worth another try: the next attempt may find the path clear.
    public var isTransient: Bool {
        switch kind {
        case .timeout, .reset, .connect: return true
        case .dns, .tls, .invalidRequest, .other: return false
        }
    }

    public var description: String {
        "\(method) \(url): \(reason); fix: \(fix)"
    }

    /// `host:port` of the URL, the port spelled out even when the scheme implies it:
    /// "connection refused" is only useful with the port that refused.
    public var endpoint: String { Self.endpoint(of: url) }

    /// What happened, naming the host and port, without the fix (for a caller's own message).
    public var summary: String {
        switch kind {
        case .dns: return "cannot resolve the host of \(endpoint) (\(reason))"
        case .connect: return "cannot connect to \(endpoint) (\(reason))"
        case .timeout: return "no answer from \(endpoint) in time (\(reason))"
        case .tls: return "TLS with \(endpoint) failed (\(reason))"
        case .reset: return "the connection to \(endpoint) dropped mid-exchange (\(reason))"
        case .invalidRequest, .other: return "\(method) \(url): \(reason)"
        }
    }

    public static func endpoint(of url: String) -> String {
        guard let parts = URLComponents(string: url), let host = parts.host else { return url }
        let port = parts.port ?? (parts.scheme?.lowercased() == "https" ? 443 : 80)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL without its query, which may carry tokens.
    public static func withoutQuery(_ url: String) -> String { redacted(url) }

    private var fix: String {
        switch kind {
        case .dns: return "check the host name in the base URL"
        case .connect: return "check that the server is up and the base URL's host and port are right"
        case .timeout: return "the server is slow or unreachable; retry later or raise the timeout"
        case .tls: return "check the server's certificate and the URL scheme"
        case .reset: return "the connection dropped mid-exchange; retry"
        case .invalidRequest: return "check the URL and request settings"
        case .other: return "see the reason; retry if it looks temporary"
        }
    }

    private static func redacted(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        return String(url[..<q]) + "?…"
    }
}
