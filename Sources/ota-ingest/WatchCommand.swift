import ArgumentParser
import Foundation
import OTAIngest
import PostgresClient

/// `ota-ingest watch`: prints the announcements of promotions as they commit.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print each promotion into facts as it commits (LISTEN ota_ingest_facts), one JSON line each.",
        discussion: """
            Every promotion (serve's continuous promotion, a transform, the nightly's) announces what it \
            brought into facts on the PostgreSQL channel ota_ingest_facts: streams, sources, properties, \
            the staged versions promoted and the horizon (every push answered before it is in facts). \
            --stream and --property print only the announcements that concern them (a summarised \
            announcement, which lists no properties, is printed whenever its stream matches). Runs until \
            interrupted, or until --count announcements were printed; reconnects by itself.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only this stream: reservations, availability, rates or inventory.")
    var stream: String?

    @Option(help: "Only this property code.")
    var property: String?

    @Option(help: "Exit after printing this many announcements.")
    var count: Int?

    func validate() throws {
        if let stream, !["reservations", "availability", "rates", "inventory"].contains(stream) {
            throw ValidationError("--stream \(stream) is unknown; use reservations, availability, rates or inventory")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let url = try global.resolvedDatabaseURL()
        do {
            try PostgresConnection.validate(conninfo: url)
        } catch let error as PostgresError {
            throw ConfigError("DATABASE_URL: \(error)")
        }
        var printed = 0
        var lost = false
        while true {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(url, applicationName: "ota-ingest watch")
                try await connection.listen(FactsAnnouncement.channel)
            } catch let error as PostgresError {
                // The first connection must work: a wrong URL is the user's to fix, not to wait out.
                guard lost else { throw DatabaseFailure(error: error) }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            if lost { FileHandle.standardError.write(Data("watch: listening again\n".utf8)) }
            // What was sent while no session listened is gone: say so, rather than pretend.
            do {
                while true {
                    for notification in try await connection.notifications(waitingUpTo: .seconds(5)) {
                        guard let announcement = try? FactsAnnouncement.decode(notification.payload),
                            announcement.concerns(stream: stream, property: property)
                        else { continue }
                        FileHandle.standardOutput.write(Data((notification.payload + "\n").utf8))
                        printed += 1
                        if let count, printed >= count {
                            await connection.close()
                            return
                        }
                    }
                }
            } catch {
                await connection.close()
                lost = true
                FileHandle.standardError.write(
                    Data(
                        "watch: the connection broke (\(error)); reconnecting; promotions committed meanwhile are not shown\n"
                            .utf8))
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
