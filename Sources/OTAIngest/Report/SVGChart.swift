import Foundation

/// Charts drawn as inline SVG text, so the report is one file that needs nothing else to be
/// viewed or printed. Every chart has a title, axis labels with units and a legend; the
/// numbers behind it go beside it in a table (`ReportPage`), not in the SVG.
enum SVGChart {
    /// A line of a line chart: its points in chart units (x often days since 1970-01-01).
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var dashed = false
        /// Points drawn as dots (breaches, repairs) instead of a line.
        var dotsOnly = false
    }

    /// A horizontal band (PSI's stable/watch/retrain zones) or line (a threshold).
    struct Band {
        var from: Double
        var to: Double
        var label: String
        var color: String
    }

    static let width = 880.0
    static let height = 300.0
    static let margin = (left: 70.0, right: 20.0, top: 36.0, bottom: 70.0)
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    /// A line chart. `xLabel` formats an x value for the axis (a date, a night).
    static func lines(
        id: String, title: String, xAxis: String, yAxis: String, series: [Series], bands: [Band] = [],
        thresholds: [(y: Double, label: String)] = [], xLabel: (Double) -> String
    ) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) } + thresholds.map(\.y) + bands.flatMap { [$0.from, $0.to] }
        guard let xMin = xs.min(), let xMax = xs.max() else {
            return frame(id: id, title: title, body: emptyNote("no data for this chart"))
        }
        let yMax = niceCeiling(max(ys.max() ?? 1, 0) * 1.05)
        let yMin = min(ys.min() ?? 0, 0)
        let plot = Plot(
            xMin: xMin, xMax: xMax == xMin ? xMin + 1 : xMax, yMin: yMin, yMax: yMax == yMin ? yMin + 1 : yMax)
        var body = ""
        for band in bands {
            let top = plot.y(min(band.to, plot.yMax))
            let bottom = plot.y(max(band.from, plot.yMin))
            body +=
                #"<rect x="\#(f(margin.left))" y="\#(f(top))" width="\#(f(plot.innerWidth))" height="\#(f(max(bottom - top, 0)))" fill="\#(band.color)" fill-opacity="0.18"><title>\#(escape(band.label))</title></rect>"#
        }
        body += axes(plot, xAxis: xAxis, yAxis: yAxis, xLabel: xLabel)
        for (y, label) in thresholds {
            body +=
                #"<line class="threshold" x1="\#(f(margin.left))" x2="\#(f(width - margin.right))" y1="\#(f(plot.y(y)))" y2="\#(f(plot.y(y)))" stroke="rgb(68,68,68)" stroke-dasharray="2 3"/>"#
            body +=
                #"<text x="\#(f(width - margin.right - 4))" y="\#(f(plot.y(y) - 4))" text-anchor="end" font-size="11">\#(escape(label))</text>"#
        }
        for (index, line) in series.enumerated() {
            let color = palette[index % palette.count]
            let sorted = line.points.sorted { $0.x < $1.x }
            if line.dotsOnly {
                for point in sorted {
                    body +=
                        #"<circle cx="\#(f(plot.x(point.x)))" cy="\#(f(plot.y(point.y)))" r="4" fill="\#(color)"><title>\#(escape(line.name)): \#(xLabel(point.x)) \#(number(point.y))</title></circle>"#
                }
            } else if !sorted.isEmpty {
                let path = sorted.map { "\(f(plot.x($0.x))),\(f(plot.y($0.y)))" }.joined(separator: " ")
                body +=
                    #"<polyline class="series" fill="none" stroke="\#(color)" stroke-width="2"\#(line.dashed ? #" stroke-dasharray="6 4""# : "") points="\#(path)"><title>\#(escape(line.name))</title></polyline>"#
            }
        }
        body += legend(series.enumerated().map { ($1.name, palette[$0 % palette.count], $1.dashed, $1.dotsOnly) })
        return frame(id: id, title: title, body: body)
    }

    /// A heat map: one row per label, one column per x, colour by value; `marked` cells get a cross.
    static func heatMap(
        id: String, title: String, xAxis: String, yAxis: String, columns: [String], rows: [String],
        values: [[Double?]], marked: [[Bool]], unit: String
    ) -> String {
        let all = values.flatMap { $0.compactMap { $0 } }
        guard let low = all.min(), let high = all.max(), !rows.isEmpty, !columns.isEmpty else {
            return frame(id: id, title: title, body: emptyNote("no data for this chart"))
        }
        let left = 150.0
        let innerWidth = width - left - margin.right
        let cellWidth = innerWidth / Double(columns.count)
        let cellHeight = min(22.0, 360.0 / Double(rows.count))
        let chartHeight = margin.top + cellHeight * Double(rows.count) + margin.bottom
        var body = ""
        for (r, label) in rows.enumerated() {
            let y = margin.top + cellHeight * Double(r)
            body +=
                #"<text x="\#(f(left - 6))" y="\#(f(y + cellHeight * 0.7))" text-anchor="end" font-size="10">\#(escape(label))</text>"#
            for (c, value) in values[r].enumerated() {
                let x = left + cellWidth * Double(c)
                guard let value else { continue }
                let share = high == low ? 0.5 : (value - low) / (high - low)
                body +=
                    #"<rect class="cell" x="\#(f(x))" y="\#(f(y))" width="\#(f(cellWidth))" height="\#(f(cellHeight))" fill="\#(heat(share))"><title>\#(escape(label)) \#(escape(columns[c])): \#(number(value)) \#(escape(unit))\#(marked[r][c] ? " (closed)" : "")</title></rect>"#
                if marked[r][c] {
                    body +=
                        #"<path class="closed" d="M\#(f(x)),\#(f(y)) l\#(f(cellWidth)),\#(f(cellHeight)) M\#(f(x + cellWidth)),\#(f(y)) l-\#(f(cellWidth)),\#(f(cellHeight))" stroke="black" stroke-width="0.8"/>"#
                }
            }
        }
        let bottom = margin.top + cellHeight * Double(rows.count)
        let step = max(1, columns.count / 10)
        for c in stride(from: 0, to: columns.count, by: step) {
            let x = left + cellWidth * (Double(c) + 0.5)
            body +=
                #"<text x="\#(f(x))" y="\#(f(bottom + 14))" text-anchor="middle" font-size="10">\#(escape(columns[c]))</text>"#
        }
        body +=
            #"<text x="\#(f(left + innerWidth / 2))" y="\#(f(bottom + 34))" text-anchor="middle" font-size="12">\#(escape(xAxis))</text>"#
        body += #"<text x="12" y="\#(f(margin.top - 8))" font-size="12">\#(escape(yAxis))</text>"#
        body +=
            #"<text x="\#(f(left))" y="\#(f(bottom + 54))" font-size="11">colour: \#(escape(unit)) from \#(number(low)) (light) to \#(number(high)) (dark); a cross marks a night closed to sale</text>"#
        return frame(id: id, title: title, body: body, height: chartHeight)
    }

    // MARK: - Pieces

    private struct Plot {
        var xMin, xMax, yMin, yMax: Double
        var innerWidth: Double { SVGChart.width - margin.left - margin.right }
        var innerHeight: Double { SVGChart.height - margin.top - margin.bottom }
        func x(_ value: Double) -> Double { margin.left + (value - xMin) / (xMax - xMin) * innerWidth }
        func y(_ value: Double) -> Double { margin.top + (1 - (value - yMin) / (yMax - yMin)) * innerHeight }
    }

    private static func axes(_ plot: Plot, xAxis: String, yAxis: String, xLabel: (Double) -> String) -> String {
        let bottom = height - margin.bottom
        var out =
            #"<line x1="\#(f(margin.left))" x2="\#(f(width - margin.right))" y1="\#(f(bottom))" y2="\#(f(bottom))" stroke="rgb(51,51,51)"/>"#
        out +=
            #"<line x1="\#(f(margin.left))" x2="\#(f(margin.left))" y1="\#(f(margin.top))" y2="\#(f(bottom))" stroke="rgb(51,51,51)"/>"#
        for i in 0...4 {
            let value = plot.yMin + (plot.yMax - plot.yMin) * Double(i) / 4
            let y = plot.y(value)
            out +=
                #"<line x1="\#(f(margin.left))" x2="\#(f(width - margin.right))" y1="\#(f(y))" y2="\#(f(y))" stroke="rgb(221,221,221)"/>"#
            out +=
                #"<text x="\#(f(margin.left - 6))" y="\#(f(y + 4))" text-anchor="end" font-size="11">\#(number(value))</text>"#
        }
        for i in 0...6 {
            let value = plot.xMin + (plot.xMax - plot.xMin) * Double(i) / 6
            out +=
                #"<text x="\#(f(plot.x(value)))" y="\#(f(bottom + 16))" text-anchor="middle" font-size="11">\#(escape(xLabel(value.rounded())))</text>"#
        }
        out +=
            #"<text x="\#(f(margin.left + plot.innerWidth / 2))" y="\#(f(bottom + 34))" text-anchor="middle" font-size="12">\#(escape(xAxis))</text>"#
        out +=
            #"<text transform="translate(16 \#(f(margin.top + plot.innerHeight / 2))) rotate(-90)" text-anchor="middle" font-size="12">\#(escape(yAxis))</text>"#
        return out
    }

    private static func legend(_ entries: [(name: String, color: String, dashed: Bool, dots: Bool)]) -> String {
        var out = ""
        var x = margin.left
        let y = height - 14
        for entry in entries {
            if entry.dots {
                out += #"<circle cx="\#(f(x + 9))" cy="\#(f(y - 4))" r="4" fill="\#(entry.color)"/>"#
            } else {
                out +=
                    #"<line x1="\#(f(x))" x2="\#(f(x + 18))" y1="\#(f(y - 4))" y2="\#(f(y - 4))" stroke="\#(entry.color)" stroke-width="2"\#(entry.dashed ? #" stroke-dasharray="6 4""# : "")/>"#
            }
            out += #"<text x="\#(f(x + 22))" y="\#(f(y))" font-size="11">\#(escape(entry.name))</text>"#
            x += 30 + Double(entry.name.count) * 6.2
        }
        return out
    }

    private static func frame(id: String, title: String, body: String, height: Double = height) -> String {
        #"<svg id="\#(escape(id))" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(f(width)) \#(f(height))" role="img" aria-label="\#(escape(title))"><title>\#(escape(title))</title><text x="\#(f(margin.left))" y="20" font-size="14" font-weight="bold">\#(escape(title))</text>\#(body)</svg>"#
    }

    private static func emptyNote(_ text: String) -> String {
        #"<text class="empty" x="\#(f(width / 2))" y="\#(f(height / 2))" text-anchor="middle" font-size="13" fill="rgb(102,102,102)">\#(escape(text))</text>"#
    }

    /// Light yellow to dark red: a price calendar reads hot where prices are high.
    private static func heat(_ share: Double) -> String {
        let s = min(max(share, 0), 1)
        let r = Int(255 - 80 * s)
        let g = Int(237 - 200 * s)
        let b = Int(160 - 130 * s)
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    /// A round number at or above `value`, so the axis ends on a readable tick.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int(value)) }
        return abs(value) >= 100 ? String(format: "%.0f", value) : String(format: "%.3g", value)
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
