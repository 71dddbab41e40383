import ArgumentParser
import Foundation
import OTAIngest
import Receiver

/// `ota-ingest serve`: the webhook receiver (WebHotelier PUSH and PING, signed rate updates).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive WebHotelier PUSH/PING and signed rate updates; store before answering 200.",
        discussion: """
            Endpoints: POST /webhooks/webhotelier (PUSH, JSON or XML, Basic auth), GET \
            /webhooks/webhotelier with x-wh-property (PING, Basic auth: answered at once, the property's \
            pending list pulled in the background, bursts coalesced), POST /webhooks/ota/{source} \
            (rate updates signed with X-OTA-Signature or Standard Webhooks), GET /healthz, /readyz, \
            /metrics (Prometheus).

            A request is answered 200 only after its body is committed with synchronous_commit = on \
            (concurrent requests share one commit); a failure to store answers 503 so the sender \
            retries. Missing or wrong credentials or signatures 401 before anything else (nothing \
            stored, no pull), a property with no credentials in the WebHotelier source 404 (nothing \
            stored), bodies over the limit 413, unknown Content-Type 415, malformed or invalid 400 \
            (raw bytes kept in ops.dead_letters). One log line per request on stderr. XML with a \
            DTD or entity declarations is refused. SIGTERM or SIGINT: stop accepting, answer what \
            is in flight, finish running PING pulls, exit 0.

            Configuration, in the file's [serve] table (secrets by reference only):
              listen = "127.0.0.1"          port = 8080
              body_limit_bytes = 1048576    ping_gap_seconds = 10
              source = "webhotelier"        (the WebHotelier source PUSH/PING belong to)
              basic_username = "wh"         basic_password_env = "VAR" | basic_password_file = "/path"
              allow_unauthenticated = false (true starts without Basic credentials: trusted networks only)
              commit_connections = 4        max_batch = 512
              [serve.signing.NAME]          (NAME is the {source} in /webhooks/ota/{source})
              scheme = "hmac" | "standard"  secrets_env = ["VAR", ...] | secrets_files = ["/path", ...]
              tolerance_seconds = 300       (Standard Webhooks timestamps, either way)
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Listen on this port instead of serve.port (0 picks a free one).")
    var port: Int?

    @OptionGroup var runOptions: RunOptions

    func run() async throws {
        try runOptions.refuseNow(for: "serve")
        var config = try CommandInputs.config(global, for: "serve")
        if let port { config.serve.port = port }
        let server = try ReceiverServer(
            config: config, databaseURL: try global.resolvedDatabaseURL(),
            logFormat: runOptions.logFormat)
        try await server.start(handleSignals: true)
        // Written at once, not through print's buffer (block-buffered under systemd or a
        // pipe): a script that started serve with --port 0 learns the port from this line.
        FileHandle.standardOutput.write(
            Data("ota-ingest serve: listening on \(config.serve.listen):\(server.port ?? 0)\n".utf8))
        try await server.run()
    }
}
