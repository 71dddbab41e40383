import CLibPQ

/// The statements a session has prepared, keyed by their text and parameter types.
///
/// A statement run with parameters is sent unprepared the first time (PQexecParams: parsed
/// and planned on the spot). From its second use on it is prepared once and executed by name,
/// so the server skips parsing and, once it settles on a generic plan, planning too. One-off
/// statements therefore cost no extra round trip. Prepared statements belong to the session:
/// the cache is emptied when the session is replaced (see `reviveIfDropped`), and a statement
/// the server refuses to run (its plan's result type changed, 0A000, or it was deallocated
/// behind our back, 26000) is forgotten and prepared afresh on its next use.
struct StatementCache {
    struct Key: Hashable {
        var sql: String
        var types: [Oid]
    }

    enum Plan {
        /// Run it unprepared this time.
        case unprepared
        /// Prepare it under this name, then run it.
        case prepare(String)
        /// Run the statement prepared under this name.
        case prepared(String)
    }

    /// Prepared statements held at once; past this, further statements run unprepared.
    static let capacity = 200
    /// Statements seen once, remembered so the second use prepares; bounded the same way.
    static let sightingsCapacity = 2_000

    private var names: [Key: String] = [:]
    private var seenOnce: Set<Key> = []
    private var nextNumber = 0
    /// Names of statements forgotten while the session could not deallocate them.
    private(set) var stale: [String] = []

    var count: Int { names.count }

    /// What to do with `key` now; records the sighting.
    mutating func plan(for key: Key) -> Plan {
        if let name = names[key] { return .prepared(name) }
        guard seenOnce.contains(key) else {
            if seenOnce.count >= Self.sightingsCapacity { seenOnce.removeAll() }
            seenOnce.insert(key)
            return .unprepared
        }
        guard names.count < Self.capacity else { return .unprepared }
        nextNumber += 1
        return .prepare("ota_stmt_\(nextNumber)")
    }

    /// The server prepared `key` under `name`.
    mutating func prepared(_ key: Key, as name: String) {
        seenOnce.remove(key)
        names[key] = name
    }

    /// The server refused the prepared statement: prepare it again on its next use, under a new name.
    mutating func forget(_ key: Key) {
        guard let name = names.removeValue(forKey: key) else { return }
        stale.append(name)
        seenOnce.insert(key)
    }

    mutating func deallocated() { stale.removeAll() }

    /// A new session: nothing is prepared on it.
    mutating func reset() {
        names.removeAll()
        seenOnce.removeAll()
        stale.removeAll()
    }
}
