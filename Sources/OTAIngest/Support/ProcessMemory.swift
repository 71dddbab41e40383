/// The process's own memory figures, for the summaries that show memory stays flat.
public enum ProcessMemory {
    /// Peak resident memory (VmHWM) in KiB; 0 where /proc is missing.
    public static func peakKilobytes() -> Int { BackfillLoader.peakResidentKilobytes() }
}
