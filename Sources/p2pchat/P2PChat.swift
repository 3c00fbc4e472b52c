import ArgumentParser
import LibP2P

/// The `p2pchat` command line: a thin layer that parses arguments, builds what the command
/// needs and runs it. Results go to stdout, logs to stderr.
@main
struct P2PChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2pchat",
        abstract: "Private, offline-capable peer-to-peer chat over libp2p.",
        subcommands: [
            // Chat
            InitCommand.self, InviteCommand.self, ContactsCommand.self, SendCommand.self, MessagesCommand.self,
            SearchCommand.self, StatusCommand.self, UpCommand.self, SyncCommand.self, DemoCommand.self,
            // Mailbox and IPFS
            MailboxCommand.self, IPFSCommand.self, StorachaCommand.self,
            // libp2p diagnostics
            IDCommand.self, NodeCommand.self, PingCommand.self, IdentifyCommand.self, StreamCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// Tunes the allocator for streaming (see `AllocatorTuning`), then parses and runs.
    static func main() async {
        AllocatorTuning.apply()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
