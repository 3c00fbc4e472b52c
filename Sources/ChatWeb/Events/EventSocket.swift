import Hummingbird
import HummingbirdWebSocket
import Logging

/// `GET /ws`: streams `WebEvent`s as JSON text frames until the browser or the server closes.
///
/// The upgrade request passes `LocalAccessMiddleware` like any other (token cookie, exact
/// Origin). Frames from the browser are read and ignored; they only tell us it is still there.
enum EventSocket {
    /// The largest frame accepted from the browser.
    static let maximumInboundFrame = 4096

    static func addRoute<Context: WebSocketRequestContext>(to router: Router<Context>, hub: EventHub, peerID: String) {
        router.ws("/ws") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let events = hub.subscribe()
            // Greet only once the monitor has its baseline: a change made after the greeting
            // (a message sent right away) is then never folded into the baseline unseen.
            await hub.waitUntilReady()
            try await outbound.write(.text(WebEvent.hello(peerID: peerID).json()))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        try await outbound.write(.text(event.json()))
                    }
                }
                group.addTask {
                    for try await _ in inbound.messages(maxSize: maximumInboundFrame) {}
                }
                // Whichever ends first (browser gone, or server shutting down) ends both.
                try await group.next()
                group.cancelAll()
            }
            context.logger.debug("event socket closed")
        }
    }
}
