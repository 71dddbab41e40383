import Foundation

/// Draws the status report's sections as text tables for a person at a terminal:
/// timestamps to the second, durations in human units, and no line wider than
/// `width` (free-text columns give up their width first, then the widest).
struct StatusTable {
    var width: Int

    func render(_ sections: [StatusReport.Section], _ document: [String: Any]) -> String {
        var out: [String] = []
        for section in sections {
            if section.single {
                out.append(clip(line(section, document[section.key] as? [String: Any])))
                continue
            }
            let rows = document[section.key] as? [[String: Any]] ?? []
            out.append(clip("== \(section.title)" + (rows.isEmpty ? ": none" : "")))
            guard !rows.isEmpty else { continue }
            out += table(section.columns, rows)
        }
        return out.joined(separator: "\n")
    }

    /// A one-row section as one line: `== title: heading value, heading value`.
    func line(_ section: StatusReport.Section, _ row: [String: Any]?) -> String {
        guard let row else { return "== \(section.title): none" }
        let fields = section.columns.map { column in
            "\(column.title) \(Self.cell(row[column.key], column.shape))"
        }
        return "== \(section.title): " + fields.joined(separator: ", ")
    }

    func table(_ columns: [StatusReport.Column], _ rows: [[String: Any]]) -> [String] {
        let cells = rows.map { row in columns.map { Self.cell(row[$0.key], $0.shape) } }
        var widths = columns.indices.map { index in
            max(columns[index].title.count, cells.map { $0[index].count }.max() ?? 0)
        }
        // Two spaces between columns. Free text shrinks first, down to its heading;
        // then the widest column, down to its heading or four characters.
        let budget = width - 2 * (columns.count - 1)
        func shrink(_ candidates: [Int], floor: (Int) -> Int) {
            while widths.reduce(0, +) > budget {
                guard let widest = candidates.filter({ widths[$0] > floor($0) }).max(by: { widths[$0] < widths[$1] })
                else { return }
                widths[widest] -= 1
            }
        }
        shrink(columns.indices.filter { columns[$0].flexible }) { columns[$0].title.count }
        shrink(Array(columns.indices)) { min(columns[$0].title.count, 4) }
        func format(_ values: [String]) -> String {
            let padded = zip(values, widths).map { value, width in
                let clipped = value.count > width ? String(value.prefix(max(width - 1, 0))) + "…" : value
                return clipped.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            return clip(padded.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        return [format(columns.map(\.title))] + cells.map(format)
    }

    func clip(_ text: String) -> String {
        text.count > width ? String(text.prefix(width - 1)) + "…" : text
    }

    static func cell(_ value: Any?, _ shape: StatusReport.Shape) -> String {
        switch value {
        case nil, is NSNull:
            return ""
        case let number as NSNumber where shape == .duration:
            return duration(number.doubleValue)
        case let number as NSNumber where shape == .flag:
            return number.boolValue ? "yes" : "no"
        case let number as NSNumber:
            return figure(number.doubleValue)
        case let text as String where shape == .timestamp:
            return timestamp(text)
        case let text as String:
            return text.replacingOccurrences(of: "\n", with: " ")
        default:
            return "\(value!)"
        }
    }

    /// `2026-12-03T09:33:13.123456+00:00` as `2026-12-03 09:33:13Z` (the report's session is in UTC).
    static func timestamp(_ text: String) -> String {
        guard text.count >= 19, text.hasSuffix("+00:00") else { return text }
        return String(text.prefix(19)).replacingOccurrences(of: "T", with: " ") + "Z"
    }

    /// Seconds in the two largest units that matter: `0.4s`, `45s`, `8m 1s`, `8h 1m`, `334d 6h`.
    static func duration(_ seconds: Double) -> String {
        let sign = seconds < 0 ? "-" : ""
        let magnitude = abs(seconds)
        if magnitude < 10 && magnitude.rounded() != magnitude {
            return sign + String(format: "%.1fs", magnitude)
        }
        let whole = Int(magnitude.rounded())
        let (days, hours, minutes, secs) = (whole / 86_400, whole % 86_400 / 3_600, whole % 3_600 / 60, whole % 60)
        if days > 0 { return sign + "\(days)d \(hours)h" }
        if hours > 0 { return sign + "\(hours)h \(minutes)m" }
        if minutes > 0 { return sign + "\(minutes)m \(secs)s" }
        return sign + "\(secs)s"
    }

    /// Whole numbers as they are; others to three decimals, without trailing zeros.
    static func figure(_ value: Double) -> String {
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
