import Foundation

/// The one-screen summary of a reconcile: a line per source, stream and
/// property with what was compared, found and repaired.
enum ReconcileSummary {
    static func render(
        scopes: [ReconcileRunner.Scope], runIDs: [String], failures: [String], elapsed: Duration, status: ExitStatus
    ) -> String {
        var lines = ["reconcile  run \(runIDs.isEmpty ? "-" : runIDs.joined(separator: ", "))"]
        let header = [
            pad("source", 12), pad("stream", 13), pad("property", 9), lpad("compared", 9), lpad("missing", 8),
            lpad("extra", 6), lpad("mismatched", 11), lpad("share", 8), lpad("movement", 9), "  breached  repaired",
        ].joined()
        lines.append("  " + header)
        for scope in scopes {
            guard scope.snapshotID != nil else {
                lines.append(
                    "  " + pad(scope.source, 12) + pad(scope.stream, 13) + pad(scope.property, 9)
                        + "not compared: \(scope.problem.map { "\($0)" } ?? "no snapshot")")
                continue
            }
            let m = scope.metrics
            func count(_ key: String) -> String { m[key].map { String(Int($0)) } ?? "-" }
            let share = m["mismatched_share"].map { String(format: "%.2f%%", $0 * 100) } ?? "-"
            let movement = m["movement_share"].map { String(format: "%.2f%%", $0 * 100) } ?? "-"
            let repaired =
                scope.repaired
                ? "yes (\(scope.repairedKeys))" : (scope.breached && scope.afterRepair != nil ? "NO" : "-")
            lines.append(
                "  "
                    + [
                        pad(scope.source, 12), pad(scope.stream, 13), pad(scope.property, 9),
                        lpad(count("compared_keys"), 9), lpad(count("missing_keys"), 8), lpad(count("extra_keys"), 6),
                        lpad(count("mismatched_keys"), 11), lpad(share, 8), lpad(movement, 9),
                        "  " + pad(scope.breached ? "YES" : "no", 10), repaired,
                        scope.reusedSnapshot ? "  (stored snapshot \(scope.snapshotID!))" : "",
                    ].joined())
        }
        let notTried = scopes.filter { $0.unrepairedBreach && $0.afterRepair == nil }
        if !notTried.isEmpty {
            lines.append(
                "  \(notTried.count) scopes breached their threshold and are not repaired; fix: run `ota-ingest reconcile --repair`, "
                    + "or see recon.drift_metrics for the fields")
        }
        // Before a repair, extra keys are named as what a repair will not clear.
        lines += notTried.compactMap(unrepairableReason)
        // Repair ran and the breach stayed: running it again would do the same, so the
        // advice is to look at the keys, never --repair again.
        for scope in scopes where scope.unrepairedBreach && scope.afterRepair != nil {
            lines.append("  " + repairAdvice(scope))
        }
        let unreadable = scopes.compactMap { scope in scope.metrics["unreadable"].map { (scope, Int($0)) } }
            .filter { $0.1 > 0 }
        for (scope, entries) in unreadable {
            lines.append(
                "  \(scope.source) \(scope.stream) \(scope.property): \(entries) entries of the read were dead-lettered; "
                    + "their cells are unreadable, not drift (`ota-ingest dlq list`, replay after a fix)")
        }
        for scope in scopes where scope.snapshotID == nil && scope.failed {
            lines.append("  error: \(scope.source) \(scope.stream) \(scope.property): \(scope.problem!)")
        }
        lines += failures.map { "  error: " + $0 }
        lines.append(String(format: "  elapsed %.1f s  exit status %d", elapsed.seconds, status.rawValue))
        return lines.joined(separator: "\n")
    }

    /// Why a repair left `scope` breached, from the comparison after it, and where to look.
    static func repairAdvice(_ scope: ReconcileRunner.Scope) -> String {
        let after = scope.afterRepair ?? [:]
        func count(_ key: String) -> Int { Int(after[key] ?? 0) }
        var left: [String] = []
        if count("extra_keys") > 0 {
            left.append(
                "\(count("extra_keys")) extra (in the warehouse, not at the OTA: \(extraRule(scope)))"
            )
        }
        if count("missing_keys") > 0 { left.append("\(count("missing_keys")) still missing") }
        // mismatched_keys counts every differing key, missing and extra included.
        let different = count("mismatched_keys") - count("missing_keys") - count("extra_keys")
        if different > 0 { left.append("\(different) still different") }
        var why =
            left.isEmpty
            ? "the repair changed what it could and the share stays above the threshold"
            : "left after the repair: " + left.joined(separator: ", ")
        if count("missing_keys") + different > 0 {
            why += "; what the OTA serves but a repair could not land went to dead letters (ota-ingest dlq list)"
        }
        return
            "\(scope.source) \(scope.stream) \(scope.property): still breached after the repair: \(why); "
            + "fix: list the keys with `ota-ingest reconcile --show-keys --source \(scope.source) --stream \(scope.stream) "
            + "--property \(scope.property)` "
            + "and correct them at their origin (running --repair again does the same again)"
    }

    /// Why a repair cannot clear a breach, when it cannot: a repair lands what the OTA
    /// shows, so keys the warehouse holds and the OTA no longer shows (extra) stay until
    /// two consecutive reads lack them (cells), or for good (bookings).
    static func unrepairableReason(_ scope: ReconcileRunner.Scope) -> String? {
        let figures = scope.afterRepair ?? scope.metrics
        guard let extra = figures["extra_keys"], extra > 0 else { return nil }
        return
            "  \(scope.source) \(scope.stream) \(scope.property): \(Int(extra)) extra keys (in the warehouse, not at the "
            + "OTA) are not repaired: \(extraRule(scope)); list them: ota-ingest reconcile --show-keys --source \(scope.source) "
            + "--stream \(scope.stream) --property \(scope.property)"
    }

    /// What becomes of extra keys: a repair lands what the OTA shows and closes nothing at once.
    static func extraRule(_ scope: ReconcileRunner.Scope) -> String {
        scope.stream == "reservations"
            ? "bookings missing from the OTA's search are listed, never closed"
            : "a cell is closed as withdrawn only once two consecutive reads lack it"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
