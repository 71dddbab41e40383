import Foundation

/// The night's one-screen summary (what needs attention first, then each
/// step) and its Prometheus text.
public enum NightlyReport {
    /// Counters summed over the steps, for ops.runs and the metrics.
    static func totals(_ steps: [StepResult]) -> [String: Int] {
        var totals: [String: Int] = [:]
        for key in [
            "records", "landed", "dead_letters", "failed_properties", "skipped_properties", "unrepaired_breaches",
            "auto_registered", "repaired_keys", "guest_bookings_erased",
        ] {
            totals[key] = steps.map { $0.counts[key] ?? 0 }.reduce(0, +)
        }
        totals["steps"] = steps.count
        totals["steps_failed"] = steps.filter { $0.status == "failed" }.count
        return totals
    }

    static func render(night: Run?, steps: [StepResult], status: ExitStatus, seconds: Double) -> String {
        var lines = [
            "ota-ingest nightly" + (night.map { "  run \($0.id)\($0.resumed ? " (resumed)" : "")" } ?? "")
                + "  exit \(status.rawValue)"
        ]
        let attention = steps.flatMap(\.attention).sorted()
        if attention.isEmpty {
            lines.append("needs attention: nothing")
        } else {
            lines.append("needs attention:")
            lines += attention.map { "  ! " + $0.text }
        }
        lines.append("steps:")
        let width = max(steps.map(\.step.name.count).max() ?? 0, 4)
        for step in steps {
            let counts = [
                "records", "landed", "dead_letters", "repaired_keys", "unrepaired_breaches", "guest_bookings_erased",
                "guest_versions_erased", "guest_dead_letters_erased",
            ].compactMap {
                key in
                step.counts[key].flatMap { $0 > 0 ? "\(key.replacingOccurrences(of: "_", with: " ")) \($0)" : nil }
            }
            lines.append(
                "  " + step.step.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + step.status.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: "%7.1f s", step.seconds)
                    + (step.fromEarlierAttempt ? "  (earlier attempt)" : "")
                    + (counts.isEmpty ? "" : "  " + counts.joined(separator: "  ")))
        }
        let totals = totals(steps)
        lines.append(
            String(format: "elapsed %.1f s", seconds)
                + "  records \(totals["records"] ?? 0)  landed \(totals["landed"] ?? 0)  dead letters \(totals["dead_letters"] ?? 0)"
                + "  exit \(status.rawValue) (1 failed > 4 drift > 3 dead letters > 0)")
        return lines.joined(separator: "\n")
    }

    /// Gauges in Prometheus text exposition format, for node_exporter's textfile collector.
    static func prometheus(night: Run?, steps: [StepResult], status: ExitStatus, seconds: Double) -> String {
        let totals = totals(steps)
        var out: [String] = []
        func gauge(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out.append("# HELP ota_ingest_nightly_\(name) \(help)")
            out.append("# TYPE ota_ingest_nightly_\(name) gauge")
            for sample in samples {
                out.append("ota_ingest_nightly_\(name)\(sample.labels) \(Self.number(sample.value))")
            }
        }
        func label(_ step: StepResult) -> String {
            let escaped = step.step.name.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "{step=\"\(escaped)\"}"
        }
        gauge(
            "exit_status", "Exit status of the last night (1 failed, 4 drift, 3 dead letters, 0 ok).",
            [("", Double(status.rawValue))])
        gauge(
            "finished_timestamp_seconds", "When the last night finished (Unix time).",
            [("", WallClock.systemNow().timeIntervalSince1970)])
        gauge("duration_seconds", "How long the last night took.", [("", seconds)])
        gauge("records", "Records read by the night's pulls.", [("", Double(totals["records"] ?? 0))])
        gauge("landed", "Records landed in staging by the night's pulls.", [("", Double(totals["landed"] ?? 0))])
        gauge(
            "dead_letters", "Records the night sent to ops.dead_letters.", [("", Double(totals["dead_letters"] ?? 0))])
        gauge(
            "unrepaired_breaches", "Reconciliation scopes breached and not repaired.",
            [("", Double(totals["unrepaired_breaches"] ?? 0))])
        gauge(
            "auto_registered_codes", "Codes the transform registered automatically.",
            [("", Double(totals["auto_registered"] ?? 0))])
        gauge(
            "guest_bookings_erased", "Bookings whose guest data the night erased because they departed long ago.",
            [("", Double(totals["guest_bookings_erased"] ?? 0))])
        gauge("steps_failed", "Steps that failed.", [("", Double(totals["steps_failed"] ?? 0))])
        gauge("step_duration_seconds", "How long each step took.", steps.map { (label($0), $0.seconds) })
        gauge(
            "step_success", "1 when the step succeeded (or was not due), else 0.",
            steps.map { (label($0), $0.status == "failed" ? 0 : 1) })
        return out.joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }

    /// Writes `text` to `path` atomically: a temporary file in the same
    /// directory, then rename, so the collector never reads half a file.
    public static func writeAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw ConfigError(
                    "--metrics-file \(path): cannot rename into place (\(String(cString: strerror(errno)))); fix: name a file in a writable directory"
                )
            }
        } catch let error as ConfigError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            throw ConfigError(
                "--metrics-file \(path): \(error.localizedDescription); fix: name a file in a writable directory")
        }
    }
}
