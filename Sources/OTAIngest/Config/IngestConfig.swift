import Foundation

/// Everything `ota-ingest` reads from its TOML configuration file.
///
/// Secrets never live in this file: it only names where they are (an
/// environment variable, a file, or a directory of files).
public struct IngestConfig: Sendable {
    public var sources: [SourceConfig]
    /// `[serve]`: the webhook receiver; defaults when the file has none.
    public var serve: ServeConfig
    /// `[retention]`: how long guest personal data is kept.
    public var retention = RetentionConfig()

    public init(sources: [SourceConfig] = [], serve: ServeConfig = ServeConfig()) {
        self.sources = sources
        self.serve = serve
    }

    public func source(named name: String) throws -> SourceConfig {
        guard let source = sources.first(where: { $0.name == name }) else {
            let known = sources.map(\.name).joined(separator: ", ")
            throw ConfigError(
                "no source named \"\(name)\" (configured: \(known.isEmpty ? "none" : known)); fix: add [sources.\(name)] to the config file"
            )
        }
        return source
    }
}

/// `[retention]`: how long the warehouse keeps guest personal data.
public struct RetentionConfig: Sendable, Equatable {
    /// A booking's personal data is erased from staging and dead letters by the nightly once its
    /// departure is this many days old; the default keeps a year and a month, so reports comparing
    /// with the same time last year still find their guests.
    public var guestDataDays = 400

    public init() {}
}

/// One OTA connection: WebHotelier (one account per property) or a generic cursor feed.
public struct SourceConfig: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case webhotelier
        case cursor
        /// OpenTravel XML: a Booking.com-style queue pulled and acknowledged, and channel-manager pushes.
        case opentravel
    }

    public var name: String
    public var kind: Kind
    public var baseURL: String
    /// Where the secrets are; resolved only when a run needs them.
    public var secrets: SecretReference
    /// WebHotelier: the property codes to work; empty means every account in the credentials.
    public var properties: [String]
    /// Properties worked at once.
    public var concurrency: Int
    /// The dialect's minimum interval between pending-list calls per property.
    public var pendingListInterval: Duration
    /// The dialect's minimum interval between availability/rate feed fetches per property.
    public var feedInterval: Duration
    /// Stay dates fetched from the feeds: today ..< today + stayWindowDays.
    public var stayWindowDays: Int
    /// Stay dates per feed request.
    public var chunkDays: Int
    /// Cursor feed page size.
    public var pageSize: Int
    /// Token bucket: sustained requests per second and burst size.
    public var requestsPerSecond: Double
    public var burst: Int
    /// Attempts per request before the run fails (1 = no retry).
    public var maxAttempts: Int
    /// Backoff between attempts: full jitter up to base * 2^(attempt-1), capped at retryMaxDelay.
    public var retryBaseDelay: Duration = .milliseconds(200)
    public var retryMaxDelay: Duration = .seconds(30)
    public var requestTimeout: Duration
    /// Snapshot retention, the reservations search window and drift thresholds.
    public var reconcile = ReconcileSettings()
    /// OpenTravel: the pull's token kind and cadence, and the push endpoint's login.
    public var openTravel = OpenTravelSettings()

    public init(
        name: String, kind: Kind, baseURL: String, secrets: SecretReference, properties: [String] = [],
        concurrency: Int = 4, pendingListInterval: Duration = .seconds(300),
        feedInterval: Duration = .seconds(6 * 3600),
        stayWindowDays: Int = 365, chunkDays: Int = 31, pageSize: Int = 1000, requestsPerSecond: Double = 5,
        burst: Int = 10, maxAttempts: Int = 6, requestTimeout: Duration = .seconds(60)
    ) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.secrets = secrets
        self.properties = properties
        self.concurrency = concurrency
        self.pendingListInterval = pendingListInterval
        self.feedInterval = feedInterval
        self.stayWindowDays = stayWindowDays
        self.chunkDays = chunkDays
        self.pageSize = pageSize
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.maxAttempts = maxAttempts
        self.requestTimeout = requestTimeout
    }
}

/// Where a source's secrets are kept. Exactly one is configured per source.
public enum SecretReference: Sendable, Equatable {
    /// One environment variable holding the secret (a cursor feed's bearer token).
    case environment(variable: String)
    /// A file holding the secret, or for WebHotelier one line per property:
    /// `CODE username:password`.
    case file(path: String)
    /// A directory with one file per property, named by property code, holding
    /// `username:password` (the systemd credentials layout).
    case directory(path: String)
    /// Environment variables named PREFIX + property code, each `username:password`.
    case environmentPrefix(String)
}

/// `kind = "opentravel"`: how the account's queues are pulled and acknowledged, and the
/// login channel managers push with.
public struct OpenTravelSettings: Sendable {
    public enum Auth: String, Sendable, CaseIterable {
        /// The machine account's Basic credentials on every request.
        case basic
        /// `POST {base}/token` with the Basic credentials, then `Authorization: Bearer`.
        case bearer
    }

    /// Whether the source has queues to pull (`base_url` and `credentials_*` name the account).
    public var pull = true
    public var auth = Auth.basic
    /// `serve` reads the queues continuously when set (else only `pull reservations` does).
    public var serveService = true
    /// The queues' documented cadence: a read every 20 s, 5 s after an acknowledgement.
    public var pollInterval: Duration = .seconds(20)
    public var afterAckInterval: Duration = .seconds(5)
    /// Unacknowledged this long, the OTA gives the reservation to the property by email.
    public var fallback: Duration = .seconds(30 * 60)
    /// Waiting this long, a reservation is shown in status, /metrics and the night's attention list.
    public var fallbackWarning: Duration = .seconds(20 * 60)
    /// Times a reservation that fails validation is fetched again before it is dead-lettered and acknowledged.
    public var validationRetries = 3
    /// The login senders push with (Basic or WS-Security UsernameToken); the password by reference.
    public var pushUsername: String?
    public var pushPassword: SecretReference?

    public init() {}
}
