import Foundation

/// Where the Storacha service lives: its ucanto endpoint and DID, the receipts endpoint and
/// the retrieval gateway. The hosted service is moving (see the research note §0), so every
/// field is configurable; ``hot`` is the current published endpoint and the default.
public struct StorachaConfiguration: Sendable {
    /// The most times ``StorachaClient`` polls the receipts endpoint for `blob/accept`.
    public static let defaultReceiptPollAttempts = 10

    /// The ucanto HTTP endpoint (`POST` agent messages).
    public var serviceURL: URL
    /// The service's DID, the audience of every invocation.
    public var serviceDID: DID
    /// The trustless gateway for `GET /ipfs/<cid>?format=raw`.
    public var gatewayURL: URL
    /// The receipts endpoint; `GET <receiptsURL>/<task CID>` (upload-client `receipts.js`).
    public var receiptsURL: URL
    /// The did:key behind ``serviceDID``, to verify receipt signatures; `nil` skips the check
    /// (as the JS client does). ``StorachaClient/resolveServiceKey()`` reads it from
    /// `/.well-known/did.json`.
    public var serviceKey: DID?
    /// How many times to poll for the `blob/accept` receipt.
    public var receiptPollAttempts: Int

    /// Creates a configuration; `receiptsURL` defaults to `<serviceURL>/receipt`.
    public init(
        serviceURL: URL, serviceDID: DID, gatewayURL: URL, receiptsURL: URL? = nil, serviceKey: DID? = nil,
        receiptPollAttempts: Int = defaultReceiptPollAttempts
    ) {
        self.serviceURL = serviceURL
        self.serviceDID = serviceDID
        self.gatewayURL = gatewayURL
        self.receiptsURL = receiptsURL ?? serviceURL.appendingPathComponent("receipt")
        self.serviceKey = serviceKey
        self.receiptPollAttempts = receiptPollAttempts
    }

    /// The hosted "hot" service as published today: `did:web:up.storacha.network` at
    /// `https://up.storacha.network`, gateway `https://w3s.link` (upload-service
    /// `w3up-client/src/service.js`). Writes may be disabled there (`ServiceUnavailable`).
    public static var hot: StorachaConfiguration {
        StorachaConfiguration(
            serviceURL: URL(string: "https://up.storacha.network")!,
            serviceDID: try! DID(parsing: "did:web:up.storacha.network"),
            gatewayURL: URL(string: "https://w3s.link")!
        )
    }

    /// The Forge network that guppy defaults to (`did:web:up.forge.storacha.network`); reads there
    /// need UCAN-authorized retrieval, which this client does not implement.
    public static var forge: StorachaConfiguration {
        StorachaConfiguration(
            serviceURL: URL(string: "https://up.forge.storacha.network")!,
            serviceDID: try! DID(parsing: "did:web:up.forge.storacha.network"),
            gatewayURL: URL(string: "https://w3s.link")!
        )
    }

    /// The default: ``hot``.
    public static var `default`: StorachaConfiguration { hot }
}
