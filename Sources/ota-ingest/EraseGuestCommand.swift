import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest erase-guest`: removes one booking's guest data from staging and dead letters.
struct EraseGuestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase-guest",
        abstract: "Remove a guest's personal data (name, email, phone, requests) from staging and dead letters.",
        discussion: """
            Scrubs every staged version of the booking (body and raw bytes) and the raw bytes of matching dead \
            letters. Facts stay as they are: they hold a salted hash of the guest, never names or emails. \
            Logged in ops.erasures.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("reservation"), help: ArgumentHelp("The booking's confirmation id.", valueName: "ID"))
    var reservation: String

    func validate() throws {
        guard !reservation.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reservation needs a confirmation id")
        }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let runID = "erase-guest-\(Int(Date().timeIntervalSince1970))"
        let erasure = try await global.withConnection { connection in
            try await Retention.eraseGuest(confirmationID: reservation, runID: runID, on: connection)
        }
        print(
            "erased guest data of reservation \(reservation): \(erasure.events) staged versions, \(erasure.deadLetters) dead letters"
        )
    }
}
