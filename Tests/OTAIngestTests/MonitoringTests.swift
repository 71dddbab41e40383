import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import TestSupport
import Testing

/// The shipped Prometheus rules and Grafana dashboard against the real thing: promtool
/// checks and unit-tests the rules, and a real Prometheus scraping a real `serve` and a
/// real node_exporter (reading the nightly's textfile) holds every metric they name.
/// The tools are Debian packages `make deps` installs; missing, they fail these tests.
@Suite struct MonitoringTests {
    static let contrib = WarehouseFixture.repositoryRoot.appendingPathComponent("contrib")
    static let rules = contrib.appendingPathComponent("prometheus/ota-ingest-alerts.yml")
    static let dashboard = contrib.appendingPathComponent("grafana/ota-ingest.json")

    static func tool(_ name: String) throws -> URL {
        let url = URL(fileURLWithPath: "/usr/bin").appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ToolMissing(name: name)
        }
        return url.deletingLastPathComponent()
    }

    struct ToolMissing: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "/usr/bin/\(name) is not installed; fix: `make deps` installs the Debian packages prometheus and prometheus-node-exporter"
        }
    }

    @Test("promtool accepts the alert rules and their unit tests pass: each alert fires and stays quiet")
    func rulesCheckAndUnitTests() async throws {
        let bin = try Self.tool("promtool")
        let check = try await CommandLineRunner.run(
            ["check", "rules", Self.rules.path], executable: "promtool", executableDirectory: bin)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("SUCCESS"), "\(check.stdout)")
        let unit = try await CommandLineRunner.run(
            ["test", "rules", Self.rules.deletingPathExtension().appendingPathExtension("test.yml").path],
            executable: "promtool", executableDirectory: bin)
        #expect(unit.status == 0, "\(unit.stdout) \(unit.stderr)")
    }

    /// Every metric name an expression of the dashboard or of the rules reads.
    static func namedMetrics() throws -> Set<String> {
        var expressions: [String] = []
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard)) as? [String: Any]
        for panel in json?["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                expressions.append(target["expr"] as? String ?? "")
            }
        }
        expressions += try ruleExpressions()
        var names = Set<String>()
        let pattern = try NSRegularExpression(pattern: "\\bota_[a-z_]+\\b")
        for expression in expressions {
            let range = NSRange(expression.startIndex..., in: expression)
            for match in pattern.matches(in: expression, range: range) {
                names.insert(String(expression[Range(match.range, in: expression)!]))
            }
        }
        // `ota_ingest_nightly_*` in prose is a family, not a metric.
        names.remove("ota_ingest_nightly_")
        return names
    }

    /// The rules' `expr:` values (one line, or a `|` block of deeper-indented lines); the
    /// descriptions name metrics in prose, which is not what Prometheus must scrape.
    static func ruleExpressions() throws -> [String] {
        var expressions: [String] = []
        var block: (indent: Int, lines: [String])?
        for line in try String(contentsOf: rules, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            let indent = line.prefix { $0 == " " }.count
            if let open = block {
                if indent > open.indent && !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    block?.lines.append(String(line))
                    continue
                }
                expressions.append(open.lines.joined(separator: "\n"))
                block = nil
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("expr:") else { continue }
            let value = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if value == "|" { block = (indent, []) } else { expressions.append(value) }
        }
        if let open = block { expressions.append(open.lines.joined(separator: "\n")) }
        return expressions
    }

    @Test(
        "a real Prometheus scraping serve and node_exporter's textfile folder holds every metric the dashboard and the alert rules name, and loads the rules"
    )
    func everyNamedMetricIsScraped() async throws {
        let bin = try Self.tool("prometheus")
        _ = try Self.tool("prometheus-node-exporter")
        let wanted = try Self.namedMetrics()
        #expect(wanted.count >= 25, "\(wanted.sorted())")
        #expect(try Self.ruleExpressions().count == 13)

        try await PullHarness.with(NightlyTests.world) { h in
            try await NightlyTests.seed(h)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("monitoring-\(UUID())")
            let textfiles = work.appendingPathComponent("textfile")
            try FileManager.default.createDirectory(at: textfiles, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }

            // The night writes its gauges where node_exporter's textfile collector reads.
            let config = try NightlyTests.config(h)
            defer { try? FileManager.default.removeItem(at: config) }
            let night = try await CommandLineRunner.run(
                NightlyTests.arguments(
                    h, config, ["--metrics-file", textfiles.appendingPathComponent("ota_ingest.prom").path]),
                environment: h.environment)
            #expect([0, 3, 4].contains(night.status), "\(night.stdout) \(night.stderr)")

            // serve, as deployed, with pushes and PINGs from the sandbox and an OpenTravel queue to
            // read, so every series exists.
            let serveConfig = work.appendingPathComponent("serve.toml")
            try """
            [sources.webhotelier]
            kind = "webhotelier"
            base_url = "\(h.baseURL)"
            credentials_env_prefix = "WH_"
            pending_interval_minutes = 0

            [sources.bdc]
            kind = "opentravel"
            base_url = "\(h.baseURL)/hotels/ota"
            credentials_env = "BDC_ACCOUNT"
            auth = "basic"
            poll_ms = 200
            after_ack_ms = 200

            [serve]
            port = 0
            ping_gap_seconds = 0
            basic_username = "push"
            basic_password_env = "PUSH_PASSWORD"
            """.write(to: serveConfig, atomically: true, encoding: .utf8)
            let pipe = Pipe()
            var environment = h.environment
            environment["PUSH_PASSWORD"] = "push-secret"
            let account = try #require(h.server.openTravelAccounts().first)
            environment["BDC_ACCOUNT"] = "\(account.username):\(account.password)"
            let serve = try ChildProcess(
                ["serve", "--config", serveConfig.path, "--database-url", h.db.url], environment: environment,
                standardOutput: pipe)
            defer { serve.terminate() }
            let line = await ChildProcess.firstLine(pipe.fileHandleForReading)
            let servePort = Int(line.split(separator: ":").last ?? "") ?? 0
            #expect(servePort > 0, "serve's start line: \(line)")
            let serveURL = "http://127.0.0.1:\(servePort)/webhooks/webhotelier"
            for mode in [WebhookRegistration.Mode.push, .ping] {
                _ = try h.server.registerWebhook(
                    WebhookRegistration(mode: mode, url: serveURL, username: "push", password: "push-secret"))
            }
            h.server.advance(minutes: 120)
            await h.server.waitForWebhookDeliveries()
            // And one refused push, so a refusal outcome is counted too.
            let refused = try await HTTPSession().send(
                HTTPClientRequest(
                    method: "POST", url: serveURL, headers: ["Content-Type": "application/json"],
                    body: Array("{}".utf8)))
            #expect(refused.status == 401)

            let exporterPort = try LoopbackPort.freeForServer()
            let exporter = try ChildProcess(
                [
                    "--web.listen-address=127.0.0.1:\(exporterPort)", "--collector.disable-defaults",
                    "--collector.textfile", "--collector.textfile.directory=\(textfiles.path)",
                ], executable: "prometheus-node-exporter", executableDirectory: bin)
            defer { exporter.terminate() }

            let prometheusPort = try LoopbackPort.freeForServer()
            let prometheusConfig = work.appendingPathComponent("prometheus.yml")
            try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(Self.rules.path)
            scrape_configs:
              - job_name: ota-ingest-serve
                static_configs: [{ targets: ["127.0.0.1:\(servePort)"] }]
              - job_name: node
                static_configs: [{ targets: ["127.0.0.1:\(exporterPort)"] }]
            """.write(to: prometheusConfig, atomically: true, encoding: .utf8)
            let prometheus = try ChildProcess(
                [
                    "--config.file=\(prometheusConfig.path)", "--storage.tsdb.path=\(work.path)/tsdb",
                    "--web.listen-address=127.0.0.1:\(prometheusPort)",
                ], executable: "prometheus", executableDirectory: bin)
            defer { prometheus.terminate() }

            // Poll Prometheus' own API until both targets were scraped with every name in them.
            let api = "http://127.0.0.1:\(prometheusPort)/api/v1"
            let session = HTTPSession()
            // The pause between reads only spaces the polls (Prometheus scrapes every second);
            // the loop ends on what Prometheus answers, or when a process died, or at the deadline.
            var names = Set<String>()
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, prometheus.isRunning, exporter.isRunning, serve.isRunning {
                if let answer = try? await session.send(HTTPClientRequest(url: api + "/label/__name__/values")),
                    answer.status == 200,
                    let json = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                {
                    names = Set(json["data"] as? [String] ?? [])
                    if wanted.isSubset(of: names) && names.contains("up") { break }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(prometheus.isRunning && exporter.isRunning && serve.isRunning)
            #expect(wanted.subtracting(names).isEmpty, "named but never scraped: \(wanted.subtracting(names).sorted())")

            let loaded = try await session.send(HTTPClientRequest(url: api + "/rules"))
            let groups =
                ((try? JSONSerialization.jsonObject(with: Data(loaded.body)) as? [String: Any])?["data"]
                as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            #expect(groups.count == 2, "the rules Prometheus loaded: \(String(decoding: loaded.body, as: UTF8.self))")
            let up = try await session.send(HTTPClientRequest(url: api + "/query?query=up"))
            let upText = String(decoding: up.body, as: UTF8.self)
            #expect(upText.contains("ota-ingest-serve") && upText.contains("\"node\""), "\(upText)")
        }
    }
}
