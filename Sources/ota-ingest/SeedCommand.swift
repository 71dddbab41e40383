import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest seed`: loads the reference data in seeds/*.csv into dims.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Load seeds/*.csv (properties, rooms, rate plans, channels, FX rates, source precedence) into dims.",
        discussion: """
            Each file is copied with COPY and merged in one transaction: a seed row replaces the dims row it \
            names, including one a transform registered automatically (which loses its flag). Missing files \
            are skipped; a file with another header is refused.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("dir"), help: ArgumentHelp("Folder holding the CSV files.", valueName: "path"))
    var directory = "seeds"

    func run() async throws {
        _ = try global.loadConfig()
        let loader = try SeedLoader()
        let report = try await global.withConnection { connection in
            try await loader.load(from: URL(fileURLWithPath: directory), into: connection)
        }
        for (file, rows) in report.rows { print("seeded \(file): \(rows) rows") }
    }
}
