/// One version of one cursor-feed record. Times are in minutes since the epoch.
struct FeedVersion: Sendable {
    var cell: Int32
    var updatedMinute: Int32
    /// When a newer version replaced this one; `Int32.max` while it is current.
    var supersededMinute: Int32
    var priceCents: Int32
    var available: Int32
}

/// The cursor feed as an append-only log of record versions ordered by
/// (updated_at, id). A traversal reads the log as of its snapshot minute: it sees
/// each record's version current at that minute, so records changing underneath
/// neither jump ahead of the cursor (repeat) nor vanish behind it (skip); the next
/// traversal, started from `updated_after`, picks the newer versions up.
struct InventoryFeedLog: Sendable {
    private(set) var versions: [FeedVersion] = []
    private(set) var current: [Int32]
    private var pending: Set<Int32> = []

    /// Initial versions, with `updated_at` spread over the day before the start so
    /// many records share a timestamp (bucketed by minute, ids ascending within one).
    init(cellCount: Int, startMinute: Int32, seed: UInt64, value: (Int) -> (price: Int, available: Int)) {
        current = Array(repeating: 0, count: cellCount)
        var buckets = Array(repeating: [Int32](), count: 1440)
        for cell in 0..<cellCount {
            let age = Int(StableHash.combine([seed, 8, UInt64(cell)]) % 1440)
            buckets[1439 - age].append(Int32(cell))
        }
        versions.reserveCapacity(cellCount + cellCount / 4)
        for (offset, cells) in buckets.enumerated() {
            let minute = startMinute - 1440 + Int32(offset)
            for cell in cells {
                let v = value(Int(cell))
                current[Int(cell)] = Int32(versions.count)
                versions.append(
                    FeedVersion(
                        cell: cell, updatedMinute: minute, supersededMinute: .max, priceCents: Int32(v.price),
                        available: Int32(v.available)))
            }
        }
    }

    mutating func markChanged(_ cell: Int) {
        pending.insert(Int32(cell))
    }

    /// Appends a version for every cell changed during the minute ending at `minute`.
    mutating func commit(minute: Int32, value: (Int) -> (price: Int, available: Int)) {
        guard !pending.isEmpty else { return }
        for cell in pending.sorted() {
            let v = value(Int(cell))
            let old = Int(current[Int(cell)])
            if versions[old].priceCents == Int32(v.price) && versions[old].available == Int32(v.available) { continue }
            versions[old].supersededMinute = minute
            current[Int(cell)] = Int32(versions.count)
            versions.append(
                FeedVersion(
                    cell: cell, updatedMinute: minute, supersededMinute: .max, priceCents: Int32(v.price),
                    available: Int32(v.available)))
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// A price that changes without an event: the current version is edited in place
    /// and keeps its updated_at, so only a full re-read can notice.
    mutating func drift(cell: Int, price: Int) {
        // A cell already changed this minute gets a new version anyway; editing the old
        // one would make that change look like no change at all.
        guard !pending.contains(Int32(cell)) else { return }
        versions[Int(current[cell])].priceCents = Int32(price)
    }

    /// First position whose updated_at is at or after `minute` (the inclusive bound).
    func firstPosition(atOrAfter minute: Int32) -> Int {
        var lo = 0
        var hi = versions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if versions[mid].updatedMinute < minute { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func isVisible(_ position: Int, snapshot: Int32) -> Bool {
        let v = versions[position]
        return v.updatedMinute <= snapshot && v.supersededMinute > snapshot
    }

    /// Up to `limit` versions visible at `snapshot`, from `position` on, with their
    /// positions, and the position of the next visible version (nil at the end).
    func page(from position: Int, snapshot: Int32, limit: Int) -> (records: [FeedVersion], last: Int?, next: Int?) {
        var records: [FeedVersion] = []
        records.reserveCapacity(min(limit, 8192))
        var p = position
        var last: Int?
        while p < versions.count {
            let v = versions[p]
            if v.updatedMinute > snapshot { return (records, last, nil) }
            if v.supersededMinute > snapshot {
                if records.count == limit { return (records, last, p) }
                records.append(v)
                last = p
            }
            p += 1
        }
        return (records, last, nil)
    }
}
