/// Splits RFC 4180 CSV text into records of fields. A quoted field may hold
/// commas, quotes (doubled) and line breaks; an empty unquoted field is nil, as
/// PostgreSQL's COPY ... CSV reads it.
enum CSVRecords {
    static func parse(_ text: String) throws -> [[String?]] {
        var records: [[String?]] = []
        var record: [String?] = []
        var field = ""
        var quoted = false
        var inQuotes = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending = iterator.next()
        func endField() {
            record.append(field.isEmpty && !quoted ? nil : field)
            field = ""
            quoted = false
        }
        while let scalar = pending {
            pending = iterator.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !quoted:
                inQuotes = true
                quoted = true
            case ",":
                endField()
            case "\r":
                continue
            case "\n":
                endField()
                records.append(record)
                record = []
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { throw CSVError(message: "a quoted field is not closed") }
        if !field.isEmpty || quoted || !record.isEmpty {
            endField()
            records.append(record)
        }
        return records
    }
}

struct CSVError: Error {
    var message: String
}
