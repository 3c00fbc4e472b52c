// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "P2PChat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "p2pchat", targets: ["p2pchat"]),
        .library(name: "Multiformats", targets: ["Multiformats"]),
        .library(name: "LibP2P", targets: ["LibP2P"]),
        .library(name: "IPLD", targets: ["IPLD"]),
        .library(name: "IPFS", targets: ["IPFS"]),
        .library(name: "ChatCrypto", targets: ["ChatCrypto"]),
        .library(name: "ChatStore", targets: ["ChatStore"]),
        .library(name: "Mailbox", targets: ["Mailbox"]),
        .library(name: "ChatNode", targets: ["ChatNode"]),
        .library(name: "Storacha", targets: ["Storacha"]),
        .library(name: "ChatWeb", targets: ["ChatWeb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/attaswift/BigInt.git", from: "6.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Codecs only: no networking, no crypto beyond hashing.
        .target(
            name: "Multiformats",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Keys and PeerIDs, multistream-select, Noise, Yamux, Identify, Ping and the host.
        .target(
            name: "LibP2P",
            dependencies: [
                "Multiformats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // DAG-CBOR, DAG-PB, UnixFS import/export, CAR v1. No networking.
        .target(
            name: "IPLD",
            dependencies: [
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Blockstore and Bitswap 1.2.0 on top of LibP2P and IPLD.
        .target(
            name: "IPFS",
            dependencies: [
                "IPLD",
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // UCAN 0.9.1 / ucanto client over HTTP: delegations, space/blob/*, upload/*, access/delegate.
        .target(
            name: "Storacha",
            dependencies: [
                "IPLD",
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A local service that implements the Storacha side of those capabilities, for tests and
        // demos where the hosted API cannot be reached.
        .target(
            name: "StorachaConformance",
            dependencies: [
                "Storacha",
                "IPLD",
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End-to-end crypto: prekey bundles, X3DH, Double Ratchet with header encryption,
        // envelopes, padding. No I/O.
        .target(
            name: "ChatCrypto",
            dependencies: [
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // GRDB/SQLite: identity, contacts, sessions, conversations, messages (FTS5), outbox, receipts.
        .target(
            name: "ChatStore",
            dependencies: [
                "ChatCrypto",
                "LibP2P",
                "Multiformats",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Store-and-forward mailboxes for opaque envelopes: protocol, server, client. Knows nothing of chat.
        .target(
            name: "Mailbox",
            dependencies: [
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The chat node as a Service: invites, delivery engine, outbox/retry, receipts, presence.
        .target(
            name: "ChatNode",
            dependencies: [
                "ChatCrypto",
                "ChatStore",
                "Mailbox",
                "IPFS",
                "IPLD",
                "Storacha",
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Local web UI and JSON/WebSocket API over ChatNode (Hummingbird 2).
        .target(
            name: "ChatWeb",
            dependencies: [
                "ChatNode",
                "ChatStore",
                "ChatCrypto",
                "IPFS",
                "LibP2P",
                "Multiformats",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Assets")]
        ),
        .executableTarget(
            name: "p2pchat",
            dependencies: [
                "ChatWeb",
                "Storacha",
                "StorachaConformance",
                "IPFS",
                "IPLD",
                "ChatNode",
                "ChatStore",
                "ChatCrypto",
                "Mailbox",
                "LibP2P",
                "Multiformats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Release-mode benchmarks (scripts/bench): throughput, handshakes, raw crypto baselines.
        .executableTarget(
            name: "p2pchat-bench",
            dependencies: [
                "IPFS",
                "ChatCrypto",
                "Mailbox",
                "LibP2P",
                "Multiformats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "IPLDTests", dependencies: ["IPLD", "Multiformats"]),
        .testTarget(
            name: "ChatWebTests",
            dependencies: [
                "ChatWeb", "ChatNode", "ChatStore", "LibP2P",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            ]
        ),
        .testTarget(
            name: "StorachaTests",
            dependencies: [
                "Storacha", "StorachaConformance", "IPLD", "LibP2P", "Multiformats",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IPFSTests",
            dependencies: [
                "IPFS", "IPLD", "LibP2P", "Multiformats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ChatNodeTests",
            dependencies: [
                "ChatNode", "ChatStore", "ChatCrypto", "Mailbox", "IPFS", "Storacha", "StorachaConformance", "LibP2P", "Multiformats",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ChatCryptoTests",
            dependencies: ["ChatCrypto", "LibP2P", "Multiformats", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Vectors"]
        ),
        .testTarget(name: "ChatStoreTests", dependencies: ["ChatStore", "ChatCrypto", "LibP2P", "Multiformats"]),
        .testTarget(
            name: "MailboxTests",
            dependencies: [
                "Mailbox", "LibP2P", "Multiformats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "MultiformatsTests",
            dependencies: ["Multiformats"],
            resources: []
        ),
        .testTarget(
            name: "LibP2PTests",
            dependencies: [
                "LibP2P",
                "Multiformats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
