import PostgresClient

/// Retention and erasure: the two ways personal or old raw data leaves staging.
public enum Retention {
    /// Drops the observation partitions whose load dates are all older than `days` days (UTC);
    /// returns the partitions dropped. A partition drop, never a DELETE; facts keep their versions.
    public static func purgeObservations(olderThanDays days: Int, on connection: PostgresConnection) async throws
        -> [String]
    {
        try await connection.transaction { conn in
            try await conn.query(
                "select partition_name from staging.drop_load_partitions((now() at time zone 'UTC')::date - $1::int)",
                [days]
            ).map { try $0.decode(String.self, at: 0) }
        }
    }

    /// What `purgeARI` deleted.
    public struct ARIPurge: Sendable, Equatable {
        public var messages: Int
        public var observations: Int
    }

    /// Deletes pushed OpenTravel ARI observations of nights more than `days` days ago and those
    /// landed before then that a later message replaced, then the expanded messages of that age
    /// with none left (`staging.purge_ari`). A value still in force stays whatever its age: the
    /// next message's cell states are built from it.
    public static func purgeARI(olderThanDays days: Int, on connection: PostgresConnection) async throws -> ARIPurge {
        try await connection.transaction { conn in
            let row = try await conn.query(
                "select messages, observations from staging.purge_ari((now() at time zone 'UTC')::date - $1::int)",
                [days])[0]
            return ARIPurge(messages: try row.decode(Int.self, at: 0), observations: try row.decode(Int.self, at: 1))
        }
    }

    /// What an erasure scrubbed.
    public struct Erasure: Sendable, Equatable {
        public var events: Int
        public var deadLetters: Int
    }

    /// Removes the guest's personal data of one booking from staging and dead letters,
    /// keeping facts (they carry a salted hash, which the scrubbed rows keep). Logged in
    /// ops.erasures. An id nothing in the warehouse names is an `UnknownGuest` error, and
    /// nothing is logged.
    public static func eraseGuest(confirmationID: String, runID: String, on connection: PostgresConnection)
        async throws -> Erasure
    {
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            let known = try await conn.query("select staging.guest_booking_known($1)", [confirmationID])[0]
                .decode(Bool.self, at: 0)
            let row = try await conn.query("select events, dead_letters from staging.erase_guest($1)", [confirmationID])
            let erasure = Erasure(
                events: try row[0].decode(Int.self, at: 0), deadLetters: try row[0].decode(Int.self, at: 1))
            // A dead letter may name the id only inside its bytes: then it is known after all.
            guard known || erasure.deadLetters > 0 else {
                throw UnknownGuest(thing: "reservation \(confirmationID)", fix: "check the confirmation id")
            }
            return erasure
        }
    }

    /// What erasing one guest by email scrubbed, booking by booking.
    public struct EmailErasure: Sendable, Equatable {
        /// The bookings whose guest has the address (already erased ones included, with zero counts).
        public var bookings: [String: Erasure]
        /// Dead letters holding the address that no booking explained.
        public var otherDeadLetters: Int

        public var events: Int { bookings.values.map(\.events).reduce(0, +) }
        public var deadLetters: Int { bookings.values.map(\.deadLetters).reduce(otherDeadLetters, +) }
    }

    /// Erases every booking whose guest has `email` (each as `eraseGuest(confirmationID:)` does)
    /// and the dead letters holding the address. An address nothing in the warehouse holds, or
    /// held, is an `UnknownGuest` error.
    public static func eraseGuest(email: String, runID: String, on connection: PostgresConnection)
        async throws -> EmailErasure
    {
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            var result = EmailErasure(bookings: [:], otherDeadLetters: 0)
            var found = false
            for row in try await conn.query(
                "select confirmation_id, events, dead_letters from staging.erase_guest_by_email($1)", [email])
            {
                found = true
                let erasure = Erasure(
                    events: try row.decode(Int.self, at: 1), deadLetters: try row.decode(Int.self, at: 2))
                if let booking = try row.decode(String?.self, at: 0) {
                    result.bookings[booking] = erasure
                } else {
                    result.otherDeadLetters += erasure.deadLetters
                }
            }
            guard found else {
                throw UnknownGuest(thing: "email \(email)", fix: "check the address (it is matched ignoring case)")
            }
            return result
        }
    }

    /// What the nightly's aging erased.
    public struct AgedErasure: Sendable, Equatable {
        public var bookings: Int
        public var events: Int
        public var deadLetters: Int
    }

    /// Erases, as `eraseGuest` does, the guest data of every booking that departed more than
    /// `days` days before `today` (the night's date, UTC), and the booking dead letters last
    /// received before then that no later booking names. Logged in ops.erasures with cause 'aged'.
    public static func eraseAgedGuestData(
        olderThanDays days: Int, today: CivilDate, runID: String, on connection: PostgresConnection
    ) async throws -> AgedErasure {
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            let row = try await conn.query(
                "select bookings, events, dead_letters from staging.erase_aged_guest_data($1::date)",
                [today.adding(days: -days).description])[0]
            return AgedErasure(
                bookings: try row.decode(Int.self, at: 0), events: try row.decode(Int.self, at: 1),
                deadLetters: try row.decode(Int.self, at: 2))
        }
    }
}

/// `erase-guest` named a booking or an address the warehouse never held: nothing was erased.
public struct UnknownGuest: UserFacingError {
    public var thing: String
    public var fix: String

    public var exitStatus: ExitStatus { .failure }
    public var description: String {
        "erase-guest: \(thing): not found in staging.reservation_events, ops.dead_letters or ops.erasures; "
            + "nothing erased; fix: \(fix)"
    }
}
