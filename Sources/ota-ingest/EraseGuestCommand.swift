import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest erase-guest`: removes a guest's data, by booking or by email, from staging and dead letters.
struct EraseGuestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase-guest",
        abstract: "Remove a guest's personal data (name, email, phone, requests) from staging and dead letters.",
        discussion: """
            Scrubs every staged version of the booking (body and raw bytes) and the raw bytes of matching dead \
            letters; with --email, every booking whose guest has that address, and the dead letters holding it. \
            Facts stay as they are: they hold a salted hash of the guest, never names or emails. Logged in \
            ops.erasures. A booking or address the warehouse never held exits with status 1 and erases nothing; \
            one already erased exits 0 and erases nothing more. The nightly erases the same way every booking \
            that departed more than [retention] guest_data_days ago.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("reservation"), help: ArgumentHelp("The booking's confirmation id.", valueName: "ID"))
    var reservation: String?

    @Option(
        name: .customLong("email"),
        help: ArgumentHelp("The guest's email address (any case): every booking of that guest.", valueName: "ADDRESS"))
    var email: String?

    func validate() throws {
        switch (reservation, email) {
        case (nil, nil), (.some, .some):
            throw ValidationError("erase-guest needs exactly one of --reservation ID or --email ADDRESS")
        case (let id?, nil) where id.trimmingCharacters(in: .whitespaces).isEmpty:
            throw ValidationError("--reservation needs a confirmation id")
        case (nil, let address?) where !address.contains("@"):
            throw ValidationError("--email \(address) is not an email address; fix: e.g. --email ann.lee@example.com")
        default:
            break
        }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let runID = "erase-guest-\(Int(Date().timeIntervalSince1970))"
        if let email {
            let erasure = try await global.withConnection { connection in
                try await Retention.eraseGuest(email: email, runID: runID, on: connection)
            }
            let bookings = erasure.bookings.keys.sorted()
            print(
                "erased guest data of \(email): \(bookings.count) bookings"
                    + (bookings.isEmpty ? "" : " (\(bookings.joined(separator: ", ")))")
                    + ", \(erasure.events) staged versions, \(erasure.deadLetters) dead letters")
            return
        }
        let reservation = reservation ?? ""
        let erasure = try await global.withConnection { connection in
            try await Retention.eraseGuest(confirmationID: reservation, runID: runID, on: connection)
        }
        print(
            "erased guest data of reservation \(reservation): \(erasure.events) staged versions, \(erasure.deadLetters) dead letters"
        )
    }
}
