/// One booking version as an OpenTravel `HotelReservation` (or `HotelResModify`).
/// Pull (Booking.com style) and push (channel-manager style) carry the same content
/// in the shapes their senders use, so the same version means the same thing whichever
/// way it came.
enum OpenTravelReservationXML {
    enum Shape {
        /// One `RoomRate @EffectiveDate` per night, the id as `HotelReservationID @ResID_Value`.
        case pull
        /// `TimeSpan` plus `Rate @EffectiveDate @ExpireDate` runs, the id as `UniqueID Type="14"`.
        case push
    }

    static let namespace = "http://www.opentravel.org/OTA/2003/05"

    static func write(
        _ body: BookingBody, element: String, resStatus: String?, shape: Shape, to w: inout XMLWriter
    ) {
        w.open(
            element,
            [
                ("ResStatus", resStatus), ("CreateDateTime", CivilCalendar.timestampString(seconds: body.bookDate)),
                ("LastModifyDateTime", CivilCalendar.timestampString(seconds: body.otaTime)),
            ])
        if shape == .push { w.open("UniqueID", [("Type", "14"), ("ID", String(body.id))], empty: true) }
        writeChannel(body, to: &w)
        w.open("RoomStays")
        for room in body.rooms { writeRoomStay(body, room: room, shape: shape, to: &w) }
        w.close("RoomStays")
        w.open("ResGuests")
        w.open("ResGuest")
        w.open("Profiles")
        w.open("ProfileInfo")
        w.open("Profile")
        w.open("Customer")
        w.open("PersonName")
        w.element("GivenName", text: body.guest.firstName)
        w.element("Surname", text: body.guest.lastName)
        w.close("PersonName")
        w.element("Email", text: body.guest.email)
        w.close("Customer")
        w.close("Profile")
        w.close("ProfileInfo")
        w.close("Profiles")
        w.close("ResGuest")
        w.close("ResGuests")
        w.open("ResGlobalInfo")
        if shape == .pull {
            w.open("HotelReservationIDs")
            w.open(
                "HotelReservationID",
                [
                    ("ResID_Value", String(body.id)),
                    ("ResID_Date", CivilCalendar.timestampString(seconds: body.bookDate)),
                ],
                empty: true)
            w.close("HotelReservationIDs")
        }
        w.open(
            "Total", [("AmountAfterTax", otaAmount(body.roomsWithTaxCents)), ("CurrencyCode", body.currency)],
            empty: true)
        w.close("ResGlobalInfo")
        w.close(element)
    }

    /// The channel: the OTA's code, the requestor for direct bookings, nothing for phone ones.
    static func writeChannel(_ body: BookingBody, to w: inout XMLWriter) {
        switch body.sourceID {
        case 0:
            w.raw("<POS><Source>")
            w.open("RequestorID", [("Type", "22"), ("ID", body.source)], empty: true)
            w.raw("</Source></POS>")
        case 4:
            break
        default:
            w.raw("<POS><Source><BookingChannel Type=\"7\">")
            w.open("CompanyName", [("Code", body.source)], empty: true)
            w.raw("</BookingChannel></Source></POS>")
        }
    }

    /// The channel a reader of the XML derives (nil: none given, the source's name).
    static func channel(_ body: BookingBody) -> String? {
        body.sourceID == 4 ? nil : body.source
    }

    private static func writeRoomStay(_ body: BookingBody, room: BookingBody.Room, shape: Shape, to w: inout XMLWriter)
    {
        let codes: [(String, String?)] = [("RoomTypeCode", body.roomType), ("RatePlanCode", String(body.rateID))]
        w.open("RoomStay")
        w.open("RoomRates")
        switch shape {
        case .pull:
            for (night, cents) in room.nightlyCents.enumerated() {
                w.open("RoomRate", [("EffectiveDate", CivilCalendar.dateString(days: body.arrivalDay + night))] + codes)
                w.raw("<Rates><Rate>")
                w.open("Base", [("AmountAfterTax", otaAmount(cents)), ("CurrencyCode", body.currency)], empty: true)
                w.raw("</Rate></Rates>")
                w.close("RoomRate")
            }
        case .push:
            w.open("RoomRate", codes)
            w.open("Rates")
            var start = 0
            while start < room.nightlyCents.count {
                var end = start + 1
                while end < room.nightlyCents.count && room.nightlyCents[end] == room.nightlyCents[start] { end += 1 }
                w.open(
                    "Rate",
                    [
                        ("EffectiveDate", CivilCalendar.dateString(days: body.arrivalDay + start)),
                        ("ExpireDate", CivilCalendar.dateString(days: body.arrivalDay + end)),
                    ])
                w.open(
                    "Base", [("AmountAfterTax", otaAmount(room.nightlyCents[start])), ("CurrencyCode", body.currency)],
                    empty: true)
                w.close("Rate")
                start = end
            }
            w.close("Rates")
            w.close("RoomRate")
        }
        w.close("RoomRates")
        w.open("GuestCounts")
        w.open("GuestCount", [("AgeQualifyingCode", "10"), ("Count", String(room.adults))], empty: true)
        if room.children > 0 {
            w.open("GuestCount", [("AgeQualifyingCode", "8"), ("Count", String(room.children))], empty: true)
        }
        w.close("GuestCounts")
        if shape == .push {
            w.open(
                "TimeSpan",
                [
                    ("Start", CivilCalendar.dateString(days: body.arrivalDay)),
                    ("End", CivilCalendar.dateString(days: body.departureDay)),
                ], empty: true)
        }
        let total = room.nightlyCents.reduce(0, +)
        w.open(
            "Total",
            [
                ("AmountAfterTax", otaAmount(total)), ("AmountBeforeTax", otaAmount(body.withoutTax(total))),
                ("CurrencyCode", body.currency),
            ], empty: true)
        w.open("BasicPropertyInfo", [("HotelCode", body.property)], empty: true)
        w.close("RoomStay")
    }
}
