import PostgresClient

/// A row bound for one staging table by COPY, whose raw payload is a slice of a
/// page kept alongside (never a copy per record).
public protocol StagingRow: Sendable {
    /// `COPY staging.table (columns) FROM STDIN`; fixed text, never built from input.
    static var copyStatement: String { get }
    /// The record's bytes within its page, for the `raw` column and for dead letters.
    var raw: Range<Int> { get }
    /// A readable key for dead letters and logs (room/night, rate/night, ...).
    var recordKey: String { get }
    /// The property the row belongs to (cursor feeds carry it per record).
    var propertyCode: String { get }
    func write(to writer: inout PostgresCopyWriter, page: UnsafeRawBufferPointer) throws
}

/// Columns every observation row shares, in the order of the COPY statements.
public struct LoadStamp: Sendable {
    public var source: String
    public var propertyCode: String
    public var observedAt: String
    public var loadDate: String
    public var batchId: String
    public var runId: String

    public init(
        source: String, propertyCode: String, observedAt: String, loadDate: String, batchId: String, runId: String
    ) {
        self.source = source
        self.propertyCode = propertyCode
        self.observedAt = observedAt
        self.loadDate = loadDate
        self.batchId = batchId
        self.runId = runId
    }

    /// The last columns of every observation row, in the COPY statements' order: when
    /// and in which batch and run it landed, then the record's raw bytes.
    func endRow(raw: UnsafeRawBufferPointer, on writer: inout PostgresCopyWriter) throws {
        try writer.appendField(observedAt)
        try writer.appendField(loadDate)
        try writer.appendField(batchId)
        try writer.appendField(runId)
        try writer.appendField(bytes: raw)
        try writer.endRow()
    }
}

/// One room x night of availability.
public struct AvailabilityRow: StagingRow {
    public static let copyStatement = """
        copy staging.availability_observations (source, property_code, room_code, stay_date, allotment, stop_sell,
            min_stay, max_stay, closed_to_arrival, closed_to_departure, observed_at, load_date, batch_id, run_id, raw)
        from stdin
        """

    public var stamp: LoadStamp
    public var roomCode: String
    public var stayDate: String
    public var allotment: Int
    public var stopSell: Bool
    public var minStay: Int
    public var maxStay: Int
    public var closedToArrival: Bool
    public var closedToDeparture: Bool
    public var raw: Range<Int>

    public init(
        stamp: LoadStamp, roomCode: String, stayDate: String, allotment: Int, stopSell: Bool, minStay: Int,
        maxStay: Int, closedToArrival: Bool, closedToDeparture: Bool, raw: Range<Int>
    ) {
        self.stamp = stamp
        self.roomCode = roomCode
        self.stayDate = stayDate
        self.allotment = allotment
        self.stopSell = stopSell
        self.minStay = minStay
        self.maxStay = maxStay
        self.closedToArrival = closedToArrival
        self.closedToDeparture = closedToDeparture
        self.raw = raw
    }
    public var recordKey: String { "\(stamp.propertyCode)/\(roomCode)/\(stayDate)" }
    public var propertyCode: String { stamp.propertyCode }

    public func write(to writer: inout PostgresCopyWriter, page: UnsafeRawBufferPointer) throws {
        try writer.appendField(stamp.source)
        try writer.appendField(stamp.propertyCode)
        try writer.appendField(roomCode)
        try writer.appendField(stayDate)
        try writer.appendField(String(allotment))
        try writer.appendField(stopSell ? "t" : "f")
        try writer.appendField(String(minStay))
        try writer.appendField(String(maxStay))
        try writer.appendField(closedToArrival ? "t" : "f")
        try writer.appendField(closedToDeparture ? "t" : "f")
        try stamp.endRow(raw: UnsafeRawBufferPointer(rebasing: page[raw]), on: &writer)
    }
}

/// One rate x night x occupancy (x channel) price.
public struct RateRow: StagingRow {
    public static let copyStatement = """
        copy staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults, children,
            channel, price, currency, closeout, min_stay, available, record_key, record_hash, source_updated_at, observed_at,
            load_date, batch_id, run_id, raw)
        from stdin
        """

    public var stamp: LoadStamp
    public var stream: String
    public var rateId: String
    public var roomCode: String
    public var stayDate: String
    public var adults: Int
    public var children: Int
    public var channel: String
    /// Exact decimal text as the source sent it, so no binary rounding creeps in.
    public var price: String?
    public var currency: String
    public var closeout: Bool
    public var minStay: Int
    public var available: Int?
    public var sourceKey: String?
    public var sourceHash: String?
    public var sourceUpdatedAt: String?
    public var raw: Range<Int>

    public init(
        stamp: LoadStamp, stream: String, rateId: String, roomCode: String, stayDate: String, adults: Int,
        children: Int, channel: String, price: String?, currency: String, closeout: Bool, minStay: Int, available: Int?,
        sourceKey: String?, sourceHash: String?, sourceUpdatedAt: String?, raw: Range<Int>
    ) {
        self.stamp = stamp
        self.stream = stream
        self.rateId = rateId
        self.roomCode = roomCode
        self.stayDate = stayDate
        self.adults = adults
        self.children = children
        self.channel = channel
        self.price = price
        self.currency = currency
        self.closeout = closeout
        self.minStay = minStay
        self.available = available
        self.sourceKey = sourceKey
        self.sourceHash = sourceHash
        self.sourceUpdatedAt = sourceUpdatedAt
        self.raw = raw
    }
    public var propertyCode: String { stamp.propertyCode }

    public var recordKey: String {
        sourceKey ?? "\(stamp.propertyCode)/\(rateId)/\(stayDate)/\(adults)+\(children)"
    }

    public func write(to writer: inout PostgresCopyWriter, page: UnsafeRawBufferPointer) throws {
        try writer.appendField(stamp.source)
        try writer.appendField(stream)
        try writer.appendField(stamp.propertyCode)
        try writer.appendField(rateId)
        try writer.appendField(roomCode)
        try writer.appendField(stayDate)
        try writer.appendField(String(adults))
        try writer.appendField(String(children))
        try writer.appendField(channel)
        try writer.appendField(price)
        try writer.appendField(currency)
        try writer.appendField(closeout ? "t" : "f")
        try writer.appendField(String(minStay))
        try writer.appendField(available.map(String.init))
        try writer.appendField(sourceKey)
        try writer.appendField(sourceHash)
        try writer.appendField(sourceUpdatedAt)
        try stamp.endRow(raw: UnsafeRawBufferPointer(rebasing: page[raw]), on: &writer)
    }
}
