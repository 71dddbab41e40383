import Foundation
import OTAIngest
import TestSupport
import Testing

/// The progress line as a person at a terminal sees it, and as a pipe (cron, CI) does not:
/// the real binary under a pseudo-terminal (util-linux `script`) and under a shell pipe.
@Suite("Progress line")
struct ProgressLineTests {
    static let clearLine = "\r\u{1B}[K"

    /// A rates file of 2,000 records landed in ten parts, and the two commands that show progress on it.
    static func commands(_ db: BackfillDatabase, in dir: URL) throws -> [(command: String, summary: String)] {
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(BackfillFixtures.ndjson(BackfillFixtures.rates(count: 2000, seed: 17)), to: file)
        let binary = CommandLineRunner.binDirectory.appendingPathComponent("ota-ingest").path
        return [
            (
                "'\(binary)' load rates --source demo --file '\(file.path)' --part-records 200 --database-url '\(db.db.url)'",
                "load rates --source demo"
            ),
            ("'\(binary)' transform --database-url '\(db.db.url)'", "checks: "),
        ]
    }

    @Test(
        "on a terminal, load and transform draw a progress line (step, share, elapsed) and clear it before the summary")
    func terminalShowsAndClearsProgress() async throws {
        try await BackfillDatabase.with { db in
            let dir = try BackfillFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            for (command, summary) in try Self.commands(db, in: dir) {
                // `script` runs the command on a pseudo-terminal and copies everything it shows to stdout.
                let outcome = try await CommandLineRunner.run(
                    ["-qfec", command, "/dev/null"], executable: "script", environment: ["TERM": "xterm"],
                    executableDirectory: URL(fileURLWithPath: "/usr/bin"))
                #expect(outcome.status == 0, "\(command): \(outcome.stdout) \(outcome.stderr)")
                // The terminal ends lines with CR LF; the progress line's own CRs are the ones left.
                let screen = outcome.stdout.replacingOccurrences(of: "\r\n", with: "\n")
                let label = command.contains(" load ") ? "\rload rates demo  " : "\rtransform  "
                guard let drawn = screen.range(of: label),
                    let cleared = screen.range(of: Self.clearLine, options: .backwards),
                    let shown = screen.range(of: summary, options: .backwards)
                else {
                    Issue.record("no progress line, clearing or summary in \(screen.debugDescription)")
                    continue
                }
                let line = screen[drawn.lowerBound...].prefix { $0 != "\u{1B}" }
                #expect(line.contains("%") && line.contains("elapsed"), "\(line.debugDescription)")
                if command.contains(" load ") {
                    #expect(line.contains(" MB"), "load's total is the file size: \(line.debugDescription)")
                } else {
                    #expect(line.contains(" files"), "\(line.debugDescription)")
                }
                #expect(drawn.lowerBound < cleared.lowerBound && cleared.upperBound <= shown.lowerBound)
                #expect(!screen[cleared.upperBound...].contains("\r"), "nothing is drawn after the clearing")
            }
        }
    }

    @Test("through a pipe, the same commands print no progress line and no terminal control codes")
    func pipeShowsNoProgress() async throws {
        try await BackfillDatabase.with { db in
            let dir = try BackfillFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            for (command, summary) in try Self.commands(db, in: dir) {
                let outcome = try await CommandLineRunner.run(
                    ["-c", "\(command) 2>&1 | cat"], executable: "sh", executableDirectory: URL(fileURLWithPath: "/bin")
                )
                #expect(outcome.status == 0, "\(command): \(outcome.stdout) \(outcome.stderr)")
                #expect(outcome.stdout.contains(summary), "\(outcome.stdout)")
                #expect(
                    !outcome.stdout.contains("\r") && !outcome.stdout.contains("\u{1B}"),
                    "\(outcome.stdout.debugDescription)")
            }
        }
    }
}
