import ArgumentParser
import ChatNode
import Foundation
import IPFS
import LibP2P
import Multiformats

/// `p2pchat ipfs`: the node's IPFS side — UnixFS add/get over Bitswap, CAR files, serving.
struct IPFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipfs",
        abstract: "Add files to the node's block store, fetch them over Bitswap, import/export CAR files, pin and collect garbage.",
        subcommands: [Add.self, Get.self, CAR.self, Serve.self, Verify.self, Stat.self, GC.self, Pin.self]
    )

    @ParentCommand var root: P2PChat

    /// Opens the IPFS node of the home on an identity's (not yet running) host.
    static func withNode<T: Sendable>(_ global: GlobalOptions, network: Bool, _ body: @Sendable (IPFSNode, LibP2P.Host) async throws -> T) async throws -> T {
        let home = try global.openHome()
        let identity = try home.loadOrCreateIdentity()
        let logger = try global.makeLogger()
        let open: @Sendable (LibP2P.Host) throws -> IPFSNode = { host in
            do {
                return try IPFSNode(home: home.directory, host: host, logger: logger)
            } catch {
                throw CLIError("cannot open the block store in \(home.directory.path)/blocks: \(error)")
            }
        }
        guard network else {
            let host = LibP2P.Host(configuration: HostConfiguration(identity: identity), logger: logger)
            return try await body(try open(host), host)
        }
        return try await HostRunner.withHost(identity: identity, logger: logger) { host in
            let node = try open(host)
            node.register()
            return try await body(node, host)
        }
    }

    /// Runs `body` on the home's block store alone (no identity, no host): the offline
    /// maintenance commands. A failure becomes "cannot `what`: …".
    static func withBlockstore<T>(_ global: GlobalOptions, _ what: String, _ body: (Blockstore) throws -> T) throws -> T {
        let home = try global.openHome()
        let store: Blockstore
        do {
            store = try Blockstore(home: home.directory, logger: try global.makeLogger())
        } catch {
            throw CLIError("cannot open the block store in \(home.directory.path)/blocks: \(error)")
        }
        defer { try? store.close() }
        do { return try body(store) } catch let error as CLIError { throw error } catch {
            throw CLIError("cannot \(what): \(error)")
        }
    }

    /// `268499314 bytes (256.1 MiB)`: exact for scripts, rounded for people.
    static func describe(bytes: UInt64) -> String {
        bytes < 1024 ? "\(bytes) bytes" : "\(bytes) bytes (\(AttachmentSummary.format(bytes: bytes)))"
    }

    static func parseCID(_ text: String) throws -> CID {
        do { return try CID(parsing: text) } catch {
            throw CLIError("invalid CID '\(text)': \(error)")
        }
    }

    /// `p2pchat ipfs add FILE`: imports a file as UnixFS (Kubo-identical CIDs) and pins it.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a file into the block store (UnixFS, pinned); prints its CID.")
        @ParentCommand var parent: IPFSCommand

        @Argument(help: "The file to add.")
        var file: String
        @Option(name: .long, help: "CID version: 0 (Kubo's default) or 1 (implies raw leaves).")
        var cidVersion: Int = 0
        @Flag(name: .long, help: "Store leaves as raw blocks (needs --cid-version 1).")
        var rawLeaves = false

        func validate() throws {
            guard cidVersion == 0 || cidVersion == 1 else { throw ValidationError("--cid-version must be 0 or 1") }
            if rawLeaves && cidVersion == 0 { throw ValidationError("--raw-leaves needs --cid-version 1") }
        }

        func run() async throws {
            let url = URL(fileURLWithPath: file)
            let version: CID.Version = cidVersion == 1 ? .v1 : .v0
            let rawLeaves: Bool? = rawLeaves ? true : nil
            let cid = try await IPFSCommand.withNode(parent.root.global, network: false) { node, _ in
                do {
                    return try node.add(file: url, cidVersion: version, rawLeaves: rawLeaves)
                } catch {
                    throw CLIError("cannot add \(url.path): \(error)")
                }
            }
            Output.line(cid.description)
        }
    }

    /// `p2pchat ipfs get CID --peer ADDR -o FILE`: fetches over Bitswap, verifies, writes the file.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch a UnixFS file over Bitswap from the given peers and write it to a file.")
        @ParentCommand var parent: IPFSCommand

        @Argument(help: "The root CID.")
        var cid: String
        @Option(name: .long, help: "A peer multiaddr ending in /p2p/<id> (repeatable).")
        var peer: [String] = []
        @Option(name: [.short, .customLong("output")], help: "Where to write the file.")
        var output: String

        func run() async throws {
            let root = try IPFSCommand.parseCID(cid)
            let peers = try peer.map(Dialing.parseTarget)
            let url = URL(fileURLWithPath: output)
            let progress = TransferProgress(label: "fetching \(root)")
            let report = try await IPFSCommand.withNode(parent.root.global, network: !peers.isEmpty) { node, _ in
                do {
                    return try await node.get(cid: root, from: peers, to: url, written: { written, fileSize in
                        progress.update(bytes: written, total: fileSize)
                    })
                } catch {
                    progress.finish()
                    throw CLIError("cannot get \(root): \(error)")
                }
            }
            progress.finish()
            let already = report.blocksAlreadyPresent > 0 ? " (\(report.blocksAlreadyPresent) blocks were already stored)" : ""
            Output.line("\(root) \(report.blocksFetched) blocks \(report.bytesFetched) bytes fetched -> \(url.path)\(already)")
        }
    }

    /// `p2pchat ipfs car export|import`.
    struct CAR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "car", abstract: "Export a DAG to a CAR v1 file, or import one.", subcommands: [Export.self, Import.self])
        @ParentCommand var parent: IPFSCommand

        struct Export: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the DAG under CID as a CAR v1 file.")
            @ParentCommand var parent: CAR
            @Argument(help: "The root CID.") var cid: String
            @Option(name: [.short, .customLong("output")], help: "The CAR file to write.") var output: String

            func run() async throws {
                let root = try IPFSCommand.parseCID(cid)
                let url = URL(fileURLWithPath: output)
                let global = parent.parent.root.global
                let count = try await IPFSCommand.withNode(global, network: false) { node, _ in
                    do { return try node.exportCAR(root: root, to: url) } catch {
                        throw CLIError("cannot export \(root): \(error)")
                    }
                }
                Output.line("\(root) \(count) blocks -> \(url.path)")
            }
        }

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Read a CAR v1 file into the block store (verified) and pin its roots.")
            @ParentCommand var parent: CAR
            @Argument(help: "The CAR file.") var file: String

            func run() async throws {
                let url = URL(fileURLWithPath: file)
                let global = parent.parent.root.global
                let roots = try await IPFSCommand.withNode(global, network: false) { node, _ in
                    do { return try node.importCAR(from: url) } catch {
                        throw CLIError("cannot import \(url.path): \(error)")
                    }
                }
                for root in roots { Output.line(root.description) }
            }
        }
    }

    /// `p2pchat ipfs verify`: hashes every stored block and removes rotted ones.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every stored block against its hash; remove (and list) those that no longer match.",
            discussion: "Blocks are served to peers as stored (each peer hashes what it receives); this finds a damaged disk copy. Exits with status 1 if any block was removed.")
        @ParentCommand var parent: IPFSCommand

        func run() async throws {
            let progress = TransferProgress(label: "verifying")
            let result = try IPFSCommand.withBlockstore(parent.root.global, "verify the block store") { store in
                try store.verifyAll { checked, total in
                    progress.update(bytes: UInt64(checked), total: UInt64(total), unit: "blocks")
                }
            }
            progress.finish()
            for multihash in result.removed { Output.line("removed corrupt block \(CID.v1(codec: .raw, multihash: multihash))") }
            Output.line("\(result.intact) blocks intact, \(result.removed.count) corrupt blocks removed")
            if !result.removed.isEmpty { throw ExitCode(1) }
        }
    }

    /// `p2pchat ipfs stat`: what the block store holds (Kubo's `ipfs repo stat`).
    struct Stat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the block store's size: blocks, bytes of block data, bytes on disk, pinned roots.",
            discussion: "Bytes on disk exceed the block data by the database's own pages and log; a deleted block's space in its segment file is freed at once (where the file system can punch holes, else when `ipfs gc` compacts the segment).")
        @ParentCommand var parent: IPFSCommand

        func run() async throws {
            let lines = try IPFSCommand.withBlockstore(parent.root.global, "read the block store") { store in
                [
                    "blocks: \(try store.count())",
                    "size: \(IPFSCommand.describe(bytes: try store.usage()))",
                    "on disk: \(IPFSCommand.describe(bytes: store.diskUsage()))",
                    "pins: \(try store.pinnedRoots().count)",
                ]
            }
            for line in lines { Output.line(line) }
        }
    }

    /// `p2pchat ipfs gc`: deletes the blocks no pinned root reaches (Kubo's `ipfs repo gc`).
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Delete every block no pinned root reaches and compact sparse segment files.",
            discussion: "Exits with status 1, collecting nothing, while another process (an import or a fetch) is writing blocks to the store.")
        @ParentCommand var parent: IPFSCommand

        func run() async throws {
            let result = try IPFSCommand.withBlockstore(parent.root.global, "collect garbage") { try $0.collectGarbage() }
            if result.deferredForWriters {
                throw CLIError("nothing collected: another process (a running import or fetch) is writing blocks to this store; run `p2pchat ipfs gc` again when it has finished")
            }
            Output.line("removed \(result.removedBlocks) blocks, freed \(result.freedBytes) bytes, compacted \(result.compactedSegments) segments")
        }
    }

    /// `p2pchat ipfs pin ls|add|rm`: the recursively pinned roots that `ipfs gc` keeps.
    struct Pin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, add or remove recursive pins (what `ipfs gc` keeps; `ipfs add` pins what it adds).",
            subcommands: [List.self, Add.self, Remove.self])
        @ParentCommand var parent: IPFSCommand

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "Print the pinned roots, one CID per line.")
            @ParentCommand var parent: Pin

            func run() async throws {
                let roots = try IPFSCommand.withBlockstore(parent.parent.root.global, "read the pins") { try $0.pinnedRoots() }
                for root in roots { Output.line(root.description) }
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Pin the DAG under CID recursively; its blocks need not be stored yet.")
            @ParentCommand var parent: Pin
            @Argument(help: "The root CID.") var cid: String

            func run() async throws {
                let root = try IPFSCommand.parseCID(cid)
                try IPFSCommand.withBlockstore(parent.parent.root.global, "pin \(root)") { try $0.pin(root: root) }
                Output.line("pinned \(root) recursively")
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rm", abstract: "Unpin CID; its blocks stay until `ipfs gc`. Exits with status 1 if it was not pinned.")
            @ParentCommand var parent: Pin
            @Argument(help: "The root CID.") var cid: String

            func run() async throws {
                let root = try IPFSCommand.parseCID(cid)
                let wasPinned = try IPFSCommand.withBlockstore(parent.parent.root.global, "unpin \(root)") { try $0.unpin(root: root) }
                guard wasPinned else {
                    throw CLIError("\(root) is not pinned; `p2pchat ipfs pin ls` lists the pinned roots")
                }
                Output.line("unpinned \(root)")
            }
        }
    }

    /// `p2pchat ipfs serve`: a host serving the block store over Bitswap (like `node`).
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the block store over Bitswap; prints one multiaddr per listen address.")
        @ParentCommand var parent: IPFSCommand
        @Option(name: .long, help: "Multiaddr to listen on (repeatable).")
        var listen: [String] = ["/ip4/127.0.0.1/tcp/0"]

        func run() async throws {
            let addresses = try listen.map { text in
                do { return try Multiaddr(text) } catch { throw CLIError("invalid listen address '\(text)': \(error)") }
            }
            try await IPFSCommand.withNode(parent.root.global, network: true) { _, host in
                for address in addresses {
                    let bound: [Multiaddr]
                    do { bound = try await host.listen(on: address) } catch {
                        throw CLIError(error, context: "cannot listen on \(address)")
                    }
                    for full in bound { Output.line(full.description) }
                }
                await HostRunner.waitForTerminationSignal()
            }
        }
    }
}
