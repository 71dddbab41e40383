import Foundation

/// The one-screen summary every run prints, and how a run's end maps to its
/// ops.runs status and exit status. Shared by pull, load and dlq replay.
public enum RunSummary {
    /// One summary line: counters shown as "label value", in order.
    public typealias Line = [(label: String, value: Int)]

    /// The ops.runs status and the exit status for a run that ended this way.
    public static func verdict(failed: Bool, deadLetters: Int, allowDeadLetters: Bool) -> (
        status: ExitStatus, run: RunStatus
    ) {
        if failed { return (.failure, .failed) }
        if deadLetters > 0 { return (allowDeadLetters ? .success : .finishedWithDeadLetters, .deadLetters) }
        return (.success, .succeeded)
    }

    /// `command  run ID`, the counter lines, then elapsed, throughput and status, then any errors.
    public static func render(
        command: String, run: Run, lines: [Line], notes: [String] = [], records: Int, elapsed: Duration,
        status: RunStatus, errors: [String] = []
    ) -> String {
        let seconds = max(elapsed.seconds, 0.001)
        var out = ["\(command)  run \(run.id)\(run.resumed ? " (resumed)" : "")"]
        out += notes.map { "  " + $0 }
        out += lines.map { line in "  " + line.map { "\($0.label) \($0.value)" }.joined(separator: "  ") }
        out.append(
            String(format: "  elapsed %.1f s  (%d records/s)", seconds, Int(Double(records) / seconds)) + "  status "
                + status.rawValue)
        out += errors.map { "  error: " + $0 }
        return out.joined(separator: "\n")
    }
}
