import Foundation
import Hummingbird

/// The pull API of a Booking.com-style OTA: `POST /hotels/ota/token`, the two queues
/// (`GET`) and their acknowledgements (`POST` of the matching `...RS`).
struct OpenTravelPullAPI: Sendable {
    let core: SandboxCore

    private struct Failure: Error {
        var status: HTTPResponse.Status
        /// OpenTravel error type and code, and the text.
        var type: Int
        var code: Int
        var message: String
        var outcome: String
    }

    func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let name = String(path.dropFirst("/hotels/ota/".count))
        core.countRequest("\(request.method.rawValue) /hotels/ota/\(name)")
        if name == "token" { return token(request) }
        guard let queue = OpenTravelQueue.allCases.first(where: { $0.path == name }) else {
            return ResponseMaking.xml(
                errorBody(root: "OTA_HotelResNotifRS", type: 1, code: 404, "no such path: \(path)"), status: .notFound)
        }
        guard request.method == .get || request.method == .post else {
            return ResponseMaking.xml(
                errorBody(
                    root: queue.responseRoot, type: 1, code: 405, "use GET to read the queue, POST to acknowledge"),
                status: .methodNotAllowed)
        }
        let isAck = request.method == .post
        let account = authenticate(request)
        if let account, !isAck {
            let wall = Int64(Date().timeIntervalSince1970 * 1000)
            core.world.withLock { $0.openTravel.notePoll(account: account, queue: queue, wallMilliseconds: wall) }
        }
        var failure: Failure?
        if account == nil {
            failure = Failure(
                status: .unauthorized, type: 4, code: 497,
                message: "authorization failed: give a valid Bearer token or Basic login",
                outcome: "unauthorized")
        }
        let (fault, latency) = core.openTravelDice.withLock { dice in
            var f = core.faults
            f.rateLimitStormRate = 0
            return dice.before(f) { core.countFault($0) }
        }
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        if failure == nil {
            failure = drawnFailure(fault, queue: queue)
        }
        if let failure {
            if isAck {
                logAck(account: account, queue: queue, http: failure.status.code, outcome: failure.outcome, lines: [])
            }
            if failure.status == .serviceUnavailable {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "Service Unavailable\n")))
            }
            return ResponseMaking.xml(
                errorBody(root: queue.responseRoot, type: failure.type, code: failure.code, failure.message),
                status: failure.status)
        }
        guard let account else { return ResponseMaking.xml([], status: .unauthorized) }
        return isAck
            ? await acknowledge(request, account: account, queue: queue)
            : read(request, account: account, queue: queue)
    }

    /// 5xx and the OpenTravel 401/403 faults, decided before anything is applied.
    private func drawnFailure(_ fault: TransportFault?, queue: OpenTravelQueue) -> Failure? {
        switch fault {
        case .serverError:
            return Failure(
                status: .internalServerError, type: 12, code: 450, message: "internal error", outcome: "server_error")
        case .unavailable:
            return Failure(
                status: .serviceUnavailable, type: 12, code: 450, message: "unavailable", outcome: "server_error")
        default: break
        }
        let faults = core.faults
        let (unauthorized, forbidden) = core.openTravelDice.withLock {
            ($0.rng.chance(faults.otUnauthorizedRate), $0.rng.chance(faults.otForbiddenRate))
        }
        if unauthorized {
            core.countFault("ot_unauthorized")
            return Failure(
                status: .unauthorized, type: 4, code: 497, message: "authorization failed: token expired",
                outcome: "unauthorized")
        }
        if forbidden {
            core.countFault("ot_forbidden")
            return Failure(
                status: .forbidden, type: 6, code: 392,
                message: "a hotel of this request is not connected to the account",
                outcome: "forbidden")
        }
        return nil
    }

    // MARK: token

    private func token(_ request: Request) -> Response {
        func answer(_ status: HTTPResponse.Status, _ json: JSONValue) -> Response {
            ResponseMaking.json(json.serialized, status: status)
        }
        guard request.method == .post else {
            return answer(.methodNotAllowed, .object(["error" => .string("invalid_request")]))
        }
        let faults = core.faults
        let unauthorized = core.openTravelDice.withLock { $0.rng.chance(faults.otUnauthorizedRate) }
        guard let account = basicAccount(request), !unauthorized else {
            if unauthorized { core.countFault("ot_unauthorized") }
            return answer(.unauthorized, .object(["error" => .string("invalid_client")]))
        }
        let (token, lifetime) = core.world.withLock {
            ($0.openTravel.issueToken(account: account), $0.openTravel.settings.tokenLifetimeSeconds)
        }
        return answer(
            .ok,
            .object([
                "access_token" => .string(token), "token_type" => .string("Bearer"), "expires_in" => .int(lifetime),
            ]))
    }

    // MARK: auth

    private func authenticate(_ request: Request) -> Int? {
        guard let header = request.headers[.authorization] else { return nil }
        if header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            return core.world.withLock { $0.openTravel.account(token: token) }
        }
        guard let account = basicAccount(request) else { return nil }
        let allowed = core.world.withLock { $0.openTravel.accounts[account].basicAllowed }
        return allowed ? account : nil
    }

    private func basicAccount(_ request: Request) -> Int? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        return core.world.withLock { state in
            state.openTravel.account(username: user).flatMap {
                state.openTravel.accounts[$0].password == password ? $0 : nil
            }
        }
    }

    // MARK: GET

    private func read(_ request: Request, account: Int, queue: OpenTravelQueue) -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let layout = core.layout
        var hotels: Set<Int>?
        if let list = query["hotel_ids"] {
            var set = Set<Int>()
            for code in list.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
                let connected = core.world.withLock { state in
                    layout.propertyIndex(code: code).flatMap {
                        state.openTravel.connected[account].contains($0) ? $0 : nil
                    }
                }
                guard let index = connected else {
                    return ResponseMaking.xml(
                        errorBody(
                            root: queue.responseRoot, type: 6, code: 392,
                            "hotel \(code) is not connected to this account"), status: .forbidden)
                }
                set.insert(index)
            }
            hotels = set
        }
        let id = query["id"].flatMap { Int($0) }
        if query["id"] != nil && id == nil {
            return badRequest(queue, "id must be a reservation number")
        }
        let changedSince = query["last_change"].flatMap { CivilCalendar.parseTimestamp($0) }
        if query["last_change"] != nil && changedSince == nil {
            return badRequest(queue, "last_change must be an ISO-8601 UTC time like 2026-01-01T05:00:00Z")
        }
        let batch = core.configuration.openTravel.batchSize
        let limit = query["limit"].flatMap { Int($0) } ?? batch
        guard (1...batch).contains(limit) else { return badRequest(queue, "limit must be in 1-\(batch)") }
        let faults = core.faults
        let noNamespace = core.openTravelDice.withLock { $0.rng.chance(faults.otNoNamespaceRate) }
        if noNamespace { core.countFault("ot_no_namespace") }
        let body = core.world.withLock { state -> [UInt8] in
            let items = state.openTravel.serve(
                account: account, queue: queue, hotels: hotels, id: id, changedSince: changedSince, limit: limit)
            let n = state.openTravel.state[account].gets[queue, default: 0]
            var w = XMLWriter()
            w.raw(XMLWriter.declaration)
            w.open(
                queue.requestRoot,
                [
                    ("xmlns", noNamespace ? nil : OpenTravelReservationXML.namespace), ("Version", "1.0"),
                    ("TimeStamp", CivilCalendar.timestampString(seconds: state.now)),
                    ("EchoToken", "\(state.openTravel.accounts[account].username)-\(queue.rawValue)-\(n)"),
                ])
            let list = queue == .new ? "HotelReservations" : "HotelResModifies"
            let element = queue == .new ? "HotelReservation" : "HotelResModify"
            if items.isEmpty {
                w.open(list, empty: true)
            } else {
                w.open(list)
                for item in items {
                    let version = state.bookings[item.id]!.versions[item.version - 1]
                    var body = version.body
                    // A malformed version (`malformed_record_rate`) is served, on every read, with a
                    // currency no ISO 4217 list has: a reader must refuse it.
                    if version.malformation != nil { body.currency = "EUX" }
                    OpenTravelReservationXML.write(
                        body, element: element, resStatus: item.resStatus, shape: .pull, to: &w)
                }
                w.close(list)
            }
            w.close(queue.requestRoot)
            return w.bytes
        }
        let after = core.openTravelDice.withLock { dice in dice.after(faults) { core.countFault($0) } }
        return ResponseMaking.xml(body, fault: after)
    }

    // MARK: POST (acknowledgement)

    private func acknowledge(_ request: Request, account: Int, queue: OpenTravelQueue) async -> Response {
        guard let buffer = try? await request.body.collect(upTo: 4 << 20) else {
            logAck(account: account, queue: queue, http: 413, outcome: "bad_request", lines: [])
            return ResponseMaking.xml(
                errorBody(root: queue.responseRoot, type: 10, code: 321, "acknowledgement body over 4 MiB"),
                status: .contentTooLarge)
        }
        guard let tags = XMLTagScanner.startTags(Array(buffer.readableBytesView)), tags[0].name == queue.responseRoot
        else {
            logAck(account: account, queue: queue, http: 400, outcome: "bad_request", lines: [])
            return badRequest(queue, "the acknowledgement must be an \(queue.responseRoot) document")
        }
        let success = tags.contains { $0.name == "Success" }
        let ids = tags.filter { $0.name == "HotelReservationID" }.compactMap { $0.attributes["ResID_Value"] }
        guard success else {
            logAck(account: account, queue: queue, http: 200, outcome: "not_processed", lines: [])
            return ResponseMaking.xml(answerBody(queue, ids: []))
        }
        let numbers = ids.compactMap { Int($0) }
        guard numbers.count == ids.count, !ids.isEmpty else {
            logAck(account: account, queue: queue, http: 400, outcome: "bad_request", lines: [])
            return badRequest(queue, "give each acknowledged reservation as HotelReservationID ResID_Value=\"number\"")
        }
        if let observer = core.openTravelAckObserver.withLock({ $0 }) {
            let username = core.world.withLock { $0.openTravel.accounts[account].username }
            guard await observer(username, queue.rawValue, ids) else {
                logAck(account: account, queue: queue, http: 0, outcome: "dropped", lines: [])
                // Half an answer, then the connection drops: no client can take it for a Success.
                return ResponseMaking.xml(answerBody(queue, ids: numbers), fault: .connectionReset)
            }
        }
        let faults = core.faults
        let outcome = core.world.withLock { state -> OpenTravelAckOutcome in
            let bookings = state.bookings
            let result = state.openTravel.acknowledge(
                account: account, queue: queue, ids: numbers, hotelOf: { bookings[$0]?.property },
                lastModify: { id, version in bookings[id]?.versions[version - 1].body.otaTime })
            if case .applied = result { state.openTravel.state[account].lastAck[queue] = .now }
            return result
        }
        switch outcome {
        case .forbidden(let hotel):
            logAck(account: account, queue: queue, http: 403, outcome: "forbidden", lines: [])
            return ResponseMaking.xml(
                errorBody(
                    root: queue.responseRoot, type: 6, code: 392,
                    "hotel \(core.layout.properties[hotel].code) is not connected to this account"), status: .forbidden)
        case .stale(let id, let lines):
            logAck(account: account, queue: queue, http: 400, outcome: "stale", lines: lines)
            return ResponseMaking.xml(
                errorBody(
                    root: queue.responseRoot, type: 3, code: 450,
                    "reservation \(id) changed since it was served: fetch again (nothing in this acknowledgement was applied)"
                ),
                status: .badRequest)
        case .applied(let lines):
            var after = core.openTravelDice.withLock { dice in dice.after(faults) { core.countFault($0) } }
            if after == nil {
                after = core.openTravelDice.withLock { dice -> TransportFault? in
                    guard dice.rng.chance(faults.otLostAckAnswerRate) else { return nil }
                    return dice.rng.chance(0.5) ? .connectionReset : .truncatedBody
                }
                if after != nil { core.countFault("ot_lost_ack_answer") }
            }
            let answer: String
            switch after {
            case .connectionReset: answer = "connection_reset"
            case .truncatedBody: answer = "truncated"
            default: answer = "sent"
            }
            logAck(account: account, queue: queue, http: 200, outcome: "applied", answer: answer, lines: lines)
            return ResponseMaking.xml(answerBody(queue, ids: numbers), fault: after)
        }
    }

    private func logAck(
        account: Int?, queue: OpenTravelQueue, http: Int, outcome: String, answer: String = "sent",
        lines: [OpenTravelAckRecord.Line]
    ) {
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        core.world.withLock { state in
            state.openTravel.acks.append(
                OpenTravelAckRecord(
                    seq: state.openTravel.acks.count + 1, account: account, queue: queue, at: state.now,
                    wallMilliseconds: wall, http: http, outcome: outcome, answer: answer, lines: lines))
        }
    }

    // MARK: bodies

    private func badRequest(_ queue: OpenTravelQueue, _ message: String) -> Response {
        ResponseMaking.xml(errorBody(root: queue.responseRoot, type: 10, code: 321, message), status: .badRequest)
    }

    private func answerBody(_ queue: OpenTravelQueue, ids: [Int]) -> [UInt8] {
        var w = XMLWriter()
        w.raw(XMLWriter.declaration)
        w.open(queue.responseRoot, [("xmlns", OpenTravelReservationXML.namespace), ("Version", "1.0")])
        w.open("Success", empty: true)
        if !ids.isEmpty {
            let list = queue == .new ? "HotelReservations" : "HotelResModifies"
            let element = queue == .new ? "HotelReservation" : "HotelResModify"
            w.raw("<\(list)><\(element)><ResGlobalInfo><HotelReservationIDs>")
            for id in ids { w.open("HotelReservationID", [("ResID_Value", String(id))], empty: true) }
            w.raw("</HotelReservationIDs></ResGlobalInfo></\(element)></\(list)>")
        }
        w.close(queue.responseRoot)
        return w.bytes
    }

    private func errorBody(root: String, type: Int, code: Int, _ message: String) -> [UInt8] {
        var w = XMLWriter()
        w.raw(XMLWriter.declaration)
        w.open(root, [("xmlns", OpenTravelReservationXML.namespace), ("Version", "1.0")])
        w.open("Errors")
        w.open("Error", [("Type", String(type)), ("Code", String(code))])
        w.text(message)
        w.close("Error")
        w.close("Errors")
        w.close(root)
        return w.bytes
    }
}
