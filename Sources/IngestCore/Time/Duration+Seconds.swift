extension Duration {
    /// Seconds as a Double, for summaries, counters and SQL intervals.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
