import CLibPQ

/// Parameters laid out the way PQexecParams wants them: parallel arrays of types, pointers,
/// lengths and formats, all pointing into one byte buffer that outlives the call.
struct ParameterBuffer {
    private(set) var types: [Oid] = []
    private var offsets: [Int?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []
    private var bytes: [UInt8] = []

    init(_ parameters: [(any PostgresBindable)?], statement: String) throws {
        types.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            let value = parameter?.postgresParameter ?? .null
            types.append(parameter.map { type(of: $0).postgresType.rawValue } ?? 0)
            switch value {
            case .null:
                offsets.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                // libpq reads text parameters as C strings, so a NUL would silently cut the
                // value short; PostgreSQL text cannot hold one anyway, so refuse it here.
                let start = bytes.count
                bytes.append(contentsOf: text.utf8)
                if bytes[start...].contains(0) {
                    throw PostgresError(
                        kind: .client, sqlState: .characterNotInRepertoire,
                        message:
                            "parameter $\(index + 1) contains a NUL character (U+0000), which PostgreSQL text cannot store",
                        statement: statement)
                }
                bytes.append(0)
                offsets.append(start)
                lengths.append(0)
                formats.append(0)
            case .binary(let data):
                offsets.append(bytes.count)
                bytes.append(contentsOf: data)
                lengths.append(Int32(data.count))
                formats.append(1)
            }
        }
        // A trailing byte keeps the buffer non-empty, so every offset, including that of an
        // empty binary value, yields a non-NULL pointer (a NULL pointer would mean SQL NULL).
        bytes.append(0)
    }

    var count: Int32 { Int32(types.count) }

    /// Calls `body` with pointers valid only for its duration.
    func withPointers<R>(
        _ body: (
            UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) throws -> R
    ) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset.map { UnsafePointer(base + $0) } }
            return try types.withUnsafeBufferPointer { types in
                try values.withUnsafeBufferPointer { values in
                    try lengths.withUnsafeBufferPointer { lengths in
                        try formats.withUnsafeBufferPointer { formats in
                            try body(types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}
