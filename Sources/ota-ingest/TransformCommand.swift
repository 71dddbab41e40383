import ArgumentParser
import OTAIngest

/// `ota-ingest transform`: promotes staged rows into versioned facts, then checks them.
struct TransformCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transform",
        abstract: "Promote new staging rows into versioned facts, then run the data-quality checks.",
        discussion: """
            Runs sql/transforms/*.sql in order in one transaction (a crash keeps all or nothing), under an \
            advisory lock so concurrent runs queue instead of racing. Then runs sql/checks/*.sql over the keys the \
            run touched (--check-all: over every key, the weekly full scan); results go to ops.dq_results and a \
            failing check exits with status 1. --full-refresh rebuilds every fact from all of staging; it gives \
            the same rows as incremental runs.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("full-refresh"), help: "Rebuild facts from all of staging instead of the new rows only.")
    var fullRefresh = false

    @Flag(
        name: .customLong("check-all"),
        help: "Run the data-quality checks over every key in facts, not only the keys this run touched.")
    var checkAll = false

    func run() async throws {
        ProgressLine.standardError.enableOnTerminal()
        _ = try global.loadConfig()
        let runner = try TransformRunner()
        let summary = try await global.withConnection { connection in
            try await runner.run(connection, fullRefresh: fullRefresh, checkAll: checkAll)
        }
        print(summary.rendered)
        if summary.exitStatus != .success {
            throw RunOutcome(status: summary.exitStatus)
        }
    }
}
