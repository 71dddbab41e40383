import PostgresClient

/// One batch's rows, its refused records and its ledger entry, landed inside the
/// caller's transaction: the one way observation rows reach staging (pulls, loads,
/// cursor feeds), so what is counted, dead-lettered and recorded is the same for all.
public enum StagedBatch {
    /// Lands rows and dead letters and records the batch, inside the caller's transaction.
    /// `entryContext` gives a row PostgreSQL refused the context its dead letter needs
    /// to be replayed (none where the bytes say everything).
    public static func land<Row: StagingRow>(
        _ rows: [Row], _ refused: [RefusedRecord], page: [UInt8], key: BatchLedger.Key, duplicates: Int,
        context: LandingContext, entryContext: @Sendable (Row) -> [String: String] = { _ in [:] },
        on conn: isolated PostgresConnection
    ) async throws {
        let rejected = try await StagingWriter.land(rows, page: page, on: conn)
        var letters = refused.map {
            DeadLetter(
                stream: key.stream, propertyCode: $0.property ?? key.propertyCode, recordKey: $0.key,
                raw: Array(page[$0.raw]), reason: $0.reason, context: $0.context, origin: context.origin)
        }
        // One bad night of a from/to entry spoils the entry: dead-letter it once.
        var seen = Set<Range<Int>>()
        for r in rejected where seen.insert(rows[r.index].raw).inserted {
            letters.append(
                DeadLetter(
                    stream: key.stream, propertyCode: rows[r.index].propertyCode, recordKey: rows[r.index].recordKey,
                    raw: Array(page[rows[r.index].raw]), reason: r.reason, context: entryContext(rows[r.index]),
                    origin: context.origin))
        }
        try await DeadLetterWriter.write(
            letters, source: context.sourceName, runId: context.runId, batchId: key.batchId, on: conn)
        let landed = rows.count - rejected.count
        try await BatchLedger.record(key, rows: landed, duplicates: duplicates, deadLetters: letters.count, on: conn)
        context.stats.add(.records, rows.count + refused.count + duplicates)
        context.stats.add(.landed, landed)
        context.stats.add(.deadLetters, letters.count)
        if !letters.isEmpty {
            context.log.warning(
                "\(letters.count) records sent to dead letters",
                property: key.propertyCode.isEmpty ? nil : key.propertyCode,
                ["batch": key.range])
        }
    }
}
