import CLibPQ

/// Writes rows in COPY's text format into a fixed buffer and streams it to the server with
/// PQputCopyData whenever it fills, so memory stays bounded whatever the row count.
///
/// It exists only inside a `copyIn` body (it is non-copyable and passed `inout`), where it runs
/// on the connection's thread. Fields are escaped as COPY text format requires: backslash, tab,
/// newline and carriage return get a backslash, and NULL is `\N`.
public struct PostgresCopyWriter: ~Copyable {
    /// Bytes buffered before each PQputCopyData: large enough that per-call costs vanish,
    /// small enough to stay in cache.
    public static let bufferSize = 256 * 1024

    private let handle: OpaquePointer
    private let buffer: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var fieldsInRow = 0
    /// Rows ended so far.
    public private(set) var rowCount = 0
    /// Set when libpq refused data: the server has already failed the COPY, or the session died.
    private(set) var interrupted = false

    init(handle: OpaquePointer) {
        self.handle = handle
        buffer = .allocate(capacity: Self.bufferSize)
    }

    deinit { buffer.deallocate() }

    /// Appends a whole row; nil fields are NULL.
    public mutating func appendRow(_ fields: [String?]) throws {
        for field in fields { try appendField(field) }
        try endRow()
    }

    /// Appends one field of the current row; nil is NULL.
    public mutating func appendField(_ value: String?) throws {
        guard var value else { return try appendNull() }
        try value.withUTF8 { try appendField(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends one field from raw UTF-8 bytes, escaping as it copies: the fast path for landing
    /// records that are already bytes (e.g. an NDJSON line as a jsonb field).
    public mutating func appendField(bytes: UnsafeRawBufferPointer) throws {
        try startField()
        guard var input = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = bytes.count
        while remaining > 0 {
            if Self.bufferSize - count < 2 { try flush() }
            // Each input byte becomes at most two output bytes, so this chunk always fits.
            let chunk = min(remaining, (Self.bufferSize - count) / 2)
            var output = buffer + count
            for index in 0..<chunk {
                let byte = input[index]
                // One comparison rules out almost every byte: all four specials are <= 0x0D or 0x5C.
                if byte > 0x0D && byte != 0x5C {
                    output.pointee = byte
                    output += 1
                    continue
                }
                switch byte {
                case 0x5C: output[0] = 0x5C; output[1] = 0x5C; output += 2
                case 0x09: output[0] = 0x5C; output[1] = UInt8(ascii: "t"); output += 2
                case 0x0A: output[0] = 0x5C; output[1] = UInt8(ascii: "n"); output += 2
                case 0x0D: output[0] = 0x5C; output[1] = UInt8(ascii: "r"); output += 2
                default: output.pointee = byte; output += 1
                }
            }
            count = output - buffer
            input += chunk
            remaining -= chunk
        }
    }

    /// Appends one field from raw UTF-8 bytes.
    public mutating func appendField(bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { try appendField(bytes: $0) }
    }

    /// Appends a NULL field.
    public mutating func appendNull() throws {
        try startField()
        try appendUnescaped(0x5C)
        try appendUnescaped(UInt8(ascii: "N"))
    }

    /// Ends the current row.
    public mutating func endRow() throws {
        try appendUnescaped(0x0A)
        fieldsInRow = 0
        rowCount += 1
    }

    /// Sends what is buffered. Also checks for task cancellation, so a cancelled load stops
    /// within one buffer.
    mutating func flush() throws {
        guard count > 0, !interrupted else { return }
        try Task.checkCancellation()
        if PQputCopyData(handle, UnsafeRawPointer(buffer).assumingMemoryBound(to: CChar.self), Int32(count)) != 1 {
            interrupted = true
            throw CopyInterrupted()
        }
        count = 0
    }

    private mutating func startField() throws {
        if fieldsInRow > 0 { try appendUnescaped(0x09) }
        fieldsInRow += 1
    }

    private mutating func appendUnescaped(_ byte: UInt8) throws {
        if count == Self.bufferSize { try flush() }
        buffer[count] = byte
        count += 1
    }
}

/// Thrown by the writer when libpq refuses data; `copyIn` replaces it with the server's error.
struct CopyInterrupted: Error {}
