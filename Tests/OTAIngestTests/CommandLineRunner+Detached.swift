import Foundation

extension CommandLineRunner {
    /// Runs the binary from a GCD thread, so waiting for it never blocks Swift's
    /// cooperative pool: on a 2-core machine two blocked waits would starve the
    /// test's own database calls while the child waits on a lock they hold.
    static func runDetached(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(arguments, environment: environment) })
            }
        }
    }
}
