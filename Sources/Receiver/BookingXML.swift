import OTAIngest

/// Turns a WebHotelier XML PUSH into the JSON notification it stands for, typed by
/// the booking body's documented fields, so an XML push and a JSON pull of the same
/// version carry the same `data` and therefore the same content hash.
///
/// The rule (also in the README): XML has no types, and an empty element stands for
/// null, "", [] or {} alike. A documented field takes its documented type: a number
/// field's text becomes a JSON number when it is one (else it stays a string, so the
/// validation refuses it exactly as it would refuse the JSON), an empty number field
/// becomes null, an empty string field "", an empty array [], an empty object {}. An
/// undocumented element becomes an object when it has child elements (an array when
/// they are all `<item>`), else a string ("" when empty).
enum BookingXML {
    indirect enum FieldType: Sendable {
        case string, number
        case object([String: FieldType])
        case array(FieldType)
        /// An object whose members are not documented one by one.
        case openObject
    }

    static let booking: FieldType = .object([
        "id": .number, "external_id": .string, "property": .string, "status": .number, "statusCode": .string,
        "channelstream": .string, "offline": .number,
        "bookInfo": .object([
            "book_date": .string, "booking_code": .string, "voucher_code": .string, "referer": .string,
            "source": .string, "source_id": .number, "agent": .string, "agent_id": .number,
        ]),
        "roomStay": .object([
            "roomType": .string, "rateID": .number, "board": .string, "from": .string, "to": .string,
            "roomName": .string, "rateName": .string, "rooms": .number,
        ]),
        "clientInfo": .object([
            "firstName": .string, "lastName": .string, "tel": .string, "email": .string, "remarks": .string,
            "country": .string,
        ]),
        "rooms": .array(
            .object([
                "roomNo": .number, "adults": .number, "children": .number, "infants": .number, "price": .number,
                "price_with_tax": .number, "rates": .array(.object(["date": .string, "price_with_tax": .number])),
            ])),
        "extras": .array(.object(["id": .number, "price": .number, "quantity": .number])),
        "pricing": .object([
            "price": .number, "sub_total": .number, "extras": .number, "taxes": .number, "currency": .string,
        ]),
        "constraints": .object(["min_stay": .number, "max_stay": .number, "free_cancel_days": .number]),
        "changes": .array(.object(["user_type": .string, "user_name": .string, "date": .string, "type": .string])),
        "policies": .openObject, "guest_names": .array(.string), "special_requests": .string,
        "additional_fields": .openObject, "related_bookings": .array(.number),
    ])

    static let notification: FieldType = .object(["id": .number, "type": .string, "data": booking])

    /// The JSON bytes of a notification document's root element.
    static func json(_ root: SafeXML.Element) -> [UInt8] {
        var out: [UInt8] = []
        write(root, as: notification, to: &out)
        return out
    }

    private static func write(_ element: SafeXML.Element, as type: FieldType?, to out: inout [UInt8]) {
        switch type ?? inferred(element) {
        case .string:
            writeString(element.text, to: &out)
        case .number:
            let text = trimmed(element.text)
            if text.isEmpty {
                out += Array("null".utf8)
            } else if isJSONNumber(text) {
                out += text
            } else {
                writeString(element.text, to: &out)
            }
        case .array(let itemType):
            out.append(UInt8(ascii: "["))
            for (k, child) in element.children.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(child, as: itemType, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            writeObject(element, members: members, to: &out)
        case .openObject:
            writeObject(element, members: [:], to: &out)
        }
    }

    /// An object's members in document order. A documented array may come in either
    /// shape the dialect allows: one element holding `<item>` children, or the element
    /// repeated once per item (then its occurrences are gathered into one array).
    private static func writeObject(_ element: SafeXML.Element, members: [String: FieldType], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var written = Set<String>()
        for child in element.children where written.insert(child.name).inserted {
            if written.count > 1 { out.append(UInt8(ascii: ",")) }
            writeString(Array(child.name.utf8), to: &out)
            out.append(UInt8(ascii: ":"))
            let type = members[child.name]
            let siblings = element.children.filter { $0.name == child.name }
            if case .array(let itemType) = type,
                siblings.count > 1 || !child.children.allSatisfy({ $0.name == "item" })
                    || (child.children.isEmpty && !trimmed(child.text).isEmpty)
            {
                write(SafeXML.Element(name: child.name, children: siblings), as: .array(itemType), to: &out)
            } else {
                // A repeated undocumented element keeps its last occurrence, as a JSON parser keeps a repeated key.
                write(siblings[siblings.count - 1], as: type, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func inferred(_ element: SafeXML.Element) -> FieldType {
        if element.children.isEmpty { return .string }
        if element.children.allSatisfy({ $0.name == "item" }) { return .array(.openObject) }
        return .openObject
    }

    private static func trimmed(_ text: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(text[first...last])
    }

    /// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    static func isJSONNumber(_ t: [UInt8]) -> Bool {
        var i = 0
        func digits() -> Int {
            let start = i
            while i < t.count, t[i] >= 0x30, t[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < t.count, t[i] == UInt8(ascii: "-") { i += 1 }
        guard i < t.count else { return false }
        if t[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            return false
        }
        if i < t.count, t[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if i < t.count, t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E") {
            i += 1
            if i < t.count, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == t.count
    }

    /// A JSON string of the bytes as they are: invalid UTF-8 stays invalid, so the
    /// booking validation refuses it as it refuses the same bytes in JSON.
    private static func writeString(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
