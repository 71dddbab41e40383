/// A SplitMix64 generator: tiny, fast and identical on every platform, so a seed
/// names exactly one world wherever the sandbox runs.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A generator for one independent stream, e.g. (seed, property, minute): streams
    /// derived this way do not depend on the order in which other streams were used.
    init(_ parts: UInt64...) {
        state = StableHash.combine(parts)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.finalize(state)
    }

    /// True with probability `p` (0 never, 1 always).
    mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double.random(in: 0..<1, using: &self) < p
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &self)
    }
}

/// Order-independent hashing of small tuples; used where a decision must be a
/// pure function of its inputs (which records are malformed, account passwords).
enum StableHash {
    static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func combine(_ parts: [UInt64]) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for part in parts {
            h = finalize(h ^ finalize(part &+ 0x9E37_79B9_7F4A_7C15))
        }
        return h
    }

    /// A value in [0, 1) that is a pure function of `parts`.
    static func unit(_ parts: UInt64...) -> Double {
        Double(combine(parts) >> 11) / Double(1 << 53)
    }
}
