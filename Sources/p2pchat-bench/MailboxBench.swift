import Mailbox

/// Mailbox figures for the benchmark run: deposits per second from concurrent senders into one
/// durable mailbox (1 KiB envelopes), and the time for one recipient to drain a full queue.
func mailboxBenchmark(senders: Int, deposits: Int, drain: Int) async throws -> (depositsPerSecond: Double, drainSeconds: Double) {
    try await MailboxBenchmark.run(senders: senders, deposits: deposits, drain: drain)
}
