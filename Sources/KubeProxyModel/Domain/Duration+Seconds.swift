extension Duration {
    /// This duration in seconds, as a Double (for timeouts compared with dates, logs and metrics).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
