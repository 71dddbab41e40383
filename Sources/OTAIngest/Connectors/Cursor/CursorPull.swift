import Foundation
import PostgresClient

/// `pull inventory`: a cursor feed read incrementally.
///
/// Each page lands in one transaction together with the watermark it reaches:
/// `updated_after` (inclusive), the cursor to resume an unfinished traversal,
/// and the (key, hash) pairs already landed at exactly `updated_after`, so a
/// re-read of that instant neither loses nor doubles them.
public enum CursorPull {
    static let stream = "inventory"

    struct Watermark: Sendable {
        var updatedAfter: Date?
        var updatedAfterText: String?
        var cursor: String?
        /// "key hash" pairs landed at exactly updatedAfter.
        var boundary = Boundary()
    }

    /// The boundary's entries in the order they landed, as they are stored (sorting thousands
    /// of entries with every page was on the landing's path), with a set for lookups.
    struct Boundary: Sendable {
        private(set) var inOrder: [String] = []
        private var members = Set<String>()

        init(_ entries: [String] = []) {
            for entry in entries { insert(entry) }
        }

        func contains(_ entry: String) -> Bool { members.contains(entry) }

        mutating func insert(_ entry: String) {
            if members.insert(entry).inserted { inOrder.append(entry) }
        }
    }

    public static func run(_ context: PullContext, token: String) async throws {
        let source = context.source
        let connection = try await PostgresConnection.connect(context.databaseURL)
        let lock = PostgresConnection.advisoryLockKey("ota-ingest property: \(source.name)/")
        guard try await connection.tryAdvisoryLock(lock) else {
            context.stats.add(.skippedProperties)
            context.log.warning("feed is being read by another process; skipped")
            await connection.close()
            return
        }
        do {
            try await traverse(context, token: token, connection: connection)
            _ = try await connection.advisoryUnlock(lock)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func traverse(_ context: PullContext, token: String, connection: PostgresConnection) async throws {
        let source = context.source
        let run = context.run
        let client = CursorClient(baseURL: source.baseURL, token: token, caller: context.makeCaller())
        var mark = try await connection.withIsolation { try await load(source.name, on: $0) }
        var repeats = RepeatFilter(resuming: mark)
        let loadDate = context.loadDate()
        try await connection.withIsolation { conn in
            _ = try await conn.execute("select staging.ensure_load_partitions($1::date)", [loadDate.description])
        }
        var pageNumber = 0
        var page = try await fetch(
            client, context, loadDate: loadDate, cursor: mark.cursor, updatedAfterText: mark.updatedAfterText)
        while true {
            pageNumber += 1
            // Fetch and parse the next page while this one lands: the HTTP session, the
            // parsing and the database connection each work on their own thread, so the
            // client's CPU overlaps the server's.
            let prefetch = page.page.nextCursor.map { cursor in
                Task { try await fetch(client, context, loadDate: loadDate, cursor: cursor, updatedAfterText: nil) }
            }
            var duplicates = 0
            var next = mark
            next.cursor = page.page.nextCursor
            // Whatever fails while this page lands, the next page's fetch is not left running.
            do {
                let key = page.key
                var rows: [RateRow] = []
                rows.reserveCapacity(page.valid.count)
                // The (key, hash) pairs at the newest updated_at so far; strings are built only at the end.
                var atNewest: [(key: String, hash: UInt64)] = []
                var carried = true
                if repeats.needsEveryHash(page.valid.lazy.map(\.parsed.updatedAt)) {
                    let landed = try await connection.withIsolation { conn in
                        try await conn.query(
                            "select record_hash from staging.rate_observations where run_id = $1 and source = $2 and stream = $3",
                            [run.id, source.name, stream]
                        ).compactMap { UInt64(try $0.decode(String.self, at: 0), radix: 16) }
                    }
                    repeats.rememberEvery(landed)
                }
                for (parsed, row) in page.valid {
                    if (parsed.updatedAt == mark.updatedAfter
                        && mark.boundary.contains(parsed.key + " " + parsed.hashText))
                        || repeats.isRepeat(parsed)
                    {
                        duplicates += 1
                        continue
                    }
                    rows.append(row)
                    if next.updatedAfter.map({ parsed.updatedAt > $0 }) ?? true {
                        next.updatedAfter = parsed.updatedAt
                        next.updatedAfterText = parsed.updatedAtText
                        atNewest.removeAll(keepingCapacity: true)
                        carried = false
                    }
                    if parsed.updatedAt == next.updatedAfter { atNewest.append((parsed.key, parsed.hash)) }
                }
                if !carried { next.boundary = Boundary() }
                for entry in atNewest { next.boundary.insert(entry.key + " " + String(entry.hash, radix: 16)) }
                let landedRows = rows
                let refusedRecords = page.refused
                let body = page.page.body
                let dups = duplicates
                let newMark = next
                try await connection.transaction { conn in
                    if try await BatchLedger.isLanded(key, on: conn) { return }
                    try await StagedBatch.land(
                        landedRows, refusedRecords, page: body, key: key, duplicates: dups,
                        context: context.landing, on: conn)
                    try await save(newMark, source: source.name, runId: run.id, on: conn)
                }
            } catch {
                prefetch?.cancel()
                throw error
            }
            context.stats.add(.pages)
            context.stats.add(.duplicates, duplicates)
            mark = next
            guard let prefetch else { break }
            page = try await prefetch.value
        }
        context.log.info("inventory traversal complete", ["pages": String(pageNumber)])
    }

    /// Finds a record repeated within one traversal (the same bytes on a later page).
    ///
    /// Repeated bytes carry the same `updated_at`. While the feed comes in `updated_at`
    /// order, as incremental feeds do, a repeat can only be of a record at the newest
    /// instant so far, so only those hashes are kept: memory stays the size of one
    /// instant instead of growing 20 bytes a record (265 MB at 9 million). The first
    /// record out of order switches it, for the rest of the traversal, to every hash
    /// this run landed, read back from staging: exact either way.
    struct RepeatFilter {
        private var hashes = Set<UInt64>()
        /// The instant `hashes` holds, while in order; nil once every hash is kept.
        private var instant: Date?
        private var everyHash = false

        /// A resumed traversal starts from the watermark's boundary: the records at
        /// its newest instant, which is where a repeat of an in-order feed can come from.
        init(resuming mark: Watermark) {
            guard mark.cursor != nil, let at = mark.updatedAfter else { return }
            instant = at
            for entry in mark.boundary.inOrder {
                if let hex = entry.split(separator: " ").last, let hash = UInt64(hex, radix: 16) { hashes.insert(hash) }
            }
        }

        /// True when this page breaks `updated_at` order: the caller then hands every
        /// hash the run has landed to `rememberEvery` before filtering the page.
        func needsEveryHash(_ updatedAt: some Sequence<Date>) -> Bool {
            guard !everyHash else { return false }
            var newest = instant
            for at in updatedAt {
                if let newest, at < newest { return true }
                newest = at
            }
            return false
        }

        mutating func rememberEvery(_ landed: [UInt64]) {
            everyHash = true
            instant = nil
            hashes.formUnion(landed)
        }

        mutating func isRepeat(_ record: InventoryRecordParser.Parsed) -> Bool {
            if !everyHash, instant.map({ record.updatedAt > $0 }) ?? true {
                hashes.removeAll(keepingCapacity: true)
                instant = record.updatedAt
            }
            return !hashes.insert(record.hash).inserted
        }
    }

    /// A page as the landing loop takes it: fetched, each record validated into a row
    /// or refused, with the batch key its cursor gives it.
    struct ParsedPage: Sendable {
        var page: CursorClient.Page
        var key: BatchLedger.Key
        var valid: [(parsed: InventoryRecordParser.Parsed, row: RateRow)]
        var refused: [RefusedRecord]
    }

    /// Reads one page (`cursor`, or the first from `updatedAfterText`) and parses it.
    /// Pure but for the HTTP call, so it can run ahead of the landing loop.
    static func fetch(
        _ client: CursorClient, _ context: PullContext, loadDate: CivilDate, cursor: String?,
        updatedAfterText: String?
    ) async throws -> ParsedPage {
        let run = context.run
        let source = context.source
        let page = try await client.page(limit: source.pageSize, updatedAfter: updatedAfterText, cursor: cursor)
        let key = BatchLedger.Key(
            runId: run.id, source: source.name, stream: stream, propertyCode: "",
            range: "cursor:\(cursor ?? "start@" + (updatedAfterText ?? "-"))")
        let stamp = LoadStamp(
            source: source.name, propertyCode: "", observedAt: context.observedAt(), loadDate: loadDate.description,
            batchId: key.batchId, runId: run.id)
        let memo = InventoryRecordParser.TimestampMemo()
        var valid: [(parsed: InventoryRecordParser.Parsed, row: RateRow)] = []
        valid.reserveCapacity(page.records.count)
        var refused: [RefusedRecord] = []
        page.body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            for record in page.records {
                do {
                    valid.append(try InventoryRecordParser.parse(record, scanner, stamp: stamp, memo: memo))
                } catch let refusal as InventoryRecordParser.Refusal {
                    refused.append(
                        RefusedRecord(raw: record.range, key: keyGuess(record, scanner), reason: refusal.reason))
                } catch {
                    refused.append(
                        RefusedRecord(raw: record.range, key: keyGuess(record, scanner), reason: "\(error)"))
                }
            }
        }
        return ParsedPage(page: page, key: key, valid: valid, refused: refused)
    }

    /// The refused record's id for its dead letter, without any NUL (which text cannot hold).
    static func keyGuess(_ record: JSONScanner.Value, _ scanner: JSONScanner) -> String {
        guard record.kind == .object, let id = try? scanner.member("id", of: record), let text = try? scanner.string(id)
        else {
            return ""
        }
        return text.utf8.contains(0) ? String(text.unicodeScalars.filter { $0 != "\u{0}" }) : text
    }

    static func load(_ source: String, on connection: isolated PostgresConnection) async throws -> Watermark {
        let rows = try await connection.query(
            """
            select updated_after, to_char(updated_after at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   cursor, boundary_keys::text
            from ops.watermarks where source = $1 and stream = $2 and property_code = ''
            """, [source, stream])
        guard let row = rows.first else { return Watermark() }
        let boundaryJSON = try row.decode(String.self, at: 3)
        let keys = (try? JSONSerialization.jsonObject(with: Data(boundaryJSON.utf8))) as? [String] ?? []
        return Watermark(
            updatedAfter: try row.decode(Date?.self, at: 0), updatedAfterText: try row.decode(String?.self, at: 1),
            cursor: try row.decode(String?.self, at: 2), boundary: Boundary(keys))
    }

    static func save(_ mark: Watermark, source: String, runId: String, on connection: isolated PostgresConnection)
        async throws
    {
        let keys = jsonArray(mark.boundary.inOrder)
        try await connection.execute(
            """
            insert into ops.watermarks (source, stream, property_code, updated_after, cursor, boundary_keys, run_id)
            values ($1, $2, '', $3::timestamptz, $4, $5::jsonb, $6)
            on conflict (source, stream, property_code) do update
               set updated_after = excluded.updated_after, cursor = excluded.cursor,
                   boundary_keys = excluded.boundary_keys, run_id = excluded.run_id, updated_at = now()
            """, [source, stream, mark.updatedAfter.map(Timestamps.format), mark.cursor, keys, runId])
    }

    /// The boundary as a JSON array of strings. Written with every page, and where many records
    /// share one updated_at it holds thousands of entries: Foundation's serializer (bridged
    /// objects, per-character escaping) was a sixth of the pull's own CPU at 9 million records.
    static func jsonArray(_ strings: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(strings.reduce(2) { $0 + $1.utf8.count + 3 })
        let hex = Array("0123456789abcdef".utf8)
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    out.append(UInt8(ascii: "\\"))
                    out.append(byte)
                case 0..<0x20:
                    out.append(contentsOf: Array("\\u00".utf8))
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }
}
