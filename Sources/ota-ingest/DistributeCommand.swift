import ArgumentParser
import OTAIngest

/// `ota-ingest distribute`: places a migrated warehouse on a Citus cluster.
struct DistributeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distribute",
        abstract: "Place the warehouse's tables on a Citus cluster (run on the coordinator, after migrate).",
        discussion: """
            Applies sql/citus/layout.sql: staging, facts, recon and the watermarks hash-distributed by \
            property_code and colocated; dims as reference tables; the rest of ops local on the coordinator, \
            added to Citus metadata. Idempotent: tables already placed are left alone. Afterwards `migrate` \
            places the tables later migrations create by the same file. On a server without Citus it exits \
            with status 2. See docs/scaling.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        name: .customLong("shard-count"),
        help: "Shards of each distributed table (only when the first table is distributed; later runs keep it).")
    var shardCount = 32

    func validate() throws {
        guard (1...4096).contains(shardCount) else {
            throw ValidationError("--shard-count must be between 1 and 4096")
        }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let distribution = Distribution()
        let report = try await global.withConnection { connection in
            try await distribution.distribute(connection, shardCount: shardCount)
        }
        for entry in report.placed { print("\(entry.placement.rawValue) \(entry.table)") }
        print(
            "distributed: \(report.placed.count) tables placed, \(report.alreadyPlaced) already placed, "
                + "\(report.functions) functions sent to the workers")
    }
}
