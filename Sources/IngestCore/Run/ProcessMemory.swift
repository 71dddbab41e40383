import Foundation

/// The process's own memory figures, for the summaries that show memory stays flat.
public enum ProcessMemory {
    /// Peak resident memory (VmHWM) in KiB, 0 where /proc is missing: recorded in
    /// ops.runs so a load's memory stays visible (it should not grow with the file).
    public static func peakKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).split(whereSeparator: \.isWhitespace).first ?? "") ?? 0
        }
        return 0
    }
}
