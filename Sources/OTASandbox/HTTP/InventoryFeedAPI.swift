import Foundation
import Hummingbird

/// `GET /v2/inventory`: the generic cursor feed with Bearer auth, a token-bucket
/// quota, `updated_after` (inclusive) and opaque snapshot cursors.
struct InventoryFeedAPI: Sendable {
    let core: SandboxCore
    static let maxLimit = 5000

    /// What a cursor carries: the traversal's snapshot minute, the log position to
    /// continue from, and the position of the last record served (for the
    /// duplicate-record fault).
    struct Cursor: Equatable {
        var snapshot: Int32
        var next: Int
        var last: Int

        func encoded(seed: UInt64) -> String {
            let check =
                StableHash.combine([seed, UInt64(UInt32(bitPattern: snapshot)), UInt64(next), UInt64(last)]) & 0xFFFF
            return Data("\(snapshot).\(next).\(last).\(check)".utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
        }

        init(snapshot: Int32, next: Int, last: Int) {
            self.snapshot = snapshot
            self.next = next
            self.last = last
        }

        init?(_ text: String, seed: UInt64) {
            var padded = text
            while padded.count % 4 != 0 { padded += "=" }
            guard let data = Data(base64Encoded: padded), let plain = String(data: data, encoding: .utf8) else {
                return nil
            }
            let parts = plain.split(separator: ".").compactMap { Int($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 >= 0 }), let snapshot = Int32(exactly: parts[0]) else {
                return nil
            }
            self.init(snapshot: snapshot, next: parts[1], last: parts[2])
            guard encoded(seed: seed) == text.replacingOccurrences(of: "=", with: "") else { return nil }
        }
    }

    private func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:])
        -> Response
    {
        ResponseMaking.json(
            JSONValue.object(["error" => .string(code), "message" => .string(message)]).serialized, status: status,
            headers: headers)
    }

    func respond(to request: Request) async -> Response {
        core.countRequest("GET /v2/inventory")
        guard request.method == .get else { return error(.methodNotAllowed, "method_not_allowed", "Use GET.") }
        guard request.headers[.authorization] == "Bearer \(core.configuration.bearerToken)" else {
            return error(.unauthorized, "unauthorized", "A valid Bearer token is required.")
        }
        if let wait = core.bucket.withLock({ $0?.take() }) {
            core.countFault("quota_exceeded")
            return error(.tooManyRequests, "rate_limited", "Quota exceeded.", headers: [.retryAfter: String(wait)])
        }
        let faults = core.faults
        let (fault, latency) = core.dice.withLock { $0.before(faults) { core.countFault($0) } }
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        switch fault {
        case .serverError: return error(.internalServerError, "server_error", "Internal error.")
        case .unavailable: return error(.serviceUnavailable, "unavailable", "Temporarily unavailable.")
        case .rateLimited(let seconds):
            return error(
                .tooManyRequests, "rate_limited", "Too many requests.", headers: [.retryAfter: String(seconds)])
        default: break
        }
        let query = request.uri.queryParameters
        var limit = 200
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                return error(.badRequest, "invalid_limit", "limit must be an integer in 1-\(Self.maxLimit).")
            }
            limit = value
        }
        var cursor: Cursor?
        if let text = query["cursor"], !text.isEmpty {
            guard let parsed = Cursor(String(text), seed: core.configuration.seed) else {
                return error(.badRequest, "invalid_cursor", "cursor is not one this server issued.")
            }
            cursor = parsed
        }
        var updatedAfter: Int64?
        if let text = query["updated_after"], cursor == nil {
            guard let seconds = CivilCalendar.parseTimestamp(text) else {
                return error(.badRequest, "invalid_updated_after", "updated_after must be an ISO-8601 UTC time.")
            }
            updatedAfter = seconds
        }
        let duplicate = core.dice.withLock { $0.rng.chance(faults.duplicatePageRecordRate) } && cursor != nil
        // Drawn only when asked for, so the other faults' dice fall as before.
        let earlier =
            faults.repeatEarlierRecordRate > 0 && cursor != nil
            && core.dice.withLock { $0.rng.chance(faults.repeatEarlierRecordRate) }
        let (records, next) = core.world.withLock { state -> ([FeedVersion], Cursor?) in
            let snapshot = cursor?.snapshot ?? Int32(state.now / 60)
            var start = cursor?.next ?? 0
            if let updatedAfter {
                // Inclusive: a record whose updated_at equals the bound is returned.
                start = state.feed.firstPosition(atOrAfter: Int32((updatedAfter + 59) / 60))
            }
            var page = state.feed.page(from: start, snapshot: snapshot, limit: limit)
            if duplicate, let last = cursor?.last, last < state.feed.versions.count {
                page.records.insert(state.feed.versions[last], at: 0)
            }
            // Half-way back to the start of the feed: older than the page before.
            if earlier, let last = cursor?.last, last / 2 < state.feed.versions.count {
                page.records.insert(state.feed.versions[last / 2], at: 0)
            }
            let next = page.next.map { Cursor(snapshot: snapshot, next: $0, last: page.last ?? $0) }
            return (page.records, next)
        }
        if duplicate { core.countFault("duplicate_page_record") }
        if earlier { core.countFault("repeat_earlier_record") }
        let encoder = InventoryFeedEncoder(
            layout: core.layout, seed: core.configuration.seed, malformedRate: faults.malformedRecordRate,
            priceOffsetCents: core.configuration.cursorFeedPriceOffsetCents)
        let body = encoder.encode(records, nextCursor: next?.encoded(seed: core.configuration.seed))
        let after = core.dice.withLock { $0.after(faults) { core.countFault($0) } }
        return ResponseMaking.json(body, fault: after)
    }
}
