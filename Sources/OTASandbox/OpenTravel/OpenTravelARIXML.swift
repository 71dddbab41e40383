/// Writes ARI requests as OpenTravel documents (`OTA_HotelAvailNotifRQ`,
/// `OTA_HotelRateAmountNotifRQ`), in a fixed element and attribute order.
enum OpenTravelARIXML {
    /// OpenTravel's weekday names, and the short spellings the dialect accepts too.
    static let dayNames = ["Mon", "Tue", "Weds", "Thur", "Fri", "Sat", "Sun"]
    static let shortDayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    static func document(_ request: OpenTravelARIRequest, echoToken: String, retransmission: Bool) -> [UInt8] {
        var w = XMLWriter()
        let root = request.content.root
        w.open(
            root,
            [
                ("xmlns", request.namespace ? OpenTravelReservationXML.namespace : nil), ("EchoToken", echoToken),
                ("TimeStamp", CivilCalendar.timestampString(seconds: request.time)), ("Version", "1.0"),
                ("RetransmissionIndicator", retransmission ? "true" : nil),
            ])
        let before = w.bytes.count
        var body = XMLWriter()
        write(request.content, hotel: request.hotel, to: &body)
        w.bytes.append(contentsOf: body.bytes)
        if let target = request.padTo {
            // The oversize fault: the same messages again (they change nothing) until the body is big enough.
            while w.bytes.count - before < target { w.bytes.append(contentsOf: body.bytes) }
        }
        w.close(root)
        return w.bytes
    }

    private static func write(_ content: OpenTravelARIContent, hotel: String, to w: inout XMLWriter) {
        switch content {
        case .avail(let messages):
            w.open("AvailStatusMessages", [("HotelCode", hotel)])
            for m in messages {
                w.open("AvailStatusMessage", [("BookingLimit", m.bookingLimit.map(String.init))])
                control(m.control, roomAttribute: "InvTypeCode", to: &w)
                if let stay = m.stay {
                    w.open("LengthsOfStay")
                    w.open(
                        "LengthOfStay", [("MinMaxMessageType", stay.kind.rawValue), ("Time", String(stay.nights))],
                        empty: true)
                    w.close("LengthsOfStay")
                }
                if let status = m.status {
                    let omit = status.restriction == .master && status.omitMaster
                    w.open(
                        "RestrictionStatus",
                        [
                            ("Restriction", omit ? nil : status.restriction.rawValue),
                            ("Status", status.closed ? "Close" : "Open"),
                        ], empty: true)
                }
                w.close("AvailStatusMessage")
            }
            w.close("AvailStatusMessages")
        case .rates(let messages):
            w.open("RateAmountMessages", [("HotelCode", hotel)])
            for m in messages {
                w.open("RateAmountMessage")
                control(m.control, roomAttribute: m.invCode ? "InvCode" : "InvTypeCode", to: &w)
                w.open("Rates")
                w.open("Rate", [("CurrencyCode", m.currencyOnRate ? m.currency : nil)])
                w.open("BaseByGuestAmts")
                for a in m.amounts {
                    w.open(
                        "BaseByGuestAmt",
                        [
                            ("NumberOfGuests", String(a.guests)), ("AgeQualifyingCode", "10"),
                            (m.afterTax ? "AmountAfterTax" : "AmountBeforeTax", otaAmount(a.cents)),
                            ("CurrencyCode", m.currencyOnRate ? nil : m.currency),
                        ], empty: true)
                }
                w.close("BaseByGuestAmts")
                if let extra = m.additionalAdultCents {
                    w.open("AdditionalGuestAmounts")
                    w.open(
                        "AdditionalGuestAmount", [("AgeQualifyingCode", "10"), ("Amount", otaAmount(extra))],
                        empty: true)
                    w.close("AdditionalGuestAmounts")
                }
                w.close("Rate")
                w.close("Rates")
                w.close("RateAmountMessage")
            }
            w.close("RateAmountMessages")
        }
    }

    private static func control(_ c: OpenTravelARIControl, roomAttribute: String, to w: inout XMLWriter) {
        var attributes: [(String, String?)] = [
            ("Start", CivilCalendar.dateString(days: c.start)), ("End", CivilCalendar.dateString(days: c.end)),
            (roomAttribute, c.room), ("RatePlanCode", c.rate),
        ]
        if let days = c.days {
            // Both spellings of Wednesday and Thursday, chosen by the range so the bytes stay a function of the plan.
            let names = c.start % 2 == 0 ? dayNames : shortDayNames
            for (i, on) in days.enumerated() { attributes.append((names[i], on ? "true" : "false")) }
        }
        w.open("StatusApplicationControl", attributes, empty: true)
    }
}
