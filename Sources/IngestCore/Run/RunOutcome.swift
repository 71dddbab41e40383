/// How a batch command's run ended, as its caller (the CLI, a night's step) needs it:
/// the run (nil when another process held the command), the exit status, the counts
/// recorded in ops.runs, and the summary printed for people.
public struct RunOutcome: Sendable {
    public var run: Run?
    public var status: ExitStatus
    public var counts: [String: Int]
    public var summary: String

    public init(run: Run?, status: ExitStatus, counts: [String: Int], summary: String) {
        self.run = run
        self.status = status
        self.counts = counts
        self.summary = summary
    }
}
