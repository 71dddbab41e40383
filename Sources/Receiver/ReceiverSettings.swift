import Foundation
import OTAIngest

/// `[serve]` with its secrets resolved: what the request handlers need.
struct ReceiverSettings: Sendable {
    var listen: String
    var port: Int
    var bodyLimit: Int
    var pingGap: Duration
    var commitConnections: Int
    var maxBatch: Int
    /// Continuous promotion, and how often it looks for what landed; nil when switched off.
    var promoteInterval: Duration?
    /// The WebHotelier source PUSH and PING are for, and the property codes it has credentials for.
    var webhotelier: SourceConfig?
    var properties: Set<String>
    var basic: (username: [UInt8], password: [UInt8])?
    /// No Basic credentials, by the operator's choice (`allow_unauthenticated = true`).
    var allowUnauthenticated: Bool
    var signing: [String: Signing]
    /// OpenTravel push endpoints by source name, and their body limit.
    var openTravel: [String: OpenTravelEndpoint]
    var openTravelBodyLimit: Int

    /// One `kind = "opentravel"` source's push login and the hotels it may push for.
    struct OpenTravelEndpoint: Sendable {
        var source: String
        var username: [UInt8]
        var password: [UInt8]
        /// Empty: every hotel code.
        var hotels: Set<String>
    }

    struct Signing: Sendable {
        var scheme: SigningConfig.Scheme
        var keys: [[UInt8]]
        var tolerance: Duration
    }

    init(config: IngestConfig, secrets: SecretResolver) throws {
        let serve = config.serve
        listen = serve.listen
        port = serve.port
        bodyLimit = serve.bodyLimitBytes
        pingGap = serve.pingGap
        commitConnections = serve.commitConnections
        maxBatch = serve.maxBatch
        promoteInterval = serve.promote ? serve.promoteInterval : nil
        let candidates = config.sources.filter { $0.kind == .webhotelier }
        if let name = serve.source {
            let source = try config.source(named: name)
            guard source.kind == .webhotelier else {
                throw ConfigError(
                    "serve.source \"\(name)\" is a \(source.kind.rawValue) source; fix: name a webhotelier source")
            }
            webhotelier = source
        } else if candidates.count > 1 {
            throw ConfigError(
                "serve: several webhotelier sources (\(candidates.map(\.name).joined(separator: ", "))); fix: choose one with serve.source"
            )
        } else {
            webhotelier = candidates.first
        }
        properties = Set(try webhotelier.map { try secrets.accounts(for: $0).map(\.propertyCode) } ?? [])
        if let username = serve.basicUsername, let reference = serve.basicPassword {
            let password = try secrets.secret(reference, what: "serve.basic_password")
            basic = (Array(username.utf8), Array(password.utf8))
        }
        allowUnauthenticated = serve.allowUnauthenticated
        // Behind the recommended reverse proxy every request comes from loopback, so
        // the address proves nothing: no credentials, no start, whatever `listen` says.
        if basic == nil && !allowUnauthenticated {
            throw ConfigError(
                "serve: no Basic credentials for the WebHotelier endpoints, so anyone who reaches the port could store bookings and trigger pulls; fix: set serve.basic_username and serve.basic_password_env (or basic_password_file), the credentials registered with WebHotelier for PUSH and PING, or allow_unauthenticated = true on a trusted network"
            )
        }
        openTravelBodyLimit = serve.openTravelBodyLimitBytes
        openTravel = [:]
        for source in config.sources where source.kind == .opentravel {
            guard let username = source.openTravel.pushUsername, let reference = source.openTravel.pushPassword else {
                continue
            }
            let password = try secrets.secret(reference, what: "source \"\(source.name)\": push_password")
            openTravel[source.name] = OpenTravelEndpoint(
                source: source.name, username: Array(username.utf8), password: Array(password.utf8),
                hotels: Set(source.properties))
        }
        signing = [:]
        for (name, config) in serve.signing {
            let keys = try config.secrets.map { reference -> [UInt8] in
                let secret = try secrets.secret(reference, what: "serve.signing.\(name)")
                // Only Standard Webhooks gives `whsec_` secrets a meaning (base64 of the key).
                return config.scheme == .standard ? Signatures.keyBytes(secret) : Array(secret.utf8)
            }
            signing[name] = Signing(scheme: config.scheme, keys: keys, tolerance: config.tolerance)
        }
    }
}
