import ArgumentParser
import Foundation
import OTAIngest

/// Options every command that records a run shares: how it logs, and the hidden clock pin.
struct RunOptions: ParsableArguments {
    @Option(help: "Log format on stderr: text, or json (JSON lines carrying run_id and, where there is one, property).")
    var logFormat: RunLog.Format = .text

    @Option(
        help: ArgumentHelp(
            "Pretend it is this UTC time (ISO-8601); for demos and tests against the sandbox's simulated clock.",
            visibility: .hidden),
        transform: PinnedTime.parse)
    var now: PinnedTime?

    /// The clock the run reads: pinned by `--now`, else the system's.
    var clock: WallClock { now.map { WallClock(pinned: $0.date) } ?? .system }

    /// For commands whose runs do not read the clock yet: `--now` would be ignored, so it is
    /// refused as an unknown option was before (exit status 2).
    func refuseNow(for command: String) throws {
        if now != nil { throw ValidationError("\(command) does not take --now") }
    }
}

extension RunLog.Format: ExpressibleByArgument {}

/// A UTC time from `--now`.
struct PinnedTime {
    var date: Date

    static func parse(_ text: String) throws -> PinnedTime {
        guard let date = Timestamps.parse(text) else {
            throw ValidationError("--now \(text) is not an ISO-8601 time; fix: e.g. 2026-01-01T00:00:00Z")
        }
        return PinnedTime(date: date)
    }
}
