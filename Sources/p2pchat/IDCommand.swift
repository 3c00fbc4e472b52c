import ArgumentParser

/// `p2pchat id`: prints our PeerID, creating the identity on first use.
struct IDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: "Print this home's PeerID (creates the identity on first use).")

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    func run() async throws {
        let identity = try global.openHome().loadOrCreateIdentity()
        Output.line(identity.peerID.description)
    }
}
