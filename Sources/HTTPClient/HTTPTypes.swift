import Foundation

/// HTTP header fields in arrival order, looked up case-insensitively.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Replaces every field of that name with one holding `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The first value of the field, whatever its case.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of the field, in arrival order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// How a request proves who it is.
public enum HTTPAuthorization: Sendable {
    case basic(username: String, password: String)
    case bearer(token: String)

    var headerValue: String {
        switch self {
        case .basic(let username, let password):
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        case .bearer(let token):
            return "Bearer " + token
        }
    }
}

/// One HTTP request.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    public var authorization: HTTPAuthorization?
    /// Limit for the whole exchange; nil uses the session's default.
    public var timeout: Duration?

    public init(
        method: String = "GET", url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
        authorization: HTTPAuthorization? = nil, timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.authorization = authorization
        self.timeout = timeout
    }
}

/// One HTTP response, whatever its status: callers decide what a status means.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Connections libcurl had to open for this exchange (0 when it reused one).
    public var newConnections: Int

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Settings shared by every request of a session.
public struct HTTPSessionConfiguration: Sendable {
    public var connectTimeout: Duration
    public var requestTimeout: Duration
    public var userAgent: String

    public init(
        connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(120),
        userAgent: String = "ota-ingest"
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.userAgent = userAgent
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
