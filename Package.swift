// swift-tools-version: 6.1
import PackageDescription

// Products of the package dependencies, named once for the targets below.
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let bigInt: Target.Dependency = .product(name: "BigInt", package: "BigInt")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting: Target.Dependency = .product(name: "HummingbirdTesting", package: "hummingbird")
let hummingbirdWebSocket: Target.Dependency = .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket")
let hummingbirdWSTesting: Target.Dependency = .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket")

/// The library modules, bottom layer first; each is a product of the same name.
let libraries = [
    "Multiformats", "LibP2P", "IPLD", "IPFS", "ChatCrypto", "ChatStore", "Mailbox", "ChatNode", "Storacha", "ChatWeb",
]

let package = Package(
    name: "P2PChat",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "p2pchat", targets: ["p2pchat"])]
        + libraries.map { .library(name: $0, targets: [$0]) },
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
        .target(name: "Multiformats", dependencies: [crypto]),
        // Keys and PeerIDs, multistream-select, Noise, Yamux, Identify, Ping and the host.
        .target(
            name: "LibP2P",
            dependencies: ["Multiformats", nioCore, nioPosix, crypto, cryptoExtras, bigInt, logging]
        ),
        // DAG-CBOR, DAG-PB, UnixFS import/export, CAR v1. No networking.
        .target(name: "IPLD", dependencies: ["Multiformats", crypto]),
        // Blockstore and Bitswap 1.2.0 on top of LibP2P and IPLD.
        .target(
            name: "IPFS",
            dependencies: ["IPLD", "LibP2P", "Multiformats", crypto, grdb, nioCore, logging]
        ),
        // UCAN 0.9.1 / ucanto client over HTTP: delegations, space/blob/*, upload/*, access/delegate.
        .target(
            name: "Storacha",
            dependencies: ["IPLD", "LibP2P", "Multiformats", crypto, nioCore, nioPosix, nioHTTP1, nioSSL, logging]
        ),
        // A local service that implements the Storacha side of those capabilities, for tests and
        // demos where the hosted API cannot be reached.
        .target(
            name: "StorachaConformance",
            dependencies: ["Storacha", "IPLD", "LibP2P", "Multiformats", crypto, nioCore, nioPosix, nioHTTP1, logging]
        ),
        // End-to-end crypto: prekey bundles, X3DH, Double Ratchet with header encryption,
        // envelopes, padding. No I/O.
        .target(name: "ChatCrypto", dependencies: ["LibP2P", "Multiformats", crypto, cryptoExtras]),
        // GRDB/SQLite: identity, contacts, sessions, conversations, messages (FTS5), outbox, receipts.
        .target(name: "ChatStore", dependencies: ["ChatCrypto", "LibP2P", "Multiformats", grdb]),
        // Store-and-forward mailboxes for opaque envelopes: protocol, server, client. Knows nothing of chat.
        .target(
            name: "Mailbox",
            dependencies: ["LibP2P", "Multiformats", crypto, grdb, nioCore, nioPosix, nioHTTP1, logging]
        ),
        // The chat node as a Service: invites, delivery engine, outbox/retry, receipts, presence.
        .target(
            name: "ChatNode",
            dependencies: [
                "ChatCrypto", "ChatStore", "Mailbox", "IPFS", "IPLD", "Storacha", "LibP2P", "Multiformats",
                crypto, logging, nioCore, nioPosix, serviceLifecycle,
            ]
        ),
        // Local web UI and JSON/WebSocket API over ChatNode (Hummingbird 2).
        .target(
            name: "ChatWeb",
            dependencies: [
                "ChatNode", "ChatStore", "ChatCrypto", "IPFS", "LibP2P", "Multiformats",
                hummingbird, hummingbirdWebSocket, logging, serviceLifecycle,
            ],
            resources: [.copy("Assets")]
        ),
        .executableTarget(
            name: "p2pchat",
            dependencies: [
                "ChatWeb", "Storacha", "StorachaConformance", "IPFS", "IPLD", "ChatNode", "ChatStore", "ChatCrypto",
                "Mailbox", "LibP2P", "Multiformats",
                argumentParser, logging, nioCore, nioPosix, crypto, serviceLifecycle,
            ]
        ),
        // Release-mode benchmarks (scripts/bench): throughput, handshakes, raw crypto baselines.
        .executableTarget(
            name: "p2pchat-bench",
            dependencies: ["IPFS", "ChatCrypto", "Mailbox", "LibP2P", "Multiformats", crypto, nioCore, logging]
        ),
        .testTarget(name: "IPLDTests", dependencies: ["IPLD", "Multiformats"]),
        .testTarget(
            name: "ChatWebTests",
            dependencies: ["ChatWeb", "ChatNode", "ChatStore", "LibP2P", hummingbird, hummingbirdTesting, hummingbirdWSTesting]
        ),
        .testTarget(
            name: "StorachaTests",
            dependencies: ["Storacha", "StorachaConformance", "IPLD", "LibP2P", "Multiformats", nioSSL, crypto, nioCore]
        ),
        .testTarget(name: "IPFSTests", dependencies: ["IPFS", "IPLD", "LibP2P", "Multiformats", nioCore, logging]),
        .testTarget(
            name: "ChatNodeTests",
            dependencies: [
                "ChatNode", "ChatStore", "ChatCrypto", "Mailbox", "IPFS", "Storacha", "StorachaConformance", "LibP2P",
                "Multiformats", logging, nioCore,
            ]
        ),
        .testTarget(
            name: "ChatCryptoTests",
            dependencies: ["ChatCrypto", "LibP2P", "Multiformats", crypto],
            exclude: ["Vectors"]
        ),
        .testTarget(name: "ChatStoreTests", dependencies: ["ChatStore", "ChatCrypto", "LibP2P", "Multiformats"]),
        .testTarget(name: "MailboxTests", dependencies: ["Mailbox", "LibP2P", "Multiformats", nioCore, logging, crypto]),
        .testTarget(name: "MultiformatsTests", dependencies: ["Multiformats"], resources: []),
        .testTarget(
            name: "LibP2PTests",
            dependencies: ["LibP2P", "Multiformats", nioCore, nioPosix, nioEmbedded, crypto, logging]
        ),
    ],
    swiftLanguageModes: [.v6]
)
