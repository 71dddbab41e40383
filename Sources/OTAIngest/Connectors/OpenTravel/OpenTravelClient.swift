import Foundation
import HTTPClient
import Synchronization

/// One OpenTravel machine account's queues: `GET {base}/OTA_HotelResNotif` and
/// `.../OTA_HotelResModifyNotif`, and acknowledgements POSTed to the same paths.
///
/// With `auth = "bearer"`, a token comes from `POST {base}/token` with the account's
/// Basic credentials; it is refreshed a minute before it expires and after any 401.
final class OpenTravelClient: Sendable {
    /// The two queues of an account.
    enum Queue: String, Sendable, CaseIterable {
        case new
        case modify

        var path: String { self == .new ? "OTA_HotelResNotif" : "OTA_HotelResModifyNotif" }
        var kind: OpenTravelDocument.Kind { self == .new ? .resNotif : .resModifyNotif }
        var origin: OpenTravelReservation.Origin { self == .new ? .newQueue : .modifyQueue }
    }

    /// How an acknowledgement ended.
    enum Acknowledgement: Sendable, Equatable {
        /// `<Success/>`: the ids left the queue (or were no longer in it).
        case applied
        /// 400: an id changed since it was served; nothing applied, fetch again.
        case stale(String)
    }

    let caller: SourceCaller
    let baseURL: String
    let login: (username: String, password: String)
    let auth: OpenTravelSettings.Auth
    let clock: WallClock
    private let token = Mutex<(value: String, expires: Date)?>(nil)

    init(
        caller: SourceCaller, baseURL: String, login: (username: String, password: String),
        auth: OpenTravelSettings.Auth, clock: WallClock
    ) {
        self.caller = caller
        self.baseURL = baseURL
        self.login = login
        self.auth = auth
        self.clock = clock
    }

    /// The queue's waiting reservations: the whole body, as received.
    func fetch(_ queue: Queue) async throws -> [UInt8] {
        let response = try await authorized(
            HTTPClientRequest(method: "GET", url: "\(baseURL)/\(queue.path)"), what: "GET \(queue.path)")
        return response.body
    }

    /// Acknowledges `ids` of `queue`. A lost or cut answer, or a 5xx, is sent again (an id
    /// no longer queued is a no-op 200, so repeating is safe).
    func acknowledge(_ ids: [String], of queue: Queue) async throws -> Acknowledgement {
        let body = Array(Self.acknowledgementBody(ids, queue: queue).utf8)
        var attempt = 0
        while true {
            attempt += 1
            let response = try await authorized(
                HTTPClientRequest(
                    method: "POST", url: "\(baseURL)/\(queue.path)",
                    headers: ["Content-Type": "text/xml; charset=utf-8"], body: body),
                what: "acknowledge \(queue.path)", answers: [400])
            if response.status == 400 {
                return .stale(Self.errorText(response.body) ?? "HTTP 400")
            }
            if let root = try? SafeXML.parse(response.body), root.child("Success") != nil {
                return .applied
            }
            // A 200 whose body is cut or has no Success: the answer was lost, not the ack.
            guard attempt < caller.policy.maxAttempts else {
                throw SourceError(
                    source: caller.sourceName, what: "acknowledge \(queue.path)",
                    reason: "the answer had no <Success/> (\(Self.errorText(response.body) ?? "unreadable"))",
                    attempts: attempt)
            }
            caller.stats.add(.retries)
            try await Task.sleep(for: caller.policy.delay(afterAttempt: attempt, retryAfter: nil))
        }
    }

    /// Sends with the account's credentials; a 401 (an expired or revoked token) gets one
    /// fresh token and one more try.
    private func authorized(_ request: HTTPClientRequest, what: String, answers: Set<Int> = []) async throws
        -> HTTPClientResponse
    {
        var request = request
        for attempt in 1...3 {
            request.authorization = try await authorization(refresh: attempt > 1)
            let response = try await caller.send(
                request, what: what, isAnswer: { answers.contains($0.status) || $0.status == 401 })
            guard response.status == 401 else { return response }
            if attempt < 3 { caller.stats.add(.retries) }
        }
        throw SourceError(
            source: caller.sourceName, what: what, reason: "HTTP 401 (credentials refused) three times", attempts: 3,
            advice: "check the account's credentials_env or credentials_file, and auth (basic or bearer)")
    }

    private func authorization(refresh: Bool) async throws -> HTTPAuthorization {
        switch auth {
        case .basic:
            return .basic(username: login.username, password: login.password)
        case .bearer:
            let now = clock.now()
            if !refresh, let current = token.withLock({ $0 }), current.expires > now.addingTimeInterval(60) {
                return .bearer(token: current.value)
            }
            let fresh = try await newToken(now: now)
            token.withLock { $0 = fresh }
            return .bearer(token: fresh.value)
        }
    }

    private func newToken(now: Date) async throws -> (value: String, expires: Date) {
        let response = try await caller.send(
            HTTPClientRequest(
                method: "POST", url: "\(baseURL)/token",
                authorization: .basic(username: login.username, password: login.password)),
            what: "POST token")
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let value = object["access_token"] as? String, !value.isEmpty
        else {
            throw SourceError(
                source: caller.sourceName, what: "POST token", reason: "the answer has no access_token", attempts: 1)
        }
        let lifetime = (object["expires_in"] as? NSNumber)?.doubleValue ?? 3600
        return (value, now.addingTimeInterval(lifetime))
    }

    /// `OTA_HotelResNotifRS` (new) or `OTA_HotelResModifyNotifRS` (modify): `<Success/>` and the ids.
    static func acknowledgementBody(_ ids: [String], queue: Queue) -> String {
        let (root, list, item) =
            queue == .new
            ? ("OTA_HotelResNotifRS", "HotelReservations", "HotelReservation")
            : ("OTA_HotelResModifyNotifRS", "HotelResModifies", "HotelResModify")
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<\#(root) xmlns="\#(OpenTravelDocument.namespace)" Version="1.0"><Success/><\#(list)><\#(item)>"#
        xml += "<ResGlobalInfo><HotelReservationIDs>"
        for id in ids {
            // The id goes in an attribute: escape what XML would read as markup.
            let value = id.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "<", with: "&lt;")
            xml += #"<HotelReservationID ResID_Value="\#(value)"/>"#
        }
        xml += "</HotelReservationIDs></ResGlobalInfo></\(item)></\(list)></\(root)>"
        return xml
    }

    /// The first `<Error>` text of an `...RS`, for messages.
    static func errorText(_ body: [UInt8]) -> String? {
        guard let root = try? SafeXML.parse(body), let error = root.child("Errors")?.child("Error") else { return nil }
        return String(decoding: error.text, as: UTF8.self)
    }
}
