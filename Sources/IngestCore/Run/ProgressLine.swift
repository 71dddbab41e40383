import Foundation
import Synchronization

/// A live progress line on stderr while long work runs, only where a command turned it on
/// and stderr is a terminal: cron mail, CI logs and pipes get none of it.
///
/// It shows the step, the elapsed time, the counts, and a percentage with an ETA where the
/// total is known; it is redrawn in place at most four times a second, and cleared when
/// its last stage ends and before anything else goes to stderr (`write`), so a summary
/// always starts on a clean line. Stages nest (a night's transform step, a reconcile's
/// feed read): the line names the open stages and shows the innermost one's figures.
public final class ProgressLine: Sendable {
    /// The process's line on standard error; off until a command calls `enableOnTerminal()`.
    public static let standardError = ProgressLine(fileDescriptor: STDERR_FILENO)

    /// What the total counts: items ("5/14 scopes") or bytes ("1.2 of 3.4 MB").
    public enum Unit: Sendable {
        case items(String)
        case bytes
    }

    /// What a stage shows: what it is doing, how far along, and its counts.
    public struct Reading: Sendable {
        public var detail = ""
        public var done = 0
        /// Known totals give a percentage and an ETA.
        public var total: Int?
        public var unit = Unit.items("")
        /// False where the share done foretells little of the time left.
        public var showsETA = true
        public var counts: [(name: String, value: Int)] = []

        public init() {}
    }

    /// One stage of work, updated by the work as it goes (from any thread).
    public final class Stage: Sendable {
        let label: String
        let started = ContinuousClock.now
        let reading: Mutex<Reading>
        /// Counts read at each redraw, for work that keeps its own counters.
        let counts: (@Sendable () -> [(name: String, value: Int)])?

        init(label: String, reading: Reading, counts: (@Sendable () -> [(name: String, value: Int)])?) {
            self.label = label
            self.reading = Mutex(reading)
            self.counts = counts
        }

        public func update(_ change: (inout Reading) -> Void) {
            reading.withLock { change(&$0) }
        }
    }

    private struct State {
        var enabled = false
        var stages: [Stage] = []
        var shown = false
        var lastDrawn: ContinuousClock.Instant?
        var ticker: Task<Void, Never>?
    }

    private let fileDescriptor: Int32
    private let state = Mutex(State())
    static let redrawInterval: Duration = .milliseconds(250)

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Turns the line on when the descriptor is a terminal; long-running services never call it.
    public func enableOnTerminal() {
        let terminal = isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        state.withLock { $0.enabled = terminal }
    }

    /// Opens a stage; drawn at once, then redrawn until `end`.
    public func begin(
        _ label: String, reading: Reading = Reading(),
        counts: (@Sendable () -> [(name: String, value: Int)])? = nil
    ) -> Stage {
        let stage = Stage(label: label, reading: reading, counts: counts)
        state.withLock { state in
            guard state.enabled else { return }
            state.stages.append(stage)
            if state.ticker == nil {
                state.ticker = Task.detached { [self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.redrawInterval)
                        redraw()
                    }
                }
            }
            // At once for a new line; a stage opened within a redraw interval waits for the ticker.
            if state.lastDrawn.map({ ContinuousClock.now - $0 >= Self.redrawInterval }) ?? true { draw(&state) }
        }
        return stage
    }

    /// Closes a stage; the line is cleared when it was the last one open.
    public func end(_ stage: Stage) {
        state.withLock { state in
            state.stages.removeAll { $0 === stage }
            guard state.stages.isEmpty else { return }
            state.ticker?.cancel()
            state.ticker = nil
            clear(&state)
        }
    }

    /// Runs `body` as a stage, ending it however `body` ends.
    public func run<Value>(
        _ label: String, reading: Reading = Reading(), _ body: (Stage) async throws -> Value
    ) async rethrows -> Value {
        let stage = begin(label, reading: reading)
        defer { end(stage) }
        return try await body(stage)
    }

    /// Writes `text` to stderr below a cleared line (the next redraw puts the line back).
    public func write(_ text: String) {
        state.withLock { state in
            clear(&state)
            emit(text)
        }
    }

    private func redraw() {
        state.withLock { draw(&$0) }
    }

    private func draw(_ state: inout State) {
        guard let innermost = state.stages.last else { return }
        var parts = state.stages.dropLast().map { stage in
            let detail = stage.reading.withLock { $0.detail }
            return detail.isEmpty ? stage.label : "\(stage.label) (\(detail))"
        }
        var reading = innermost.reading.withLock { $0 }
        if let counts = innermost.counts { reading.counts = counts() }
        parts.append(Self.render(innermost.label, reading, elapsed: ContinuousClock.now - innermost.started))
        var line = parts.joined(separator: " > ")
        let width = terminalColumns()
        if width > 1 && line.count >= width { line = String(line.prefix(width - 1)) }
        emit("\r" + line + "\u{1B}[K")
        state.shown = true
        state.lastDrawn = .now
    }

    private func clear(_ state: inout State) {
        guard state.shown else { return }
        emit("\r\u{1B}[K")
        state.shown = false
    }

    /// `load rates  1.2 of 3.4 MB  35%  elapsed 2.0 s  ETA 4 s  records 12000`.
    static func render(_ label: String, _ reading: Reading, elapsed: Duration) -> String {
        var fields = [label]
        if !reading.detail.isEmpty { fields.append(reading.detail) }
        let seconds = elapsed.seconds
        if let total = reading.total, total > 0 {
            switch reading.unit {
            case .bytes: fields.append("\(megabytes(reading.done)) of \(megabytes(total)) MB")
            case .items(let noun): fields.append("\(reading.done)/\(total)" + (noun.isEmpty ? "" : " \(noun)"))
            }
            let share = min(Double(reading.done) / Double(total), 1)
            fields.append(String(format: "%.0f%%", share * 100))
            fields.append(String(format: "elapsed %.1f s", seconds))
            if reading.showsETA && reading.done > 0 && share < 1 {
                fields.append("ETA \(Int((seconds / share - seconds).rounded(.up))) s")
            }
        } else {
            if reading.done > 0 {
                switch reading.unit {
                case .bytes: fields.append("\(megabytes(reading.done)) MB")
                case .items(let noun): fields.append("\(reading.done)" + (noun.isEmpty ? "" : " \(noun)"))
                }
            }
            fields.append(String(format: "elapsed %.1f s", seconds))
        }
        fields += reading.counts.map { "\($0.name) \($0.value)" }
        return fields.joined(separator: "  ")
    }

    private static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }

    private func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(fileDescriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
