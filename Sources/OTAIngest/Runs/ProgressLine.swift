import Foundation

/// A live progress line on stderr while a run works, only when stderr is a
/// terminal: cron mail and CI logs stay clean.
actor ProgressLine {
    private let stats: PullStats
    private var task: Task<Void, Never>?

    init(stats: PullStats) {
        self.stats = stats
    }

    func start() {
        guard isatty(STDERR_FILENO) == 1 else { return }
        let stats = stats
        let started = ContinuousClock.now
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let seconds = max((ContinuousClock.now - started).seconds, 0.001)
                let line =
                    "\r  records \(stats[.records])  pages \(stats[.pages]) (\(String(format: "%.1f", Double(stats[.pages]) / seconds))/s)  dead letters \(stats[.deadLetters])  retries \(stats[.retries])   "
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
    }

    func stop() {
        guard let task else { return }
        task.cancel()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        self.task = nil
    }
}
