/// Constants of the mailbox protocol `/p2pchat/mailbox/1.0.0`.
///
/// Wire: on a libp2p stream, each request and each response is one
/// `uvarint(length) ‖ protobuf` message. A client may send several requests on one stream,
/// each after the previous answer (the client library opens one stream per request). After a
/// successful `subscribe` answer the stream carries only notifications from the mailbox until
/// either side closes it. A malformed or oversized request gets an error answer and the stream
/// is closed.
public enum MailboxProtocol {
    /// The libp2p protocol id.
    public static let protocolID = "/p2pchat/mailbox/1.0.0"
    /// The message format version carried in every request and response.
    public static let version: UInt32 = 1
    /// The version that adds the block kinds (`depositBlocks`, `fetchBlocks`,
    /// `acknowledgeBlocks`). Clients send it only on block requests, so envelope requests still
    /// work with version-1 mailboxes; a version-1 mailbox answers a block request with
    /// `unsupportedVersion`.
    public static let blocksVersion: UInt32 = 2
    /// The versions this implementation accepts.
    public static let supportedVersions: ClosedRange<UInt32> = version...blocksVersion
    /// The largest envelope a mailbox accepts: 64 KiB (a padded onion packet is ~2.3 KB;
    /// attachments travel as blocks, not envelopes).
    public static let maxEnvelopeLength = 64 * 1024
    /// The largest request message: one envelope plus its framing and signature.
    public static let maxRequestLength = maxEnvelopeLength + 4 * 1024
    /// The largest response message (a fetch batch).
    public static let maxResponseLength = 4 * 1024 * 1024
    /// The largest attachment block a mailbox stores: 2 MiB, the block store's and Bitswap's
    /// maximum (`Blockstore.maxBlockSize`).
    public static let maxBlockLength = 2 << 20
    /// The most block bytes in one `depositBlocks` request (one maximal block fits).
    public static let maxBlockBatchLength = maxBlockLength
    /// The most blocks in one `depositBlocks` request.
    public static let maxBlocksPerRequest = 256
    /// The largest `depositBlocks` request message: a full batch plus per-block framing and
    /// the signature. Every other request stays within `maxRequestLength`.
    public static let maxBlocksRequestLength = maxBlockBatchLength + maxBlocksPerRequest * (maxCIDLength + 16) + 4 * 1024
    /// The most CIDs in one fetch or acknowledge request.
    public static let maxCIDsPerRequest = 1024
    /// The most entries one list answer carries.
    public static let maxListLimit = 1024
    /// The length of a request nonce.
    public static let nonceLength = 16
    /// The length of an Ed25519 public key or signature field's key.
    public static let keyLength = 32
    /// The length of an Ed25519 signature.
    public static let signatureLength = 64
    /// The longest push endpoint URL.
    public static let maxPushEndpointLength = 1024
    /// The longest CID accepted in a request (CIDv1 raw sha2-256 is 36 bytes).
    public static let maxCIDLength = 64
    /// The domain-separation prefix of every request signature:
    /// `signature = Ed25519(key, signingPrefix ‖ uvarint(len(mailboxPeerID)) ‖ mailboxPeerID ‖ body)`.
    public static let signingPrefix = Array("p2pchat/mailbox/1 request\u{0}".utf8)
}
