import Foundation
import Hummingbird

/// The WebHotelier dialect: routing, Basic auth, the wrapper and its error codes,
/// and the transport faults, around the handlers in WebHotelier*Handlers.swift.
struct WebHotelierAPI: Sendable {
    let core: SandboxCore

    private enum Route {
        case pending
        case sync(String)
        case reservation(String)
        case search
        case availability(String?)
        case rates(String?)
        case rateList(String)
        case property(String)
        case calendar(String)

        var name: String {
            switch self {
            case .pending: return "GET /reservation/new"
            case .sync: return "GET /reservation/sync/{id}"
            case .reservation: return "GET /reservation/{id}"
            case .search: return "GET /reservation"
            case .availability: return "GET /manage/availability"
            case .rates: return "GET /manage/rates"
            case .rateList: return "GET /rate/{propertycode}"
            case .property: return "GET /property/{propertycode}"
            case .calendar: return "GET /availability/{propertycode}/calendar"
            }
        }
    }

    private func route(_ parts: [String]) -> (Route, [(String, String)])? {
        switch parts.count {
        case 1 where parts[0] == "reservation": return (.search, [])
        case 2 where parts[0] == "reservation" && parts[1] == "new": return (.pending, [])
        case 2 where parts[0] == "reservation": return (.reservation(parts[1]), [("id", parts[1])])
        case 3 where parts[0] == "reservation" && parts[1] == "sync": return (.sync(parts[2]), [("id", parts[2])])
        case 2 where parts[0] == "manage" && parts[1] == "availability": return (.availability(nil), [])
        case 3 where parts[0] == "manage" && parts[1] == "availability":
            return (.availability(parts[2]), [("roomcode", parts[2])])
        case 2 where parts[0] == "manage" && parts[1] == "rates": return (.rates(nil), [])
        case 3 where parts[0] == "manage" && parts[1] == "rates": return (.rates(parts[2]), [("rateid", parts[2])])
        case 2 where parts[0] == "rate": return (.rateList(parts[1]), [("propertycode", parts[1])])
        case 2 where parts[0] == "property": return (.property(parts[1]), [("propertycode", parts[1])])
        case 3 where parts[0] == "availability" && parts[2] == "calendar":
            return (.calendar(parts[1]), [("propertycode", parts[1])])
        default: return nil
        }
    }

    func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let parts = path.split(separator: "/").map { String($0) }
        var query: [String: String] = [:]
        var queryList: [(name: String, value: String)] = []
        for (key, value) in request.uri.queryParameters {
            query[String(key)] = String(value)
            queryList.append((String(key), String(value)))
        }
        guard let (route, pathParams) = route(parts) else {
            let call = WebHotelierCall(
                method: path, httpMethod: request.method.rawValue, params: queryList, query: query)
            core.countRequest("unknown")
            return call.errorResponse(.notFound("Method not found."))
        }
        let call = WebHotelierCall(
            method: path, httpMethod: request.method.rawValue,
            params: pathParams.map { (name: $0.0, value: $0.1) } + queryList, query: query)
        core.countRequest(route.name)
        do {
            guard request.method == .get else {
                throw WebHotelierError.forbidden("INVALID_METHOD", "This method must be called with GET.")
            }
            if let accept = request.headers[.accept], !accept.contains("json"), !accept.contains("*/*") {
                throw WebHotelierError.forbidden("INVALID_RESPONSE_TYPE", "Only application/json is served here.")
            }
            let property = try authenticate(request)
            switch route {
            case .availability, .rates: core.countFeedRead(property: property)
            default: break
            }
            let (fault, latency) = core.dice.withLock { dice in
                dice.before(core.faults) { core.countFault($0) }
            }
            if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
            switch fault {
            case .serverError:
                throw WebHotelierError(status: .internalServerError, code: "INTERNAL_ERROR", message: "Internal error.")
            case .unavailable:
                throw WebHotelierError(
                    status: .serviceUnavailable, code: "TEMPORARY_UNAVAILABLE",
                    message: "Service temporarily unavailable.")
            case .rateLimited(let retryAfter):
                throw WebHotelierError(
                    status: .tooManyRequests, code: "TOO_MANY_REQUESTS", message: "Too many requests.",
                    retryAfter: retryAfter)
            default: break
            }
            if case .sync(let id) = route, let observer = core.syncObserver.withLock({ $0 }) {
                await observer(Int(id) ?? 0)
            }
            let data = try handle(route, call: call, property: property)
            var after = core.dice.withLock { dice in dice.after(core.faults) { core.countFault($0) } }
            if case .sync = route, after == nil, core.dice.withLock({ $0.rng.chance(core.faults.lostSyncAnswerRate) }) {
                // The sync above was applied; only its answer is lost.
                core.countFault("lost_sync_answer")
                after = .connectionReset
            }
            return ResponseMaking.json(call.envelope(status: .ok, code: "OK", message: "", data: data), fault: after)
        } catch let error as WebHotelierError {
            return call.errorResponse(error)
        } catch {
            return call.errorResponse(.init(status: .internalServerError, code: "INTERNAL_ERROR", message: "\(error)"))
        }
    }

    private func authenticate(_ request: Request) throws -> Int {
        guard let header = request.headers[.authorization] else {
            throw WebHotelierError.forbidden("NO_AUTH", "Authentication required (HTTP Basic).")
        }
        guard header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
            let property = core.propertyByUsername[String(text[..<colon])],
            core.layout.properties[property].password == String(text[text.index(after: colon)...])
        else {
            throw WebHotelierError.forbidden("INVALID_AUTH", "Invalid username or password.")
        }
        return property
    }

    private func handle(_ route: Route, call: WebHotelierCall, property: Int) throws -> JSONValue {
        switch route {
        case .pending: return pendingList(property: property)
        case .sync(let id): return try sync(id: id, property: property)
        case .reservation(let id): return try reservation(id: id, property: property)
        case .search: return try search(call: call, property: property)
        case .availability(let room): return try availability(room: room, call: call, property: property)
        case .rates(let rate): return try rates(rate: rate, call: call, property: property)
        case .rateList(let code): return try rateList(code: code, property: property)
        case .property(let code): return try propertyInfo(code: code, property: property)
        case .calendar(let code): return try calendar(code: code, call: call, property: property)
        }
    }

    /// A property code in the path must be the account's own.
    func checkOwnProperty(_ code: String, property: Int) throws {
        guard let index = core.layout.propertyIndex(code: code) else {
            throw WebHotelierError.notFound("Property not found.")
        }
        guard index == property else {
            throw WebHotelierError.forbidden("FORBIDDEN", "This account has no access to property \(code).")
        }
    }
}
