import Foundation

/// Faults, all off by default. Transport faults are drawn per response from a seeded
/// generator (a retry can succeed); data faults are a pure function of the seed and
/// the record (the same on every retry); behaviour faults are drawn as events occur.
public struct FaultSettings: Sendable, Equatable {
    /// Probability that a response is a 500 INTERNAL_ERROR.
    public var serverErrorRate: Double = 0
    /// Probability that a response starts a burst of 503s ...
    public var unavailableBurstRate: Double = 0
    /// ... of this many responses (the first included).
    public var unavailableBurstLength: Int = 3
    /// Probability that a response starts a storm of 429s ...
    public var rateLimitStormRate: Double = 0
    /// ... of this many responses, each with `Retry-After: retryAfterSeconds`.
    public var rateLimitStormLength: Int = 5
    public var retryAfterSeconds: Int = 1
    /// Probability of added latency before answering, and how much.
    public var latencyRate: Double = 0
    public var latencyMilliseconds: Int = 200
    /// Probability that a body is sent slowly in chunks, and the pause between chunks.
    public var slowBodyRate: Double = 0
    public var slowBodyChunkDelayMilliseconds: Int = 20
    /// Probability that the connection is reset after part of the body was sent.
    public var connectionResetRate: Double = 0
    /// Probability that a 200 carries only the first half of its JSON.
    public var truncatedBodyRate: Double = 0
    /// Share of records that are malformed (bookings, availability, rates, feed).
    public var malformedRecordRate: Double = 0
    /// Probability that a feed page repeats the last record of the previous page.
    public var duplicatePageRecordRate: Double = 0
    /// Probability that a feed page (with cursor) starts with a record from much earlier
    /// in the traversal: a repeat out of `updated_at` order.
    public var repeatEarlierRecordRate: Double = 0
    /// Probability that a PUSH delivery is sent twice.
    public var duplicatePushRate: Double = 0
    /// Probability per property per simulated minute that an old booking is resent as NEW.
    public var resentNewRate: Double = 0
    /// Probability that a change is listed out of date order in `changes[]`.
    public var outOfOrderChangesRate: Double = 0
    /// Probability that a webhook attempt goes to a dead endpoint (connection refused).
    public var deadEndpointRate: Double = 0
    /// Probability that a sync is applied and its answer then lost (the connection is
    /// reset), so the client's retry meets a booking that is no longer pending.
    public var lostSyncAnswerRate: Double = 0
    /// Probability that a pending list repeats an id that was already synced.
    public var repeatSyncedIdRate: Double = 0
    /// When 1, a sync of a booking that is not pending answers 404 NOT_FOUND instead of
    /// 200 (the dialect allows both).
    public var notPendingAnswers404: Int = 0
    /// Probability that one fetch of a booking serves a malformed body, drawn afresh on
    /// every fetch (unlike `malformedRecordRate`, whose records are broken on every read).
    public var malformedFetchRate: Double = 0
    /// Probability that a booking change (modification, cancellation, restore) happens
    /// silently: the version exists at the OTA, but the booking never enters the sync
    /// queue and no webhook fires. Only a search (reconciliation) can see it.
    public var silentChangeRate: Double = 0
    /// OpenTravel pull: probability that a GET, acknowledgement or token call is answered
    /// 401 before anything is applied.
    public var otUnauthorizedRate: Double = 0
    /// OpenTravel pull: probability that a GET or acknowledgement is answered 403 (an
    /// unconnected hotel) before anything is applied.
    public var otForbiddenRate: Double = 0
    /// OpenTravel pull: probability that an acknowledgement is applied and its answer then
    /// lost (half: connection reset mid-body; half: a 200 whose body is cut in half).
    public var otLostAckAnswerRate: Double = 0
    /// OpenTravel: probability that a GET body or a push message comes without the OTA namespace.
    public var otNoNamespaceRate: Double = 0
    /// OpenTravel push: probability that a delivered message is sent again (half of the
    /// repeats with RetransmissionIndicator="true", half without).
    public var otPushRepeatRate: Double = 0
    /// OpenTravel push: probability that a message swaps places with the next one to the
    /// same endpoint (SequenceNmbr out of order).
    public var otPushShuffleRate: Double = 0
    /// OpenTravel push: probability that a booking's Modify or Cancel goes out before its
    /// Commit (when both happen within one clock advance).
    public var otPushEarlyChangeRate: Double = 0
    /// OpenTravel push: probability that the root ResStatus and the reservation's own
    /// ResStatus differ (the inner one stays right).
    public var otPushStatusClashRate: Double = 0

    public init() {}

    enum Field: String, CaseIterable {
        case serverErrorRate = "server_error_rate"
        case unavailableBurstRate = "unavailable_burst_rate"
        case unavailableBurstLength = "unavailable_burst_length"
        case rateLimitStormRate = "rate_limit_storm_rate"
        case rateLimitStormLength = "rate_limit_storm_length"
        case retryAfterSeconds = "retry_after_seconds"
        case latencyRate = "latency_rate"
        case latencyMilliseconds = "latency_ms"
        case slowBodyRate = "slow_body_rate"
        case slowBodyChunkDelayMilliseconds = "slow_body_chunk_delay_ms"
        case connectionResetRate = "connection_reset_rate"
        case truncatedBodyRate = "truncated_body_rate"
        case malformedRecordRate = "malformed_record_rate"
        case duplicatePageRecordRate = "duplicate_page_record_rate"
        case repeatEarlierRecordRate = "repeat_earlier_record_rate"
        case duplicatePushRate = "duplicate_push_rate"
        case resentNewRate = "resent_new_rate"
        case outOfOrderChangesRate = "out_of_order_changes_rate"
        case deadEndpointRate = "dead_endpoint_rate"
        case lostSyncAnswerRate = "lost_sync_answer_rate"
        case repeatSyncedIdRate = "repeat_synced_id_rate"
        case notPendingAnswers404 = "not_pending_answers_404"
        case malformedFetchRate = "malformed_fetch_rate"
        case silentChangeRate = "silent_change_rate"
        case otUnauthorizedRate = "ot_unauthorized_rate"
        case otForbiddenRate = "ot_forbidden_rate"
        case otLostAckAnswerRate = "ot_lost_ack_answer_rate"
        case otNoNamespaceRate = "ot_no_namespace_rate"
        case otPushRepeatRate = "ot_push_repeat_rate"
        case otPushShuffleRate = "ot_push_shuffle_rate"
        case otPushEarlyChangeRate = "ot_push_early_change_rate"
        case otPushStatusClashRate = "ot_push_status_clash_rate"
    }

    /// Decodes a partial update: keys that are absent keep their value in `base`.
    static func merging(_ json: [String: Any], into base: FaultSettings) throws -> FaultSettings {
        var result = base
        for (key, value) in json {
            guard let field = Field(rawValue: key) else { throw FaultUpdateError(field: key) }
            guard let number = (value as? Double) ?? (value as? Int).map(Double.init) else {
                throw FaultUpdateError(field: key)
            }
            result.set(field, number)
        }
        return result
    }

    private mutating func set(_ field: Field, _ v: Double) {
        switch field {
        case .serverErrorRate: serverErrorRate = v
        case .unavailableBurstRate: unavailableBurstRate = v
        case .unavailableBurstLength: unavailableBurstLength = Int(v)
        case .rateLimitStormRate: rateLimitStormRate = v
        case .rateLimitStormLength: rateLimitStormLength = Int(v)
        case .retryAfterSeconds: retryAfterSeconds = Int(v)
        case .latencyRate: latencyRate = v
        case .latencyMilliseconds: latencyMilliseconds = Int(v)
        case .slowBodyRate: slowBodyRate = v
        case .slowBodyChunkDelayMilliseconds: slowBodyChunkDelayMilliseconds = Int(v)
        case .connectionResetRate: connectionResetRate = v
        case .truncatedBodyRate: truncatedBodyRate = v
        case .malformedRecordRate: malformedRecordRate = v
        case .duplicatePageRecordRate: duplicatePageRecordRate = v
        case .repeatEarlierRecordRate: repeatEarlierRecordRate = v
        case .duplicatePushRate: duplicatePushRate = v
        case .resentNewRate: resentNewRate = v
        case .outOfOrderChangesRate: outOfOrderChangesRate = v
        case .deadEndpointRate: deadEndpointRate = v
        case .lostSyncAnswerRate: lostSyncAnswerRate = v
        case .repeatSyncedIdRate: repeatSyncedIdRate = v
        case .notPendingAnswers404: notPendingAnswers404 = Int(v)
        case .malformedFetchRate: malformedFetchRate = v
        case .silentChangeRate: silentChangeRate = v
        case .otUnauthorizedRate: otUnauthorizedRate = v
        case .otForbiddenRate: otForbiddenRate = v
        case .otLostAckAnswerRate: otLostAckAnswerRate = v
        case .otNoNamespaceRate: otNoNamespaceRate = v
        case .otPushRepeatRate: otPushRepeatRate = v
        case .otPushShuffleRate: otPushShuffleRate = v
        case .otPushEarlyChangeRate: otPushEarlyChangeRate = v
        case .otPushStatusClashRate: otPushStatusClashRate = v
        }
    }

    var jsonValue: JSONValue {
        .object([
            "server_error_rate" => .double(serverErrorRate),
            "unavailable_burst_rate" => .double(unavailableBurstRate),
            "unavailable_burst_length" => .int(unavailableBurstLength),
            "rate_limit_storm_rate" => .double(rateLimitStormRate),
            "rate_limit_storm_length" => .int(rateLimitStormLength),
            "retry_after_seconds" => .int(retryAfterSeconds),
            "latency_rate" => .double(latencyRate),
            "latency_ms" => .int(latencyMilliseconds),
            "slow_body_rate" => .double(slowBodyRate),
            "slow_body_chunk_delay_ms" => .int(slowBodyChunkDelayMilliseconds),
            "connection_reset_rate" => .double(connectionResetRate),
            "truncated_body_rate" => .double(truncatedBodyRate),
            "malformed_record_rate" => .double(malformedRecordRate),
            "duplicate_page_record_rate" => .double(duplicatePageRecordRate),
            "repeat_earlier_record_rate" => .double(repeatEarlierRecordRate),
            "duplicate_push_rate" => .double(duplicatePushRate),
            "resent_new_rate" => .double(resentNewRate),
            "out_of_order_changes_rate" => .double(outOfOrderChangesRate),
            "dead_endpoint_rate" => .double(deadEndpointRate),
            "lost_sync_answer_rate" => .double(lostSyncAnswerRate),
            "repeat_synced_id_rate" => .double(repeatSyncedIdRate),
            "not_pending_answers_404" => .int(notPendingAnswers404),
            "malformed_fetch_rate" => .double(malformedFetchRate),
            "silent_change_rate" => .double(silentChangeRate),
            "ot_unauthorized_rate" => .double(otUnauthorizedRate),
            "ot_forbidden_rate" => .double(otForbiddenRate),
            "ot_lost_ack_answer_rate" => .double(otLostAckAnswerRate),
            "ot_no_namespace_rate" => .double(otNoNamespaceRate),
            "ot_push_repeat_rate" => .double(otPushRepeatRate),
            "ot_push_shuffle_rate" => .double(otPushShuffleRate),
            "ot_push_early_change_rate" => .double(otPushEarlyChangeRate),
            "ot_push_status_clash_rate" => .double(otPushStatusClashRate),
        ])
    }
}

/// A `/_sandbox/faults` update named a field that does not exist or gave it no number.
struct FaultUpdateError: Error {
    var field: String
}
