import Foundation
import OTAIngest
import OTASandbox
import TestSupport
import Testing

/// The pull commands as an operator runs them: flags, logs, exit codes.
@Suite struct PullCommandTests {
    @Test func jsonLogsCarryTheRunIdAndTheSummaryFitsAScreen() async throws {
        try await PullHarness.with({ c in
            c.seed = 51
            c.propertyCount = 2
        }) { h in
            h.server.advance(minutes: 120)
            let config = try h.writeConfig()
            let outcome = try await CommandLineRunner.run(
                h.cliArguments("reservations", config: config) + ["--log-format", "json"], environment: h.environment)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let lines = outcome.stderr.split(separator: "\n")
            #expect(!lines.isEmpty)
            let runIds = Set(try await h.strings("select run_id from ops.runs"))
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
                #expect(object?["run_id"].map(runIds.contains) == true, "\(line)")
                #expect(object?["msg"] != nil)
            }
            #expect(outcome.stdout.contains("landed"))
            #expect(outcome.stdout.split(separator: "\n").count <= 10)
            // No secret reaches the logs or the summary.
            for account in h.server.accounts() {
                #expect(!outcome.stderr.contains(account.password))
                #expect(!outcome.stdout.contains(account.password))
            }
        }
    }

    @Test func configurationMistakesExitTwoWithOneLine() async throws {
        try await PullHarness.with({ c in c.propertyCount = 1 }) { h in
            let config = try h.writeConfig()
            let noConfig = try await CommandLineRunner.run(["pull", "reservations", "--database-url", h.db.url])
            #expect(noConfig.status == 2)
            #expect(noConfig.stderr.contains("--config"))

            let wrongKind = try await CommandLineRunner.run(
                h.cliArguments("rates", config: config) + ["--source", "acme"], environment: h.environment)
            #expect(wrongKind.status == 2)
            #expect(wrongKind.stderr.contains("acme"))

            let noSecrets = try await CommandLineRunner.run(h.cliArguments("reservations", config: config))
            #expect(noSecrets.status == 2)
            #expect(noSecrets.stderr.contains("no property accounts"))
            #expect(noSecrets.stderr.split(separator: "\n").count == 1, "\(noSecrets.stderr)")

            let noToken = try await CommandLineRunner.run(h.cliArguments("inventory", config: config))
            #expect(noToken.status == 2)
            #expect(noToken.stderr.contains("FEED_TOKEN is not set"))
        }
    }

    @Test func badCredentialsFailTheRunWithoutRetrying() async throws {
        try await PullHarness.with({ c in c.propertyCount = 1 }) { h in
            let config = try h.writeConfig()
            var env = h.environment
            for key in env.keys where key.hasPrefix("WH_") { env[key] = "someone:wrong-password" }
            let outcome = try await CommandLineRunner.run(
                h.cliArguments("reservations", config: config), environment: env)
            #expect(outcome.status == 1)
            #expect(outcome.stdout.contains("403"))
            #expect(!outcome.stdout.contains("wrong-password") && !outcome.stderr.contains("wrong-password"))
            #expect(try await h.int("select (counts->>'retries')::int from ops.runs") == 0, "403 is never retried")
            #expect(try await h.strings("select status from ops.runs") == ["failed"])
        }
    }
}
