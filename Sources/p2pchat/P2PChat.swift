import ArgumentParser

/// The `p2pchat` command line: a thin layer that parses arguments, builds what the command
/// needs and runs it. Results go to stdout, logs to stderr.
@main
struct P2PChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2pchat",
        abstract: "Private, offline-capable peer-to-peer chat over libp2p.",
        subcommands: [IDCommand.self, NodeCommand.self, PingCommand.self, IdentifyCommand.self, StreamCommand.self, MailboxCommand.self]
    )

    @OptionGroup var global: GlobalOptions
}
