import JSONSyntax

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a backfill file, NDJSON or one JSON array (told apart by the first
/// non-space byte), in fixed-size chunks, and hands it out in parts: a run of
/// the file's bytes as read, with each record's range in it. Records are never
/// decoded or re-encoded here; their bytes become the raw payload as they are.
///
/// Memory stays bounded by the part limits plus one chunk, whatever the file's size.
public struct RecordReader {
    public enum Format: String, Sendable {
        case ndjson
        case array = "json-array"
    }

    /// Consecutive records of the file.
    public struct Part: Sendable {
        /// 0-based part number within the file.
        public var number: Int
        /// The bytes holding the records (and whatever lies between them).
        public var bytes: [UInt8]
        /// Each record's bytes within `bytes`, surrounding whitespace trimmed.
        public var records: [Range<Int>]
        /// The 1-based number of the part's first record in the file.
        public var firstRecord: Int
    }

    /// The file cannot be split into records (an unbalanced JSON array, a record larger than the limit).
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "the file is unreadable at byte \(offset): \(reason)" }
    }

    public struct Limits: Sendable {
        public var chunkBytes: Int
        public var partRecords: Int
        public var partBytes: Int
        public var recordBytes: Int

        public init(
            chunkBytes: Int = 8 << 20, partRecords: Int = 50_000, partBytes: Int = 32 << 20, recordBytes: Int = 64 << 20
        ) {
            self.chunkBytes = chunkBytes
            self.partRecords = max(1, partRecords)
            self.partBytes = partBytes
            self.recordBytes = recordBytes
        }
    }

    private enum Phase {
        case beforeArray, beforeElement, inElement, afterElement, done
    }

    private let fd: Int32
    private let limits: Limits
    private var chunk: [UInt8]
    /// Unhanded bytes; `buffer[0]` is file offset `base`.
    private var buffer: [UInt8] = []
    private var base = 0
    /// Scanning has reached here.
    private var scan = 0
    private var records: [Range<Int>] = []
    private var eof = false
    private var partNumber = 0
    private var recordsHanded = 0
    private(set) public var format: Format?
    // JSON array state.
    private var phase = Phase.beforeArray
    private var recordStart = 0
    private var depth = 0
    private var strings = JSONStringState()
    private var sawElement = false

    public init(fileDescriptor: Int32, limits: Limits = Limits()) {
        fd = fileDescriptor
        self.limits = limits
        chunk = [UInt8](repeating: 0, count: limits.chunkBytes)
    }

    /// Input bytes up to the end of the last part handed out: progress against the file's size.
    public var bytesHanded: Int { base }

    /// The next part, or nil at the end of the file.
    public mutating func next() throws -> Part? {
        while true {
            if format == nil, try !detectFormat() { return nil }
            if try fillPart() { return cut() }
            if eof {
                let truncation = try finish()
                // The complete records before a cut land first; the cut is reported after them.
                if !records.isEmpty { return cut() }
                if let truncation { throw truncation }
                return nil
            }
            let pending = buffer.count - (records.last?.upperBound ?? 0)
            if pending > limits.recordBytes {
                throw Malformed(
                    offset: base + buffer.count, reason: "a record is longer than \(limits.recordBytes) bytes")
            }
            try readChunk()
        }
    }

    /// Reads one chunk onto the buffer; sets `eof` at the end.
    private mutating func readChunk() throws {
        let count = chunk.withUnsafeMutableBytes { bytes -> Int in
            while true {
                let n = read(fd, bytes.baseAddress, bytes.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        if count < 0 {
            throw Malformed(offset: base + buffer.count, reason: "read failed: \(String(cString: strerror(errno)))")
        }
        if count == 0 {
            eof = true
        } else {
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads until the first non-space byte decides the format; false for an empty input.
    private mutating func detectFormat() throws -> Bool {
        while true {
            // Enough bytes to tell a byte order mark from data.
            while buffer.count < 3, !eof { try readChunk() }
            var i = 0
            // A UTF-8 byte order mark is not part of the data.
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { i = 3 }
            while i < buffer.count, Self.isSpace(buffer[i]) { i += 1 }
            if i < buffer.count {
                format = buffer[i] == UInt8(ascii: "[") ? .array : .ndjson
                scan = i
                return true
            }
            if eof { return false }
            try readChunk()
        }
    }

    /// Scans what is buffered; true when a part is full.
    private mutating func fillPart() throws -> Bool {
        switch format! {
        case .ndjson: return scanLines()
        case .array: return try scanArray()
        }
    }

    private func isFull(_ end: Int) -> Bool {
        records.count >= limits.partRecords || end >= limits.partBytes
    }

    private mutating func scanLines() -> Bool {
        buffer.withUnsafeBufferPointer { bytes in
            while scan < bytes.count {
                let start = scan
                guard let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else { return false }
                let newline = bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                scan = newline + 1
                if let line = Self.trimmed(start..<newline, bytes) {
                    records.append(line)
                    if isFull(line.upperBound) { return true }
                }
            }
            return false
        }
    }

    private mutating func scanArray() throws -> Bool {
        try buffer.withUnsafeBufferPointer { bytes in
            while scan < bytes.count {
                let b = bytes[scan]
                switch phase {
                case .beforeArray:
                    // detectFormat stopped on the '['.
                    phase = .beforeElement
                    scan += 1
                case .beforeElement:
                    if Self.isSpace(b) {
                        scan += 1
                    } else if b == UInt8(ascii: "]") {
                        guard !sawElement else { throw Malformed(offset: base + scan, reason: "a ',' before ']'") }
                        phase = .done
                        scan += 1
                    } else {
                        recordStart = scan
                        depth = 0
                        strings = JSONStringState()
                        phase = .inElement
                    }
                case .inElement:
                    if let end = elementEnd(b, at: scan) {
                        records.append(recordStart..<end)
                        sawElement = true
                        phase = .afterElement
                        scan = end
                        if isFull(end) { return true }
                    } else {
                        scan += 1
                    }
                case .afterElement:
                    if Self.isSpace(b) {
                        scan += 1
                    } else if b == UInt8(ascii: ",") {
                        phase = .beforeElement
                        scan += 1
                    } else if b == UInt8(ascii: "]") {
                        phase = .done
                        scan += 1
                    } else {
                        throw Malformed(offset: base + scan, reason: "expected ',' or ']' after an array element")
                    }
                case .done:
                    guard Self.isSpace(b) else {
                        throw Malformed(offset: base + scan, reason: "data after the array's closing ']'")
                    }
                    scan += 1
                }
            }
            return false
        }
    }

    /// Where the element being scanned ends, if byte `b` at `i` ends it. Brackets
    /// inside strings do not count; a bracket mismatch inside an element is the
    /// record's problem (the scanner refuses it), not the file's.
    private mutating func elementEnd(_ b: UInt8, at i: Int) -> Int? {
        switch strings.role(of: b) {
        case .openingQuote, .inString: return nil
        case .closingQuote: return depth == 0 ? i + 1 : nil
        case .structure: break
        }
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 { return i }
            depth -= 1
            if depth == 0 { return i + 1 }
        case UInt8(ascii: ","):
            if depth == 0 { return i }
        case 0x20, 0x09, 0x0A, 0x0D:
            if depth == 0 { return i }
        default:
            break
        }
        return nil
    }

    /// At the end of the input: the last line without a newline, or a check that the
    /// array closed (an array cut short is returned, to be thrown once its complete records are out).
    private mutating func finish() throws -> Malformed? {
        switch format! {
        case .ndjson:
            if scan < buffer.count {
                let line = buffer.withUnsafeBufferPointer { Self.trimmed(scan..<buffer.count, $0) }
                scan = buffer.count
                if let line { records.append(line) }
            }
        case .array:
            guard phase == .done else {
                return Malformed(
                    offset: base + buffer.count,
                    reason:
                        "the JSON array ends early (unclosed '[', '{' or string), after \(recordsHanded + records.count) complete records, which are landed; fix: the file is cut short: complete or re-export it, then load it again"
                )
            }
        }
        return nil
    }

    /// Hands out the buffered records as a part and keeps the bytes after them.
    private mutating func cut() -> Part {
        let end = records.last!.upperBound
        var rest = Array(buffer[end...])
        swap(&rest, &buffer)
        let part = Part(number: partNumber, bytes: rest, records: records, firstRecord: recordsHanded + 1)
        partNumber += 1
        recordsHanded += records.count
        records.removeAll(keepingCapacity: true)
        base += end
        scan -= end
        recordStart -= end
        return part
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    private static func trimmed(_ range: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isSpace(bytes[lower]) { lower += 1 }
        while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
        return lower < upper ? lower..<upper : nil
    }
}
