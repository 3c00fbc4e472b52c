import Foundation

/// Timestamps are stored as INTEGER milliseconds since the Unix epoch (the wire format's unit).
extension Date {
    /// Milliseconds since 1970, rounded down.
    var millisecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The date `milliseconds` after 1970.
    init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, clamped at zero.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else { return seconds < 0 ? 0 : Int64.max }
        return max(0, total.partialValue + attoseconds / 1_000_000_000_000_000)
    }
}
