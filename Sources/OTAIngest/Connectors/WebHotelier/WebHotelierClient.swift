import Foundation
import HTTPClient

/// One WebHotelier property account's side of the API (the dialect the sandbox
/// serves, OTASandbox/HTTP/WebHotelier*): the booking sync queue, bookings, search,
/// the rate list and the availability/rate inventory reads.
public struct WebHotelierClient: Sendable {
    public let account: PropertyAccount
    let baseURL: String
    let caller: SourceCaller

    public init(account: PropertyAccount, baseURL: String, caller: SourceCaller) {
        self.account = account
        self.baseURL = baseURL
        self.caller = caller
    }

    /// A response body with the position of its wrapper's `data` element.
    public struct Envelope: Sendable {
        public var body: [UInt8]
        public var data: JSONScanner.Value

        /// Reads the data element with a scanner over the body.
        public func read<T>(_ body: (JSONScanner, JSONScanner.Value) throws -> T) rethrows -> T {
            try self.body.withUnsafeBufferPointer { try body(JSONScanner($0), data) }
        }
    }

    /// One entry of the pending list.
    public struct Pending: Sendable, Equatable {
        public var id: Int
        public var timestamp: String
        public var syncType: String
    }

    // MARK: - Bookings

    public func pendingReservations() async throws -> [Pending] {
        let envelope = try await get("/reservation/new", what: "list pending reservations")
        return try envelope.read { scanner, data in
            var list: [Pending] = []
            guard let reservations = try scanner.member("reservations", of: data) else { return [] }
            try scanner.elements(of: reservations) { entry in
                guard let id = try scanner.member("id", of: entry) else { return }
                let timestamp = try scanner.member("timestamp", of: entry).map(scanner.string) ?? ""
                let syncType = try scanner.member("syncType", of: entry).map(scanner.string) ?? ""
                list.append(Pending(id: try scanner.int(id), timestamp: timestamp, syncType: syncType))
            }
            return list
        }
    }

    /// The booking as it is now: the whole response, its `data` being the body.
    public func reservation(_ id: Int) async throws -> Envelope {
        try await get("/reservation/\(id)", what: "fetch reservation \(id)")
    }

    /// What a sync call answered.
    public enum SyncAnswer: Sendable, Equatable {
        case synced
        /// The booking is no longer pending (dialect: 404 NOT_FOUND, or 200 with
        /// `synced: false`): an earlier sync's answer was lost, or the list repeated it.
        case notPending(String)
    }

    /// Removes the booking from the sync queue. Called only after its version is
    /// committed, and only for an id listed and fetched for this account in this run,
    /// which is what lets a 404 mean "no longer pending" rather than "unknown".
    public func markSynced(_ id: Int) async throws -> SyncAnswer {
        let envelope = try await get(
            "/reservation/sync/\(id)", what: "mark reservation \(id) synced",
            isAnswer: { $0.status == 404 && (Self.errorCode(in: $0.body) ?? "NOT_FOUND") == "NOT_FOUND" })
        guard let envelope else { return .notPending("HTTP 404 NOT_FOUND") }
        let synced = envelope.read { scanner, data in
            (try? scanner.member("synced", of: data)).flatMap { $0 }.map { scanner.text($0) }
        }
        return synced == "false" ? .notPending("HTTP 200 with synced: false") : .synced
    }

    /// One page of bookings modified since `since`, oldest first; ids only.
    public func modifiedSince(_ since: CivilDate, page: Int, rows: Int) async throws -> (ids: [Int], total: Int) {
        let envelope = try await get(
            "/reservation",
            query: [
                ("last_mod_fromd", since.description), ("order", "ASC"), ("verbose", "0"), ("maxrows", String(rows)),
                ("pageNo", String(page)), ("property", account.propertyCode),
            ], what: "search reservations modified since \(since) (page \(page))")
        return try envelope.read { scanner, data in
            var ids: [Int] = []
            let total = try scanner.member("total", of: data).map(scanner.int) ?? 0
            if let reservations = try scanner.member("reservations", of: data) {
                try scanner.elements(of: reservations) { entry in
                    if let id = try scanner.member("id", of: entry) { ids.append(try scanner.int(id)) }
                }
            }
            return (ids, total)
        }
    }

    // MARK: - Property, rate list, feeds

    /// The property's currency (dialect: `GET /property/{code}` gives `data.currency`).
    public func propertyCurrency() async throws -> String {
        let envelope = try await get("/property/\(account.propertyCode)", what: "read the property")
        return try envelope.read { scanner, data in
            guard let currency = try scanner.member("currency", of: data) else {
                throw SourceError(
                    source: caller.sourceName, what: "read property \(account.propertyCode)",
                    reason: "the response has no data.currency", attempts: 1)
            }
            return try scanner.string(currency)
        }
    }

    /// Rate id to room code, from the property's rate list.
    public func rateRooms() async throws -> [String: String] {
        let envelope = try await get("/rate/\(account.propertyCode)", what: "read the rate list")
        return try envelope.read { scanner, data in
            var rooms: [String: String] = [:]
            guard let rates = try scanner.member("rates", of: data) else { return rooms }
            try scanner.elements(of: rates) { rate in
                guard let id = try scanner.member("id", of: rate), let room = try scanner.member("room", of: rate)
                else {
                    return
                }
                let idText = id.kind == .string ? try scanner.string(id) : scanner.text(id)
                rooms[idText] = try scanner.string(room)
            }
            return rooms
        }
    }

    public func availability(from: CivilDate, to: CivilDate) async throws -> Envelope {
        try await get(
            "/manage/availability", query: [("from", from.description), ("to", to.description)],
            what: "fetch availability \(from)..\(to)")
    }

    public func rates(from: CivilDate, to: CivilDate) async throws -> Envelope {
        try await get(
            "/manage/rates", query: [("from", from.description), ("to", to.description)],
            what: "fetch rates \(from)..\(to)")
    }

    // MARK: - Transport

    func get(_ path: String, query: [(String, String)] = [], what: String) async throws -> Envelope {
        try await get(path, query: query, what: what, isAnswer: { _ in false })!
    }

    /// As `get`, but an error response that `isAnswer` accepts returns nil instead of failing.
    func get(
        _ path: String, query: [(String, String)] = [], what: String,
        isAnswer: @escaping @Sendable (HTTPClientResponse) -> Bool
    ) async throws -> Envelope? {
        let url = QueryString.url(baseURL + path, query)
        let request = HTTPClientRequest(
            url: url, headers: ["Accept": "application/json"],
            authorization: .basic(username: account.username, password: account.password))
        let response = try await caller.send(
            request, what: "property \(account.propertyCode): \(what)",
            errorCode: { Self.errorCode(in: $0.body) }, isComplete: { JSONScanner.isComplete($0.body) },
            isAnswer: isAnswer)
        if !(200..<300).contains(response.status) { return nil }
        return try response.body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            let root = try scanner.value(in: 0..<buffer.count)
            guard let data = try scanner.member("data", of: root) else {
                throw SourceError(
                    source: caller.sourceName, what: "property \(account.propertyCode): \(what)",
                    reason: "the response has no data element", attempts: 1)
            }
            return Envelope(body: response.body, data: data)
        }
    }

    /// The wrapper's `error_code`, when the body is a wrapper at all.
    static func errorCode(in body: [UInt8]) -> String? {
        body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            guard let root = try? scanner.value(in: 0..<buffer.count), root.kind == .object,
                let code = try? scanner.member("error_code", of: root)
            else { return nil }
            return try? scanner.string(code)
        }
    }
}
