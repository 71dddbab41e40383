import ArgumentParser
import Foundation
import OTAIngest

/// Runs the command line and maps every outcome to the documented exit codes.
@main
enum Entry {
    static func main() async {
        let status: ExitStatus
        do {
            var command = try OTAIngestCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            status = .success
        } catch let error as any UserFacingError {
            printError("ota-ingest: \(error)")
            status = error.exitStatus
        } catch let exit as RunOutcome {
            status = exit.status
        } catch {
            status = argumentParserStatus(for: error)
        }
        exit(status.rawValue)
    }

    /// argument-parser prints help and usage errors itself; its own codes (64
    /// for a validation error) become ours.
    private static func argumentParserStatus(for error: any Error) -> ExitStatus {
        let code = OTAIngestCommand.exitCode(for: error)
        let message = OTAIngestCommand.fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
            return .success
        }
        if !message.isEmpty { printError(message) }
        if code == .validationFailure { return .usage }
        return DatabaseFailure.describe(error).map { text in
            printError("ota-ingest: \(text)")
            return ExitStatus.failure
        } ?? .failure
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Thrown by a command that finished and already reported: carries its exit status.
struct RunOutcome: Error {
    var status: ExitStatus
}
