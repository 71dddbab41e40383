/// The booking body as JSON (the `data` of /reservation/{id} and of PUSH), with a
/// malformation applied where the world says the version is broken.
extension BookingBody {
    func json(malformation: MalformationKind? = nil) -> JSONValue {
        var roomStay: [JSONMember] = [
            "roomType" => .string(roomType), "rateID" => .int(rateID), "board" => .string(board),
            "from" => .string(CivilCalendar.dateString(days: arrivalDay)),
            "to" => .string(CivilCalendar.dateString(days: departureDay)),
            "roomName" => .string(roomName), "rateName" => .string(rateName), "rooms" => .int(rooms.count),
        ]
        if malformation == .missingKey { roomStay.remove(at: 3) }
        if malformation == .impossibleDate {
            roomStay[roomStay.firstIndex { $0.key == "to" }!].value = .string(
                Malformation.impossibleDate(near: departureDay))
        }
        let lastName: JSONValue =
            malformation == .invalidUTF8
            ? .rawString(Array(guest.lastName.utf8) + Malformation.invalidUTF8Bytes) : .string(guest.lastName)
        let remarks = malformation == .nulInString ? guest.remarks + "\u{0}" : guest.remarks
        let withTax = roomsWithTaxCents
        let subTotal = withoutTax(withTax)
        return .object([
            "id" => .int(id),
            "external_id" => .string(externalID),
            "property" => .string(property),
            "status" => malformation == .wrongType
                ? .string(confirmed ? "confirmed" : "cancelled") : .int(confirmed ? 1 : 0),
            "statusCode" => .string(confirmed ? "CONFIRMED" : "CANCELLED"),
            "channelstream" => .string(channelStream),
            "offline" => .int(0),
            "bookInfo"
                => .object([
                    "book_date" => .string(CivilCalendar.timestampString(seconds: bookDate)),
                    "booking_code" => .string(bookingCode), "voucher_code" => .string(""), "referer" => .string(""),
                    "source" => .string(source), "source_id" => .int(sourceID), "agent" => .string(agent),
                    "agent_id" => .int(0),
                ]),
            "roomStay" => .object(roomStay),
            "rooms"
                => .array(
                    rooms.enumerated().map { index, room in
                        let roomWithTax = room.nightlyCents.reduce(0, +)
                        return .object([
                            "roomNo" => .int(index + 1), "adults" => .int(room.adults),
                            "children" => .int(room.children),
                            "infants" => .int(room.infants), "price" => .cents(withoutTax(roomWithTax)),
                            "price_with_tax" => .cents(roomWithTax),
                            "rates"
                                => .array(
                                    room.nightlyCents.enumerated().map { night, cents in
                                        .object([
                                            "date" => .string(CivilCalendar.dateString(days: arrivalDay + night)),
                                            "price_with_tax" => .cents(cents),
                                        ])
                                    }),
                        ])
                    }),
            "clientInfo"
                => .object([
                    "firstName" => .string(guest.firstName), "lastName" => lastName, "tel" => .string(guest.phone),
                    "email" => .string(guest.email), "remarks" => .string(remarks), "country" => .string(guest.country),
                ]),
            "guest_names" => .array(guestNames.map { .string($0) }),
            "special_requests" => .string(specialRequests),
            "additional_fields" => .object([]),
            "policies"
                => .object([
                    "cancellation"
                        => .string(
                            freeCancelDays > 0
                                ? "Free cancellation up to \(freeCancelDays) days before arrival." : "Non-refundable.")
                ]),
            "related_bookings" => .array(relatedBookings.map { .int($0) }),
            "extras"
                => .array(
                    extras.map {
                        .object(["id" => .int($0.id), "price" => .cents($0.cents), "quantity" => .int($0.quantity)])
                    }
                ),
            "pricing"
                => .object([
                    "price" => .cents(withTax + extrasCents), "sub_total" => .cents(subTotal),
                    "extras" => .cents(extrasCents), "taxes" => .cents(withTax - subTotal),
                    "currency" => .string(currency),
                ]),
            "constraints"
                => .object([
                    "min_stay" => .int(minStay), "max_stay" => .int(maxStay),
                    "free_cancel_days" => .int(freeCancelDays),
                ]),
            "changes"
                => .array(
                    changes.map {
                        .object([
                            "user_type" => .string($0.userType), "user_name" => .string($0.userName),
                            "date" => .string(CivilCalendar.timestampString(seconds: $0.date)),
                            "type" => .string($0.type),
                        ])
                    }),
        ])
    }
}

/// XML for PUSH in XML format: one element per key, arrays as repeated <item>.
enum XMLRendering {
    static func document(root: String, _ members: [JSONMember]) -> [UInt8] {
        var out = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>".utf8)
        append(.object(members), named: root, to: &out)
        return out
    }

    static func append(_ value: JSONValue, named name: String, to out: inout [UInt8]) {
        out.append(contentsOf: "<\(name)>".utf8)
        switch value {
        case .null: break
        case .bool(let b): out.append(contentsOf: (b ? "1" : "0").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .cents(let c): JSONText.appendCents(c, to: &out)
        case .double(let d): out.append(contentsOf: "\(d)".utf8)
        case .string(let s): escape(Array(s.utf8), to: &out)
        case .rawString(let bytes): escape(bytes, to: &out)
        case .array(let items): for item in items { append(item, named: "item", to: &out) }
        case .object(let members): for m in members { append(m.value, named: m.key, to: &out) }
        }
        out.append(contentsOf: "</\(name)>".utf8)
    }

    private static func escape(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes {
            switch b {
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            default: out.append(b)
            }
        }
    }
}
