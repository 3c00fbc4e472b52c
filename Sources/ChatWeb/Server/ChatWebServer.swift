import ChatNode
import Foundation
import Hummingbird
import HummingbirdWebSocket
import IPFS
import Logging
import ServiceLifecycle

/// The local web UI and its JSON/WebSocket API over a running `ChatNode` (ARCHITECTURE.md
/// Surfaces), as a `Service` to run in the same `ServiceGroup` as the node.
///
/// Listens on 127.0.0.1 only. Every request must come from our own origin and carry the home's
/// `AccessToken` (see `LocalAccessPolicy`); the URL printed at start carries the token and the
/// first visit turns it into a cookie.
public struct ChatWebServer: Service {
    /// The port tried first when none is given.
    public static let defaultPort = 7717
    /// How many ports after the default (or the remembered one) are tried.
    public static let portSearchRange = 32
    /// The file remembering the port used last, so an open tab finds the node after a restart.
    public static let portFileName = "web-port"

    /// The access token every request must carry.
    public let token: AccessToken
    /// The port asked for: a fixed one, or 0 for any free port.
    public let requestedPort: Int
    /// The port bound, once listening.
    public let boundPort: BoundPort
    let backend: ChatWebBackend
    let hub: EventHub
    let monitor: ChangeMonitor
    let assets: AssetStore
    let home: URL
    let logger: Logger
    let onListening: @Sendable (URL) -> Void

    /// Builds the server for `node`, whose home is `home`.
    ///
    /// - Parameters:
    ///   - port: a fixed port (0 = any free one); `nil` uses the port remembered in the home, else
    ///     7717, or the next free one after it.
    ///   - onListening: called with the URL to open (it carries the token) once the server
    ///     listens; by default it writes `web UI: <url>` to standard output (unbuffered).
    /// - Throws: `ChatWebError(.startup)` when the token file is unusable or no port is free.
    public static func make(
        node: ChatNode, home: URL, port: Int? = nil, logger: Logger = Logger(label: "p2pchat.web"),
        onListening: @escaping @Sendable (URL) -> Void = { url in
            FileHandle.standardOutput.write(Data("web UI: \(url.absoluteString)\n".utf8))
        }
    ) throws -> ChatWebServer {
        let token = try AccessToken.loadOrCreate(home: home)
        let chosen = try port ?? choosePort(home: home)
        return try ChatWebServer(node: node, home: home, token: token, port: chosen, logger: logger, onListening: onListening)
    }

    init(
        node: ChatNode, home: URL, token: AccessToken, port: Int, blockstore: Blockstore? = nil,
        uploadLimit: Int64 = ChatWebBackend.maximumUploadSize,
        monitorInterval: Duration = .seconds(1), logger: Logger, onListening: @escaping @Sendable (URL) -> Void
    ) throws {
        self.token = token
        self.requestedPort = port
        self.boundPort = BoundPort()
        self.backend = ChatWebBackend(node: node, home: home, blockstore: blockstore, uploadLimit: uploadLimit)
        self.hub = EventHub()
        self.monitor = ChangeMonitor(backend: backend, hub: hub, interval: monitorInterval, logger: logger)
        self.assets = try AssetStore.bundled()
        self.home = home
        self.logger = logger
        self.onListening = onListening
        backend.onChange { [monitor] in monitor.poke() }
    }

    /// The URL to open once bound: `http://127.0.0.1:PORT/?token=…`.
    public var url: URL? {
        boundPort.value.flatMap { URL(string: "http://127.0.0.1:\($0)/?token=\(token.value)") }
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let app = makeApplication(port: requestedPort)
        try await app.run()
    }

    /// The Hummingbird application: the router with the access middleware, the API, the event
    /// socket and the UI's files, listening on 127.0.0.1:`port`, with the change monitor as a
    /// service of its own group.
    func makeApplication(port: Int) -> some ApplicationProtocol {
        let router = makeRouter()
        let boundPort = boundPort
        let home = home
        let logger = logger
        let onListening = onListening
        let token = token
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: "p2pchat"),
            services: [monitor],
            onServerRunning: { channel in
                guard let port = channel.localAddress?.port else { return }
                boundPort.set(port)
                Self.rememberPort(port, home: home, logger: logger)
                if let url = URL(string: "http://127.0.0.1:\(port)/?token=\(token.value)") { onListening(url) }
            },
            logger: logger)
    }

    /// The router alone (for router tests that open no socket).
    func makeRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.add(middleware: LocalAccessMiddleware(policy: LocalAccessPolicy(token: token, port: boundPort)))
        APIController(backend: backend).addRoutes(to: router.group("api"))
        EventSocket.addRoute(to: router, hub: hub, peerID: backend.node.peerID.description)
        let assets = assets
        router.get("/") { _, _ in try Self.serve("index.html", from: assets) }
        router.get("/assets/{name}") { _, context in try Self.serve(try context.parameters.require("name"), from: assets) }
        return router
    }

    private static func serve(_ name: String, from assets: AssetStore) throws -> Response {
        guard let asset = assets[name] else { throw ChatWebError(.notFound, "no file \(name)") }
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    // MARK: Ports

    /// The remembered port if it is free, else the first free one from 7717 on.
    static func choosePort(home: URL) throws -> Int {
        var candidates: [Int] = []
        if let text = try? String(contentsOf: home.appendingPathComponent(portFileName), encoding: .utf8),
           let remembered = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), (1...65535).contains(remembered) {
            candidates.append(remembered)
        }
        candidates += (defaultPort..<(defaultPort + portSearchRange))
        for port in candidates where PortProbe.isFree(port) { return port }
        throw ChatWebError(.startup, "no free port in \(defaultPort)–\(defaultPort + portSearchRange - 1) on 127.0.0.1; choose one with --web-port")
    }

    private static func rememberPort(_ port: Int, home: URL, logger: Logger) {
        do {
            try "\(port)\n".write(to: home.appendingPathComponent(portFileName), atomically: true, encoding: .utf8)
        } catch {
            logger.info("cannot remember the web port", metadata: ["reason": "\(error)"])
        }
    }
}
