import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OTAIngest
import PostgresClient

/// `POST /webhooks/opentravel/{source}/ari`: a channel manager pushes availability and
/// restrictions (`OTA_HotelAvailNotifRQ`) or prices (`OTA_HotelRateAmountNotifRQ`), bare
/// with Basic credentials or in SOAP with a WS-Security UsernameToken, the same logins
/// as the reservation pushes.
///
/// The message is kept once, as received, and answered `<Success/>` only after that
/// commit (`synchronous_commit = on`); a room or rate plan the hotel's seeds lack is
/// kept too, with a `<Warning>`. A bad login, a hotel that is not the source's, prices
/// that do not fit the room and anything unreadable are refused with `<Errors>` and
/// nothing stored. The expansion into cells runs after the answer (`OpenTravelARIExpander`):
/// a 750-day flush is answered in the time one insert takes, whatever its size.
struct OpenTravelARIPush: Sendable {
    let server: ReceiverServer
    let runId: String

    var settings: ReceiverSettings { server.settings }
    var metrics: ReceiverMetrics { server.metrics }

    func handle(_ request: Request, source: String, note: RequestNote) async -> Response {
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        let (response, outcome) = await answer(request, source: source, note: note)
        metrics.request("opentravel_ari", outcome)
        return response
    }

    private func answer(_ request: Request, source: String, note: RequestNote) async -> (Response, String) {
        typealias Answer = OpenTravelARIAnswer
        let endpoint: ReceiverSettings.OpenTravelEndpoint
        let body: [UInt8]
        switch await OpenTravelIntake.read(request, source: source, settings: settings, note: note) {
        case .success(let intake): (endpoint, body) = intake
        case .failure(let refusal):
            return (
                Answer.errors(kind: .avail, soap: false, echoToken: nil, refusal.errors, status: refusal.status),
                refusal.outcome
            )
        }
        let document: OpenTravelARIDocument
        do {
            document = try OpenTravelARIDocument.read(body)
        } catch let refusal as OpenTravelDocument.Refusal {
            return (
                Answer.errors(
                    kind: .avail, soap: OpenTravelIntake.looksSOAP(body), echoToken: nil,
                    [(refusal.type, refusal.code, refusal.reason)]),
                "invalid"
            )
        } catch {
            return (Answer.errors(kind: .avail, soap: false, echoToken: nil, [(12, 450, "\(error)")]), "invalid")
        }
        let (kind, soap, echo) = (document.kind, document.soap, document.echoToken)
        if request.headers[.authorization] == nil,
            !OpenTravelIntake.loginMatches(username: document.username, password: document.password, endpoint)
        {
            return (Answer.errors(kind: kind, soap: soap, echoToken: echo, [OpenTravelIntake.badLogin]), "unauthorized")
        }
        note.property = document.hotel
        let unknownHotel = (6, 392, "hotel \(document.hotel) is not one of this source's properties")
        if !endpoint.hotels.isEmpty, !endpoint.hotels.contains(document.hotel) {
            return (Answer.errors(kind: kind, soap: soap, echoToken: echo, [unknownHotel]), "unknown_property")
        }
        do {
            return try await server.ariStore.withConnection { conn in
                guard let hotel = try await Self.hotel(document.hotel, on: conn) else {
                    return (Answer.errors(kind: kind, soap: soap, echoToken: echo, [unknownHotel]), "unknown_property")
                }
                let warnings: [String]
                do {
                    warnings = try hotel.check(document)
                } catch let refusal as OpenTravelDocument.Refusal {
                    return (
                        Answer.errors(
                            kind: kind, soap: soap, echoToken: echo, [(refusal.type, refusal.code, refusal.reason)]),
                        "invalid"
                    )
                }
                let stored = try await store(document, source: source, warnings: warnings, on: conn)
                server.ariExpander.wake()
                return (
                    Answer.success(kind: kind, soap: soap, echoToken: echo, warnings: warnings),
                    stored ? (warnings.isEmpty ? "stored" : "stored_with_warnings") : "duplicate"
                )
            }
        } catch {
            server.logger.error("opentravel ari: could not store the push: \(error)")
            return (
                Answer.errors(
                    kind: kind, soap: soap, echoToken: echo, [(12, 450, "not stored; retry later")],
                    status: .serviceUnavailable),
                "unavailable"
            )
        }
    }

    /// The most cell fields one message may set (nights x rate plans x fields, prices counted
    /// at 20 guests): 6 fields of 100 rate plans over 750 days is 450,000; a message that
    /// would expand past this is refused before anything is stored.
    static let maxCellsPerMessage = 5_000_000

    /// Stores the message once; false when it was stored before (a repeat or retransmission).
    private func store(
        _ document: OpenTravelARIDocument, source: String, warnings: [String], on conn: PostgresConnection
    ) async throws -> Bool {
        let data = document.dataJSON
        let key = Self.messageKey(document, data: data)
        let time = document.timeStamp.flatMap { Timestamps.parse($0) }
        return try await conn.durableTransaction { tx in
            try await tx.execute(
                """
                insert into staging.ari_messages
                    (source, property_code, message_key, root, echo_token, ota_time, raw, data, warnings, run_id)
                values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::text[], $10)
                on conflict (property_code, source, message_key) do nothing
                """,
                [
                    source, document.hotel, key, document.kind.rawValue, document.echoToken, time,
                    String(decoding: document.raw, as: UTF8.self), data, Self.textArray(warnings), runId,
                ]) == 1
        }
    }

    /// The same message sent again (a repeat, or a retransmission after a lost answer, in SOAP
    /// or bare) has the same key: its root, hotel, EchoToken, TimeStamp and parsed content.
    static func messageKey(_ document: OpenTravelARIDocument, data: String) -> String {
        let parts = [document.kind.rawValue, document.hotel, document.echoToken ?? "", document.timeStamp ?? "", data]
        let digest = SHA256.hash(data: Array(parts.joined(separator: "\u{0}").utf8))
        return Signatures.hex(digest)
    }

    /// A PostgreSQL text[] literal.
    static func textArray(_ values: [String]) -> String {
        "{"
            + values.map {
                "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            }
            .joined(separator: ",") + "}"
    }

    /// The hotel's seeded rooms (with their capacity) and rate plans; nil for a hotel the seeds lack.
    struct Hotel {
        var rooms: [String: Int?]
        /// rate plan -> room
        var rates: [String: String]

        /// Warnings for codes the seeds lack; a refusal for prices over the room's capacity.
        func check(_ document: OpenTravelARIDocument) throws -> [String] {
            var warnings: [String] = []
            var seen = Set<String>()
            var cells = 0
            for part in document.parts {
                // What the part expands to at most (every night, every rate plan it names, every field).
                let nights =
                    (CivilDate(part.end)?.dayNumber ?? 0) - (CivilDate(part.start)?.dayNumber ?? 0) + 1
                let targets: Int
                switch (part.room, part.rate) {
                case (let room?, nil): targets = max(1, rates.values.filter { $0 == room }.count)
                case (nil, nil): targets = rates.count
                default: targets = 1
                }
                cells +=
                    nights * targets
                    * max(part.settings.count, part.prices.isEmpty ? 0 : OpenTravelARIDocument.maxGuests)
                guard cells <= OpenTravelARIPush.maxCellsPerMessage else {
                    throw OpenTravelDocument.Refusal(
                        "the message sets more than \(OpenTravelARIPush.maxCellsPerMessage) fields of cells; fix: send it as several messages",
                        type: 3, code: 450)
                }
                if let room = part.room, rooms[room] == nil, seen.insert("room \(room)").inserted {
                    warnings.append("room \(room) is not one of hotel \(document.hotel)'s rooms; kept and registered")
                }
                if let rate = part.rate, rates[rate] == nil, seen.insert("rate \(rate)").inserted {
                    warnings.append(
                        "rate plan \(rate) is not one of hotel \(document.hotel)'s rate plans; kept and registered")
                }
                let room = part.room ?? part.rate.flatMap { rates[$0] }
                if let room, let capacity = rooms[room] ?? nil, let top = part.prices.map(\.guests).max(),
                    top > capacity
                {
                    throw OpenTravelARIDocument.wrongGuestCount(
                        "a price for \(top) guests, but room \(room) sleeps \(capacity) at most")
                }
            }
            return warnings
        }
    }

    static func hotel(_ code: String, on conn: PostgresConnection) async throws -> Hotel? {
        let known = try await conn.query(
            "select 1 from dims.properties where property_code = $1 and not auto_registered", [code])
        guard !known.isEmpty else { return nil }
        var hotel = Hotel(rooms: [:], rates: [:])
        for row in try await conn.query(
            "select room_code, max_adults from dims.rooms where property_code = $1 and not auto_registered", [code])
        {
            hotel.rooms[try row.decode(column: "room_code")] = try row.decode(Int?.self, column: "max_adults")
        }
        for row in try await conn.query(
            "select rate_id, room_code from dims.rate_plans where property_code = $1 and not auto_registered", [code])
        {
            hotel.rates[try row.decode(column: "rate_id")] = try row.decode(String.self, column: "room_code")
        }
        return hotel
    }
}

/// The `OTA_HotelAvailNotifRS` / `OTA_HotelRateAmountNotifRS` answers.
enum OpenTravelARIAnswer {
    static func success(kind: OpenTravelARIDocument.Kind, soap: Bool, echoToken: String?, warnings: [String])
        -> Response
    {
        var inner = "<Success/>"
        if !warnings.isEmpty {
            inner += "<Warnings>"
            for w in warnings {
                // OpenTravel's codes: 402 invalid room type, 249 invalid rate code.
                let code = w.hasPrefix("room") ? 402 : 249
                inner += #"<Warning Type="3" Code="\#(code)">\#(OpenTravelAnswer.escape(w))</Warning>"#
            }
            inner += "</Warnings>"
        }
        return response(kind: kind, soap: soap, echoToken: echoToken, inner: inner, status: .ok)
    }

    static func errors(
        kind: OpenTravelARIDocument.Kind, soap: Bool, echoToken: String?,
        _ errors: [(type: Int, code: Int, text: String)],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        response(
            kind: kind, soap: soap, echoToken: echoToken, inner: OpenTravelAnswer.errorList(errors), status: status)
    }

    private static func response(
        kind: OpenTravelARIDocument.Kind, soap: Bool, echoToken: String?, inner: String, status: HTTPResponse.Status
    ) -> Response {
        OpenTravelAnswer.envelope(name: kind.response, soap: soap, echoToken: echoToken, inner: inner, status: status)
    }
}
