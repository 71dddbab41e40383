/// A booking waiting in its property's sync queue.
struct SyncQueueEntry: Sendable {
    var id: Int
    /// When it (last) entered the queue.
    var timestamp: Int64
    var syncType: String
    /// Shown by a pending list since it last changed: only then may a sync remove it.
    var listed: Bool
    /// Number of versions when it entered, so a PUSH acknowledges only what it carried.
    var versionCount: Int
}

/// What /reservation/sync/{id} did.
enum SyncOutcome {
    case unknownBooking
    case removed
    /// In the queue but changed since it was last listed: it stays, and shows again.
    case keptChangedSinceListing
    case notQueued
}

extension WorldState {
    mutating func enqueue(bookingID id: Int, event: BookingEvent, at time: Int64) {
        guard let record = bookings[id] else { return }
        let syncType: String
        switch event {
        case .cancelled: syncType = "CL"
        case .created: syncType = "NEW"
        case .modified, .restored: syncType = record.everSynced ? "MOD" : "NEW"
        }
        queues[record.property][id] = SyncQueueEntry(
            id: id, timestamp: time, syncType: syncType, listed: false, versionCount: record.versions.count)
    }

    /// The pending list: oldest first. Listing marks entries as listed and checks the
    /// minimum interval between two lists of one property.
    mutating func pendingList(property: Int) -> [SyncQueueEntry] {
        if pingCredits[property] > 0 {
            pingCredits[property] -= 1
        } else if let last = lastPendingList[property], minimumPendingInterval > 0,
            now - last < minimumPendingInterval
        {
            violations[property] += 1
        }
        lastPendingList[property] = now
        for id in queues[property].keys {
            queues[property][id]!.listed = true
        }
        return queues[property].values.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
    }

    mutating func sync(property: Int, id: Int) -> SyncOutcome {
        guard let record = bookings[id], record.property == property else { return .unknownBooking }
        guard let entry = queues[property][id] else { return .notQueued }
        guard entry.listed else { return .keptChangedSinceListing }
        queues[property][id] = nil
        bookings[id]!.everSynced = true
        syncedByCall[property].insert(id)
        return .removed
    }

    /// A PUSH answered 200: WebHotelier marks the booking synced, if the queue still
    /// holds the version that was pushed.
    mutating func acknowledgePush(property: Int, id: Int, versionCount: Int) {
        guard let entry = queues[property][id], entry.versionCount == versionCount else { return }
        queues[property][id] = nil
        bookings[id]?.everSynced = true
    }
}
