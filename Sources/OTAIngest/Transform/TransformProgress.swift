/// The transform's progress line: the file running and the share of files done. No ETA: the
/// files' times differ a hundredfold and with the batch's mix (a rates-only batch spends it all
/// in two files), so neither the count nor the last run's timings foretell the rest.
struct TransformProgress: Sendable {
    private let stage: ProgressLine.Stage
    private let fileCount: Int

    init(fileCount: Int) {
        self.fileCount = fileCount
        var reading = ProgressLine.Reading()
        reading.total = fileCount
        reading.unit = .items("files")
        reading.showsETA = false
        stage = ProgressLine.standardError.begin("transform", reading: reading)
    }

    /// Runs the work of the `number`th file under its name.
    func file(_ name: String, number: Int, phase: String, _ work: () async throws -> Void) async throws {
        stage.update { $0.detail = "\(phase) \(name)" }
        try await work()
        stage.update { $0.done = number }
    }

    func end() { ProgressLine.standardError.end(stage) }
}
