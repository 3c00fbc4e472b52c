import Foundation
import Storacha

/// Which Storacha service a home talks to (`p2pchat storacha config`): the ucanto endpoint, the
/// service DID, the retrieval gateway and, optionally, the service's did:key to check receipt
/// signatures with. The hosted service is moving, so all of it is configuration; the default is
/// the current published endpoint (`StorachaConfiguration.hot`).
///
/// Stored as JSON in the home's database and sent, in the same JSON, to contacts with the
/// deposit rights on our space (they must deposit where we drain).
public struct StorachaEndpoint: Codable, Hashable, Sendable {
    /// The ucanto HTTP endpoint.
    public var serviceURL: URL
    /// The service DID (audience of every invocation).
    public var serviceDID: String
    /// The trustless gateway for `GET /ipfs/<cid>?format=raw`.
    public var gatewayURL: URL
    /// The service's did:key, when receipts should be verified.
    public var serviceKey: String?

    /// An endpoint; `serviceDID` and `serviceKey` must parse as DIDs.
    public init(serviceURL: URL, serviceDID: String, gatewayURL: URL, serviceKey: String? = nil) throws {
        for (what, text) in [("service DID", serviceDID), ("service key", serviceKey)] {
            guard let text else { continue }
            do {
                _ = try DID(parsing: text)
            } catch {
                throw ChatNodeError(.malformedInput, "\(what) '\(text)' is not a DID (like did:web:up.storacha.network)", underlying: error)
            }
        }
        for url in [serviceURL, gatewayURL] where url.scheme != "http" && url.scheme != "https" {
            throw ChatNodeError(.malformedInput, "'\(url)' is not an http(s) URL")
        }
        self.serviceURL = serviceURL
        self.serviceDID = serviceDID
        self.gatewayURL = gatewayURL
        self.serviceKey = serviceKey
    }

    /// The endpoint of a client configuration.
    public init(_ configuration: StorachaConfiguration) {
        serviceURL = configuration.serviceURL
        serviceDID = configuration.serviceDID.string
        gatewayURL = configuration.gatewayURL
        serviceKey = configuration.serviceKey?.string
    }

    /// The current published endpoint (`did:web:up.storacha.network`, gateway `w3s.link`).
    public static var `default`: StorachaEndpoint { StorachaEndpoint(.default) }

    /// The client configuration.
    public func configuration() throws -> StorachaConfiguration {
        do {
            return StorachaConfiguration(
                serviceURL: serviceURL, serviceDID: try DID(parsing: serviceDID), gatewayURL: gatewayURL,
                serviceKey: try serviceKey.map(DID.init(parsing:)))
        } catch {
            throw ChatNodeError(.malformedInput, "stored Storacha endpoint has a bad DID", underlying: error)
        }
    }

    /// Parses the stored or received JSON.
    public init(json: String) throws {
        guard let decoded = try? JSONDecoder().decode(StorachaEndpoint.self, from: Data(json.utf8)) else {
            throw ChatNodeError(.malformedInput, "Storacha endpoint JSON does not parse")
        }
        try self.init(serviceURL: decoded.serviceURL, serviceDID: decoded.serviceDID, gatewayURL: decoded.gatewayURL, serviceKey: decoded.serviceKey)
    }

    /// The JSON text.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
