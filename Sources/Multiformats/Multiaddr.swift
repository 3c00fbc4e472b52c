/// A self-describing network address: a sequence of protocol components.
///
/// Implements https://github.com/multiformats/multiaddr. Text form `/ip4/127.0.0.1/tcp/4001`;
/// binary form the concatenation of `varint(protocol code) ‖ value` per component, with
/// variable-length values prefixed by their varint length. Only the protocols in
/// ``Component`` are accepted; anything else is refused rather than skipped.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    /// The longest variable-length component value (DNS name, peer ID, certhash) accepted, in bytes.
    public static let maxValueLength = 1024

    /// The components, outermost (network layer) first.
    public var components: [Component]

    /// Creates a multiaddr from components.
    public init(components: [Component]) {
        self.components = components
    }

    /// Parses the text form, e.g. `/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…` (multiaddr spec).
    ///
    /// A single trailing `/` is allowed; `/ipfs/` is read as `/p2p/`.
    /// - Throws: ``MultiformatsError`` `.invalidMultiaddr` for a missing leading `/`, empty
    ///   segments, missing values, or `.unsupportedCode` for unknown protocols.
    public init(_ text: String) throws {
        guard text.hasPrefix("/") else {
            throw MultiformatsError(.invalidMultiaddr, "multiaddr must start with '/': \(text.debugDescription)")
        }
        var segments = text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { Substring($0) }
        if segments.count > 1, segments.last == "" {
            segments.removeLast()
        }
        guard segments != [""] else {
            throw MultiformatsError(.invalidMultiaddr, "empty multiaddr")
        }
        var components: [Component] = []
        var index = 0
        while index < segments.count {
            let name = segments[index]
            index += 1
            guard !name.isEmpty else {
                throw MultiformatsError(.invalidMultiaddr, "empty protocol name in \(text.debugDescription)")
            }
            let value: Substring?
            if Component.protocolTakesValue(name) {
                guard index < segments.count else {
                    throw MultiformatsError(.invalidMultiaddr, "/\(name) needs a value")
                }
                value = segments[index]
                index += 1
            } else {
                value = nil
            }
            components.append(try Component(protocolName: name, value: value))
        }
        self.components = components
    }

    /// Parses the binary form (multiaddr spec); the whole input must be components.
    ///
    /// - Throws: ``MultiformatsError`` for unknown protocol codes, truncated or oversized values,
    ///   or empty input.
    public init(bytes: some Collection<UInt8>) throws {
        guard !bytes.isEmpty else {
            throw MultiformatsError(.invalidMultiaddr, "empty multiaddr")
        }
        var rest = bytes[...]
        var components: [Component] = []
        while !rest.isEmpty {
            let (component, length) = try Component.parsePrefix(rest)
            components.append(component)
            rest = rest.dropFirst(length)
        }
        self.components = components
    }

    /// The binary form: each component's `varint(code) ‖ value` (multiaddr spec).
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        for component in components {
            component.encode(into: &bytes)
        }
        return bytes
    }

    /// The text form, e.g. `/ip6/::1/udp/4001/quic-v1` (multiaddr spec); `""` when empty.
    public var description: String {
        components.map(\.description).joined()
    }

    /// This multiaddr with `component` added at the end (encapsulation).
    public func appending(_ component: Component) -> Multiaddr {
        Multiaddr(components: components + [component])
    }

    /// The multihash of the last `/p2p/` component, if any (the peer this address reaches).
    public var peerIDMultihash: Multihash? {
        for component in components.reversed() {
            if case .p2p(let multihash) = component { return multihash }
        }
        return nil
    }

    /// This multiaddr without a final `/p2p/` component (unchanged if it does not end in one).
    public func removingPeerID() -> Multiaddr {
        guard case .p2p = components.last else { return self }
        return Multiaddr(components: components.dropLast())
    }
}
