import Foundation

/// `make torture` and its short version in `make test`: the same scenarios, with
/// few trials by default and many when `OTA_TORTURE=1`. Each scenario reports its
/// trials and violations; with `OTA_TORTURE_REPORT=FILE` they are appended there as
/// JSON lines, from which scripts/reliability-report.sh writes docs/reliability.md.
public enum Torture {
    /// Parallel tests append to one file.
    private static let lock = NSLock()

    public static var isFull: Bool { ProcessInfo.processInfo.environment["OTA_TORTURE"] == "1" }

    /// `short` trials in `make test`, `full` under `make torture`.
    public static func trials(short: Int, full: Int) -> Int { isFull ? full : short }

    /// Appends one scenario's result to the report, if one was asked for.
    public static func record(_ scenario: String, trials: Int, violations: Int, note: String = "") {
        guard let path = ProcessInfo.processInfo.environment["OTA_TORTURE_REPORT"] else { return }
        let line: [String: Any] = ["scenario": scenario, "trials": trials, "violations": violations, "note": note]
        guard var data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        } else {
            FileManager.default.createFile(atPath: path, contents: data)
        }
    }

    /// Rows in one multiset and not the other, both ways: 0 when equal.
    public static func difference(_ a: [String], _ b: [String]) -> Int {
        var counts: [String: Int] = [:]
        for row in a { counts[row, default: 0] += 1 }
        for row in b { counts[row, default: 0] -= 1 }
        return counts.values.map(abs).reduce(0, +)
    }
}
