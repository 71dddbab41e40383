import Foundation
import PostgresClient

/// `pull rates`: WebHotelier's availability and rate feeds over the stay-date
/// window, chunk by chunk, each chunk a batch landed with its ledger entry in
/// one transaction.
public enum InventoryPull {
    /// What `pull rates` reads, in order.
    public static let streams: [SourceStream] = [.availability, .rates]

    static func endpoint(_ stream: SourceStream) -> String { "manage/\(stream.rawValue)" }

    public static func run(_ context: PullContext, accounts: [PropertyAccount], streams: [SourceStream]) async
        -> [String:
        any Error]
    {
        await PropertyWorkers.run(accounts, context: context) { account, connection, caller in
            let client = WebHotelierClient(account: account, baseURL: context.source.baseURL, caller: caller)
            for stream in streams {
                try await pull(stream, client: client, connection: connection, context: context)
            }
        }
    }

    private static func pull(
        _ stream: SourceStream, client: WebHotelierClient, connection: PostgresConnection, context: PullContext
    ) async throws {
        let code = client.account.propertyCode
        let source = context.source
        let now = context.clock.now()
        let run = context.run
        // A resumed run finishes what it started, whatever the interval says: also a
        // property whose read it began (recording the call) but died before a batch landed,
        // or a rerun after a kill would skip that property until the interval passed.
        let started = try await connection.withIsolation { conn in
            try await !conn.query(
                "select 1 from ops.batches where run_id = $1 and source = $2 and stream = $3 and property_code = $4 limit 1",
                [run.id, source.name, stream.rawValue, code]
            ).isEmpty
        }
        if !started {
            if !run.resumed,
                let next = try await connection.withIsolation({ conn in
                    try await CallLog.notBefore(
                        source: source.name, property: code, endpoint: Self.endpoint(stream),
                        interval: source.feedInterval,
                        now: now, on: conn)
                })
            {
                context.log.info(
                    "\(stream.rawValue) feed was read less than the minimum interval ago; next allowed at \(Timestamps.format(next))",
                    property: code)
                return
            }
            try await connection.withIsolation { conn in
                try await CallLog.record(
                    source: source.name, property: code, endpoint: Self.endpoint(stream), at: now, on: conn)
            }
        }
        var rateRooms: [String: String] = [:]
        var currency = ""
        if stream == .rates {
            currency = try await client.propertyCurrency()
            rateRooms = try await client.rateRooms()
        }
        let today = CivilDate(now)
        let end = today.adding(days: source.stayWindowDays - 1)
        let loadDate = context.loadDate()
        try await connection.withIsolation { conn in
            _ = try await conn.execute("select staging.ensure_load_partitions($1::date)", [loadDate.description])
        }
        var chunkStart = today
        while chunkStart <= end {
            let chunkEnd = min(end, chunkStart.adding(days: source.chunkDays - 1))
            let key = BatchLedger.Key(
                runId: run.id, source: source.name, stream: stream.rawValue, propertyCode: code,
                range: "\(chunkStart)..\(chunkEnd)")
            defer { chunkStart = chunkEnd.adding(days: 1) }
            if try await connection.withIsolation({ conn in try await BatchLedger.isLanded(key, on: conn) }) {
                context.stats.add(.batchesSkipped)
                continue
            }
            let stamp = LoadStamp(
                source: source.name, propertyCode: code, observedAt: context.observedAt(),
                loadDate: loadDate.description, batchId: key.batchId, runId: run.id)
            let window = chunkStart...chunkEnd
            switch stream {
            case .availability:
                let page = try await client.availability(from: chunkStart, to: chunkEnd)
                let parsed = try InventoryPageParser.availability(page, window: window, stamp: stamp)
                try await land(
                    parsed.rows, parsed.refused, page: page.body, key: key, connection: connection, context: context,
                    entryContext: { InventoryPageParser.EntryContext.availability(room: $0.roomCode, window: window) })
            case .rates:
                let page = try await client.rates(from: chunkStart, to: chunkEnd)
                let parsed = try InventoryPageParser.rates(
                    page, window: window, stamp: stamp, rateRooms: rateRooms, currency: currency)
                try await land(
                    parsed.rows, parsed.refused, page: page.body, key: key, connection: connection, context: context,
                    entryContext: {
                        InventoryPageParser.EntryContext.rate(
                            id: $0.rateId, room: $0.roomCode, currency: $0.currency, window: window)
                    })
            case .reservations, .inventory:
                preconditionFailure("pull rates reads \(InventoryPull.streams), not \(stream)")
            }
            context.stats.add(.pages)
        }
    }

    /// Lands one chunk: rows, dead letters and the batch's ledger entry commit together.
    static func land<Row: StagingRow>(
        _ rows: [Row], _ refused: [RefusedRecord], page: [UInt8], key: BatchLedger.Key,
        connection: PostgresConnection, context: PullContext,
        entryContext: @escaping @Sendable (Row) -> [String: String]
    ) async throws {
        try await connection.transaction { conn in
            try await StagedBatch.land(
                rows, refused, page: page, key: key, duplicates: 0, context: context.landing,
                entryContext: entryContext, on: conn)
        }
    }
}
