import Hummingbird

/// Writes cursor-feed pages straight into a ByteBuffer. This is the hot path of the
/// pull benchmarks, so it uses the layout's precomputed bytes and no JSONEncoder.
struct InventoryFeedEncoder {
    let layout: WorldLayout
    let seed: UInt64
    let malformedRate: Double
    /// SandboxConfiguration.cursorFeedPriceOffsetCents.
    let priceOffsetCents: Int

    func encode(_ records: [FeedVersion], nextCursor: String?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + records.count * 240)
        buffer.writeStaticString("{\"results\":[")
        var cachedMinute: Int32 = -1
        var cachedTimestamp: [UInt8] = []
        for (i, v) in records.enumerated() {
            if i > 0 { buffer.writeStaticString(",") }
            if v.updatedMinute != cachedMinute {
                cachedMinute = v.updatedMinute
                cachedTimestamp.removeAll(keepingCapacity: true)
                CivilCalendar.appendTimestamp(seconds: Int64(v.updatedMinute) * 60, to: &cachedTimestamp)
            }
            write(v, timestamp: cachedTimestamp, to: &buffer)
        }
        buffer.writeStaticString("],\"next_cursor\":")
        if let nextCursor {
            buffer.writeStaticString("\"")
            buffer.writeString(nextCursor)
            buffer.writeStaticString("\"}")
        } else {
            buffer.writeStaticString("null}")
        }
        return buffer
    }

    private func write(_ v: FeedVersion, timestamp: [UInt8], to buffer: inout ByteBuffer) {
        let cell = layout.cell(Int(v.cell))
        let broken =
            malformedRate > 0
            ? Malformation.decide(seed: seed, rate: malformedRate, surface: .inventory, key: [UInt64(v.cell)]) : nil
        guard let broken else {
            let date = layout.dateBytes[cell.night]
            buffer.writeBytes(layout.feedIDPrefix[cell.rate])
            buffer.writeBytes(date)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(cell.adults))
            buffer.writeBytes(layout.feedMiddle[cell.rate])
            buffer.writeBytes(date)
            buffer.writeStaticString("\",\"adults\":")
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(cell.adults))
            buffer.writeStaticString(",\"price\":")
            writeCents(Int(v.priceCents) + priceOffsetCents, to: &buffer)
            buffer.writeBytes(layout.feedCurrency[cell.rate])
            buffer.writeStaticString(",\"available\":")
            writeInt(Int(v.available), to: &buffer)
            buffer.writeStaticString(",\"updated_at\":\"")
            buffer.writeBytes(timestamp)
            buffer.writeStaticString("\"}")
            return
        }
        writeMalformed(v, cell: cell, broken: broken, timestamp: timestamp, to: &buffer)
    }

    /// The slow path: a record broken the way the world says.
    private func writeMalformed(
        _ v: FeedVersion, cell: WorldLayout.Cell, broken: MalformationKind, timestamp: [UInt8],
        to buffer: inout ByteBuffer
    ) {
        let rate = layout.rates[cell.rate]
        let date = layout.dateBytes[cell.night]
        buffer.writeStaticString("{\"id\":\"")
        buffer.writeBytes(layout.propertyCodeBytes[rate.property])
        buffer.writeStaticString(":")
        buffer.writeBytes(layout.roomCodeBytes[rate.room])
        buffer.writeStaticString(":")
        buffer.writeBytes(layout.rateIDBytes[cell.rate])
        buffer.writeStaticString(":")
        buffer.writeBytes(date)
        buffer.writeStaticString(":")
        writeInt(cell.adults, to: &buffer)
        buffer.writeStaticString("\",\"property_id\":\"")
        buffer.writeBytes(layout.propertyCodeBytes[rate.property])
        buffer.writeStaticString("\",\"room_code\":\"")
        buffer.writeBytes(layout.roomCodeBytes[rate.room])
        if broken == .invalidUTF8 { buffer.writeBytes(Malformation.invalidUTF8Bytes) }
        buffer.writeStaticString("\",\"rate_plan_code\":\"")
        buffer.writeBytes(layout.rateIDBytes[cell.rate])
        if broken == .nulInString { buffer.writeStaticString("\\u0000") }
        buffer.writeStaticString("\",\"stay_date\":\"")
        if broken == .impossibleDate {
            buffer.writeString(Malformation.impossibleDate(near: layout.firstDay + cell.night))
        } else {
            buffer.writeBytes(date)
        }
        buffer.writeStaticString("\",\"adults\":")
        writeInt(cell.adults, to: &buffer)
        buffer.writeStaticString(",\"price\":")
        if broken == .wrongType { buffer.writeStaticString("\"") }
        writeCents(Int(v.priceCents) + priceOffsetCents, to: &buffer)
        if broken == .wrongType { buffer.writeStaticString("\"") }
        buffer.writeStaticString(",\"currency\":\"")
        buffer.writeBytes(layout.currencyBytes[rate.property])
        buffer.writeStaticString("\"")
        if broken != .missingKey {
            buffer.writeStaticString(",\"available\":")
            writeInt(broken == .negativeAllotment ? -Int(v.available) - 1 : Int(v.available), to: &buffer)
        }
        buffer.writeStaticString(",\"updated_at\":\"")
        buffer.writeBytes(timestamp)
        buffer.writeStaticString("\"}")
    }

    private func writeInt(_ value: Int, to buffer: inout ByteBuffer) {
        if value >= 0 && value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: [UInt8] = []
        JSONText.appendInt(value, to: &digits)
        buffer.writeBytes(digits)
    }

    private func writeCents(_ cents: Int, to buffer: inout ByteBuffer) {
        // Up to 9,999,999.99 without allocating: digits are written back to front.
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            var i = 16
            var v = cents.magnitude
            for position in 0..<3 {
                i -= 1
                raw[i] = position == 2 ? UInt8(ascii: ".") : UInt8(ascii: "0") + UInt8(v % 10)
                if position != 2 { v /= 10 }
            }
            repeat {
                i -= 1
                raw[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0 && i > 1
            if cents < 0 {
                i -= 1
                raw[i] = UInt8(ascii: "-")
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[i..<16]))
        }
    }
}
