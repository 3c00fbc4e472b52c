import Foundation
import IPLD
import Multiformats
import Storacha
import Testing

@Suite("Storacha reference vectors")
struct VectorTests {
    @Test("every vector file is present and parses")
    func everyFileParses() throws {
        let names = StorachaVectors.fileNames
        #expect(names.count == 7)
        for name in names {
            let bytes = try StorachaVectors.bytes(name)
            if name.hasSuffix(".car") {
                var reader = try CARReader(bytes: bytes)
                _ = try reader.readAll()
            } else {
                #expect(name.hasSuffix(".jpg"))
                #expect(!bytes.isEmpty)
            }
        }
        let empty = try StorachaVectors.bytes("upload-service-empty.car")
        #expect(empty == [0x11, 0xa2, 0x65, 0x72, 0x6f, 0x6f, 0x74, 0x73, 0x80, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x01])
        #expect(try CARReader(bytes: empty).header.roots.isEmpty)
    }

    @Test("every DAG-CBOR block in every CAR re-encodes to identical bytes and CID")
    func blocksReencode() throws {
        for name in StorachaVectors.fileNames where name.hasSuffix(".car") {
            var reader = try CARReader(bytes: try StorachaVectors.bytes(name))
            for block in try reader.readAll() {
                #expect(block.cid.multihash.matches(block.bytes))
                guard block.cid.codec == .dagCBOR else { continue }
                let value = try DAGCBOR.decode(block.bytes)
                let again = try DAGCBOR.encode(value)
                #expect(again == block.bytes, "\(name) \(block.cid)")
                #expect(DAGCBOR.cid(of: again) == block.cid)
                // UCAN blocks also round-trip through the UCAN model.
                if value["v"] != nil, value["s"] != nil {
                    let ucan = try UCAN(parsing: block.bytes)
                    #expect(try ucan.block() == block, "\(name) \(block.cid)")
                }
            }
        }
    }

    @Test("bridge authorization header: two-UCAN chain, signatures verify, archive round-trips")
    func bridgeHeader() throws {
        let bytes = try StorachaVectors.bytes("specs-bridge-authorization-header.car")
        let delegation = try Delegation(archive: bytes)
        let proofs = delegation.proofs
        #expect(proofs.count == 1)
        #expect(!delegation.ucan.facts.isEmpty || !proofs[0].ucan.facts.isEmpty)
        for ucan in [delegation.ucan] + proofs.map(\.ucan) {
            #expect(ucan.issuer.isKey)
            #expect(ucan.verifySignature(key: ucan.issuer))
            #expect(ucan.signature.bytes.starts(with: [0xed, 0xa1, 0x03, 0x40]))
        }
        // Audience linking: the proof was delegated to the outer UCAN's issuer.
        #expect(proofs[0].ucan.audience == delegation.ucan.issuer)
        // Our archive of it has the same blocks and reads back to the same UCAN.
        let again = try Delegation(archive: try delegation.archive())
        #expect(again.cid == delegation.cid)
        #expect(Set(again.exportedBlocks) == Set(delegation.exportedBlocks))
        // The CLI text form round-trips too.
        let text = try delegation.formatted()
        #expect(text.hasPrefix("m"))
        #expect(try Delegation(parsing: text).cid == delegation.cid)
        // A tampered signature no longer verifies.
        var tampered = delegation.ucan
        var raw = tampered.signature.raw
        raw[10] ^= 1
        tampered.signature = try UCANSignature(ed25519: raw)
        #expect(!tampered.verifySignature(key: tampered.issuer))
    }

    @Test("delegation without nb, audience a non-key DID (9d 1a principal)")
    func delegationWithoutNB() throws {
        let delegation = try Delegation(archive: try StorachaVectors.bytes("go-ucanto-delegationnonb.car"))
        #expect(delegation.ucan.capabilities.allSatisfy { $0.nb == nil })
        #expect(!delegation.ucan.audience.isKey)
        #expect(delegation.ucan.audience.principalBytes.starts(with: [0x9d, 0x1a]))
        #expect(delegation.ucan.verifySignature(key: delegation.ucan.issuer))
    }

    @Test("workflow agent message: report with a filecoin/accept receipt from a did:web issuer")
    func workflowMessage() throws {
        let message = try AgentMessage(car: try StorachaVectors.bytes("upload-service-workflow.car"))
        #expect(message.receipts.count == 1)
        let receipt = try #require(message.receipts.values.first)
        #expect(receipt.issuer?.string == "did:web:web3.storage")
        #expect(receipt.okValue != nil)
        #expect(receipt.root.bytes == (try DAGCBOR.encode(try DAGCBOR.decode(receipt.root.bytes))))
        let invocation = try #require(receipt.invocation)
        #expect(invocation.ucan.capabilities.first?.can == "filecoin/accept")
        #expect(invocation.ucan.expiration == nil)
        // The signer behind did:web:web3.storage: try the README keys and the published
        // web3.storage service key.
        let keys = try (StorachaVectors.keys.map(\.did) + ["did:key:z6MkqdncRZ1wj8zxCTDUQ8CRT8NQWd63T7mZRvZUX8B7XDFi"]).map { try DID(parsing: $0) }
        let receiptKey = keys.first { receipt.verifySignature(key: $0) }
        let invocationKey = keys.first { invocation.ucan.verifySignature(key: $0) }
        #expect(receiptKey != nil, "receipt signature verifies with no known key")
        #expect(invocationKey != nil, "invocation signature verifies with no known key")
        // Re-encoding the message gives a readable message with the same receipt.
        let again = try AgentMessage(car: try AgentMessage(receipts: [receipt]).car())
        #expect(again.receipts[receipt.ran]?.cid == receipt.cid)
    }

    @Test("pinpie.jpg imports to the listed raw CID")
    func pinpie() throws {
        let bytes = try StorachaVectors.bytes("upload-service-pinpie.jpg")
        let entry = try UnixFSImporter(options: .storacha).importFile(bytes: bytes) { _, _ in }
        #expect(entry.cid.description == "bafkreiajkbmpugz75eg2tmocmp3e33sg5kuyq2amzngslahgn6ltmqxxfa")
    }

    @Test("README signer archives parse to their did:keys and print back")
    func signerArchives() throws {
        for key in StorachaVectors.keys {
            let signer = try Signer(parsingArchive: key.archive)
            #expect(signer.did.string == key.did, "\(key.name)")
            #expect(signer.archive == key.archive)
        }
    }
}
