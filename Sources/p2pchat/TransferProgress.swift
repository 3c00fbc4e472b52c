import ChatNode
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The progress line of a long transfer on stderr: percent (when the total is known), bytes
/// and rate. On a terminal one line is redrawn a few times a second; otherwise a line is
/// printed every few seconds, so logs stay short.
final class TransferProgress: Sendable {
    private struct State {
        var lastPrint: ContinuousClock.Instant?
        var printedOnTerminal = false
    }

    private let label: String
    private let started = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    /// A progress line starting with `label` (e.g. "fetching Qm…").
    init(label: String) {
        self.label = label
    }

    /// Reports `bytes` done of `total` (if known); prints when the line is due. With a `unit`
    /// the figures are counts of it, not bytes.
    func update(bytes: UInt64, total: UInt64?, unit: String? = nil) {
        let now = ContinuousClock.now
        let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(2)
        let due = state.withLock { state -> Bool in
            if let last = state.lastPrint, now - last < interval, bytes != total { return false }
            state.lastPrint = now
            state.printedOnTerminal = isTerminal
            return true
        }
        guard due else { return }
        FileHandle.standardError.write(Data((line(bytes: bytes, total: total, unit: unit, now: now) + (isTerminal ? "\r" : "\n")).utf8))
    }

    /// Ends a redrawn terminal line.
    func finish() {
        if state.withLock({ $0.printedOnTerminal }) {
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    func line(bytes: UInt64, total: UInt64?, unit: String?, now: ContinuousClock.Instant) -> String {
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let format: (UInt64) -> String = { value in unit.map { "\(value) \($0)" } ?? AttachmentSummary.format(bytes: value) }
        var text = label + ": "
        if let total, total > 0 {
            text += "\(min(100, bytes * 100 / total))% \(format(bytes)) of \(format(total))"
        } else {
            text += format(bytes)
        }
        guard unit == nil else { return text }
        let rate = seconds > 0 ? Double(bytes) / seconds / 1e6 : 0
        return text + String(format: ", %.1f MB/s", rate)
    }
}
