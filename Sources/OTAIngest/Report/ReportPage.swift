import Foundation

/// The report as one HTML file: inline CSS and SVG, no script, nothing fetched, so it opens
/// offline, mails as one attachment and prints. Each chart is followed by the numbers behind
/// it in a collapsible table (`<details>`), whose cells carry the figures as the feeds gave them.
public enum ReportPage {
    public static func render(_ data: ReportData) -> String {
        let scope = data.property.map { "property \($0)" } ?? "all properties"
        var sections: [String] = []
        sections.append(pace(data))
        sections.append(revenue(data))
        sections.append(rateCalendar(data))
        sections.append(drift(data))
        sections.append(health(data))
        sections.append(psi(data))
        let asOf = Timestamps.format(data.asOf)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>ota-ingest report: \(e(scope)) as of \(e(asOf))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 940px; color: #222; padding: 0 1rem; }
            h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
            .meta { color: #555; margin-top: 0; } .note { color: #555; font-size: 0.9rem; }
            svg.chart { width: 100%; height: auto; display: block; margin: 0.8rem 0; }
            details { margin: 0.4rem 0 1.2rem; } summary { cursor: pointer; color: #1f4f8f; }
            table { border-collapse: collapse; font-size: 0.82rem; margin-top: 0.4rem; }
            th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; } th { background: #f3f3f3; }
            td:first-child, th:first-child { text-align: left; }
            .empty-section { background: #f7f7f7; border-left: 4px solid #bbb; padding: 0.6rem 1rem; }
            @media print { details { display: block; } details > summary { display: none; } h2 { break-before: auto; } svg.chart { break-inside: avoid; } }
            </style></head>
            <body>
            <h1>Hotel data report: \(e(scope))</h1>
            <p class="meta">As of \(e(asOf)) (UTC); the next \(data.days) stay dates; money in \(e(data.currency.isEmpty ? "the reporting currency" : data.currency)). Written by ota-ingest from the warehouse's feeds.</p>
            \(sections.joined(separator: "\n"))
            </body></html>

            """
    }

    // MARK: - Sections

    static func pace(_ data: ReportData) -> String {
        let title = "Booking pace: rooms on the books by stay date"
        guard data.pace.contains(where: { $0.onTheBooks + $0.lastYear + $0.thirtyDaysAgo > 0 }) else {
            return section(
                "pace", title, empty: "No bookings on the books for the next \(data.days) days as of this time.")
        }
        let points = { (value: (ReportData.PaceDay) -> Double) in data.pace.map { (Double($0.day), value($0)) } }
        let chart = SVGChart.lines(
            id: "chart-pace", title: "Rooms on the books by stay date, now against 7 and 30 days ago and last year",
            xAxis: "stay date", yAxis: "rooms (room nights)",
            series: [
                .init(name: "now", points: points(\.onTheBooks)),
                .init(name: "7 days ago", points: points(\.sevenDaysAgo), dashed: true),
                .init(name: "30 days ago", points: points(\.thirtyDaysAgo), dashed: true),
                .init(name: "last year (same weekday)", points: points(\.lastYear)),
            ], xLabel: dayLabel)
        let rows = data.pace.map {
            [
                $0.stayDate, n($0.onTheBooks), n($0.onTheBooks - $0.sevenDaysAgo), n($0.onTheBooks - $0.thirtyDaysAgo),
                n($0.lastYear),
            ]
        }
        return section(
            "pace", title,
            body: chart
                + """
                <p class="note">Pickup is the change against 7 and 30 days ago. Last year is the stay date 364 days earlier as it stood 364 days earlier, so both sit the same number of days before arrival; bookings loaded late (a backfill) count where the hotel had them then.</p>
                """
                + table(
                    "table-pace", ["stay date", "rooms on the books", "pickup 7 days", "pickup 30 days", "last year"],
                    rows))
    }

    static func revenue(_ data: ReportData) -> String {
        let title = "Revenue and ADR on the books"
        guard data.pace.contains(where: { $0.revenue > 0 }) else {
            return section("revenue", title, empty: "No room revenue on the books for the next \(data.days) days.")
        }
        let unit = data.currency.isEmpty ? "reporting currency" : data.currency
        let revenueChart = SVGChart.lines(
            id: "chart-revenue", title: "Net room revenue on the books by stay date, against last year",
            xAxis: "stay date", yAxis: "net room revenue (\(unit))",
            series: [
                .init(name: "now", points: data.pace.map { (Double($0.day), $0.revenue) }),
                .init(name: "last year", points: data.pace.map { (Double($0.day), $0.lastYearRevenue) }, dashed: true),
            ], xLabel: dayLabel)
        let adrChart = SVGChart.lines(
            id: "chart-adr", title: "ADR on the books by stay date (net revenue per room night)",
            xAxis: "stay date", yAxis: "ADR (\(unit) per room night)",
            series: [.init(name: "ADR", points: data.pace.compactMap { d in d.adr.map { (Double(d.day), $0) } })],
            xLabel: dayLabel)
        let rows = data.pace.map {
            [$0.stayDate, money($0.revenue), $0.adr.map(money) ?? "", money($0.lastYearRevenue)]
        }
        return section(
            "revenue", title,
            body: revenueChart + adrChart
                + table("table-revenue", ["stay date", "net revenue", "ADR", "last year net revenue"], rows))
    }

    static func rateCalendar(_ data: ReportData) -> String {
        let title = "Rate calendar" + (data.rateProperty.map { ": \($0)" } ?? "")
        guard let property = data.rateProperty, !data.rates.isEmpty else {
            return section("rates", title, empty: "No current rates for the next \(data.days) stay dates.")
        }
        let plans = Array(Set(data.rates.map(\.plan))).sorted()
        let dates = Array(Set(data.rates.map(\.stayDate))).sorted()
        let planIndex = Dictionary(uniqueKeysWithValues: plans.enumerated().map { ($1, $0) })
        let dateIndex = Dictionary(uniqueKeysWithValues: dates.enumerated().map { ($1, $0) })
        var values = Array(repeating: [Double?](repeating: nil, count: dates.count), count: plans.count)
        var marked = Array(repeating: [Bool](repeating: false, count: dates.count), count: plans.count)
        for cell in data.rates {
            values[planIndex[cell.plan]!][dateIndex[cell.stayDate]!] = cell.price
            marked[planIndex[cell.plan]!][dateIndex[cell.stayDate]!] = cell.closed
        }
        let chart = SVGChart.heatMap(
            id: "chart-rates", title: "Lowest current price by stay date and room / rate plan, \(property)",
            xAxis: "stay date", yAxis: "room / rate plan", columns: dates.map { String($0.dropFirst(5)) },
            rows: plans, values: values, marked: marked, unit: "price")
        let rows = data.rates.map { [$0.plan, $0.stayDate, money($0.price), $0.closed ? "closed" : "open"] }
        return section(
            "rates", title,
            body: chart + table("table-rates", ["room / rate plan", "stay date", "lowest price", "sale"], rows))
    }

    static func drift(_ data: ReportData) -> String {
        let title = "Drift: the OTA against the facts"
        guard !data.drift.isEmpty else {
            return section("drift", title, empty: "No reconciliation in the last \(data.days) days.")
        }
        var series: [SVGChart.Series] = []
        for scope in Set(data.drift.map(\.scope)).sorted() {
            let before = data.drift.filter { $0.scope == scope && !$0.afterRepair }
            series.append(.init(name: scope, points: before.map { (day($0.comparedAt), $0.share * 100) }))
            let breaches = before.filter(\.breached)
            if !breaches.isEmpty {
                series.append(
                    .init(
                        name: scope + " breach", points: breaches.map { (day($0.comparedAt), $0.share * 100) },
                        dotsOnly: true))
            }
            let repaired = data.drift.filter { $0.scope == scope && $0.afterRepair }
            if !repaired.isEmpty {
                series.append(
                    .init(
                        name: scope + " after repair", points: repaired.map { (day($0.comparedAt), $0.share * 100) },
                        dotsOnly: true))
            }
        }
        let thresholds = Set(data.drift.compactMap(\.threshold)).sorted().map {
            (y: $0 * 100, label: "threshold \(SVGChart.number($0 * 100)) %")
        }
        let chart = SVGChart.lines(
            id: "chart-drift",
            title: "Mismatched keys per reconciliation" + (data.property == nil ? " (the worst property)" : ""),
            xAxis: "reconciled on", yAxis: "mismatched keys (% of compared)", series: series, thresholds: thresholds,
            xLabel: dayLabel)
        let rows = data.drift.map {
            [
                $0.scope, Timestamps.format($0.comparedAt), String(format: "%.6f", $0.share),
                $0.threshold.map { String(format: "%.6f", $0) } ?? "", $0.breached ? "yes" : "no",
                $0.afterRepair ? "after repair" : "found",
            ]
        }
        return section(
            "drift", title,
            body: chart
                + table(
                    "table-drift",
                    ["source/stream", "compared at", "mismatched share", "threshold", "breached", "when"], rows))
    }

    static func health(_ data: ReportData) -> String {
        let title = "Pipeline health"
        var body = ""
        if data.health.isEmpty {
            body += #"<p class="empty-section">No source has landed anything yet.</p>"#
        } else {
            body += table("table-health", data.healthColumns, data.health, open: true)
        }
        if data.steps.isEmpty {
            body += #"<p class="empty-section">No nightly in the last 30 nights.</p>"#
        } else {
            var series: [SVGChart.Series] = []
            for step in orderedUnique(data.steps.map(\.step)) {
                series.append(
                    .init(
                        name: step, points: data.steps.filter { $0.step == step }.map { (Double($0.day), $0.seconds) }))
            }
            body += SVGChart.lines(
                id: "chart-steps", title: "The nightly's step durations, last 30 nights", xAxis: "night",
                yAxis: "duration (seconds)", series: series, xLabel: dayLabel)
            body += table(
                "table-steps", ["night", "step", "seconds"],
                data.steps.map { [$0.night, $0.step, String(format: "%.1f", $0.seconds)] })
            body += SVGChart.lines(
                id: "chart-nights", title: "Dead letters, retries and 429 answers per night", xAxis: "night",
                yAxis: "count per night",
                series: [
                    .init(name: "dead letters", points: data.nights.map { (Double($0.day), $0.deadLetters) }),
                    .init(name: "retries", points: data.nights.map { (Double($0.day), $0.retries) }),
                    .init(name: "429 answers", points: data.nights.map { (Double($0.day), $0.rateLimited) }),
                ], xLabel: dayLabel)
            body += table(
                "table-nights", ["night", "dead letters", "retries", "429 answers"],
                data.nights.map { [$0.night, n($0.deadLetters), n($0.retries), n($0.rateLimited)] })
        }
        return section("health", title, body: body)
    }

    static func psi(_ data: ReportData) -> String {
        let title = "Retraining signals: population stability"
        guard !data.psi.isEmpty else {
            return section("psi", title, empty: "Fewer than two snapshots of any stream: no PSI yet.")
        }
        var series: [SVGChart.Series] = []
        for scope in Set(data.psi.map(\.scope)).sorted() {
            series.append(
                .init(name: scope, points: data.psi.filter { $0.scope == scope }.map { (day($0.takenAt), $0.psi) }))
        }
        let top = max(data.psi.map(\.psi).max() ?? 0, data.psiRetrain * 1.2)
        let chart = SVGChart.lines(
            id: "chart-psi",
            title: "PSI of each snapshot against its reference"
                + (data.property == nil ? " (the highest property)" : ""),
            xAxis: "snapshot taken on", yAxis: "PSI",
            series: series,
            bands: [
                .init(from: 0, to: data.psiWatch, label: "stable", color: "#2ca02c"),
                .init(from: data.psiWatch, to: data.psiRetrain, label: "watch", color: "#ff7f0e"),
                .init(from: data.psiRetrain, to: top, label: "retrain", color: "#d62728"),
            ], xLabel: dayLabel)
        let rows = data.psi.map { [$0.scope, Timestamps.format($0.takenAt), String(format: "%.6f", $0.psi)] }
        return section(
            "psi", title,
            body: chart
                + """
                <p class="note">Bands: below \(SVGChart.number(data.psiWatch)) stable, up to \(SVGChart.number(data.psiRetrain)) watch, above it retrain (feeds.settings).</p>
                """
                + table("table-psi", ["source/stream", "snapshot day", "PSI"], rows))
    }

    // MARK: - Pieces

    static func section(_ id: String, _ title: String, body: String) -> String {
        #"<section id="\#(id)"><h2>\#(e(title))</h2>\#(body)</section>"#
    }

    static func section(_ id: String, _ title: String, empty: String) -> String {
        section(id, title, body: #"<p class="empty-section">\#(e(empty))</p>"#)
    }

    static func table(_ id: String, _ header: [String], _ rows: [[String]], open: Bool = false) -> String {
        let head = header.map { "<th>\(e($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\(e($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return """
            <details\(open ? " open" : "")><summary>The numbers behind it (\(rows.count) rows)</summary>
            <table id="\(id)"><thead><tr>\(head)</tr></thead><tbody>
            \(body)
            </tbody></table></details>
            """
    }

    static func orderedUnique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    static func day(_ date: Date) -> Double { date.timeIntervalSince1970 / 86_400 }

    static func dayLabel(_ day: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d"
        return formatter.string(from: Date(timeIntervalSince1970: day * 86_400))
    }

    static func n(_ value: Double) -> String { SVGChart.number(value) }
    static func money(_ value: Double) -> String { String(format: "%.2f", value) }
    static func e(_ text: String) -> String { SVGChart.escape(text) }
}
