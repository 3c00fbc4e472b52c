import LibP2P

/// Accepts sessions from prekey messages (X3DH §3.4 / PQXDH §3.4, Bob's side; crypto.md §8.3).
public enum SessionResponder {
    /// Opens the HPKE layer of a prekey envelope with one of our identity DH keys.
    ///
    /// Use it to route a repeated prekey message to an existing session (`Session.open(preKeyMessage:)`,
    /// matched by `baseKey`). Throws `.wrongRecipient` when none of our keys opens it.
    public static func unseal(envelope: Envelope, ourPreKeys: LocalPreKeys) throws -> PreKeyMessage {
        guard envelope.kind == .preKeyMessage else {
            throw ChatCryptoError(.invalidState, "not a prekey envelope")
        }
        for key in ourPreKeys.identityDHKeys {
            if let message = try PreKeyMessage.open(envelope.ciphertext, with: key, associatedData: envelope.outerHeader) {
                return message
            }
        }
        throw ChatCryptoError(.wrongRecipient, "prekey envelope is not sealed to any of our identity DH keys")
    }

    /// Unseals a prekey envelope, verifies the initiator's key binding, runs X3DH/PQXDH and
    /// decrypts the first message.
    ///
    /// Returns the session, the content and the id of the one-time prekey that was consumed:
    /// the caller must delete it from the store (X3DH §3.4). Throws `.unknownPreKey` when a named
    /// prekey is not ours (already used or rotated out), `.invalidSignature` for a bad binding.
    public static func accept(
        envelope: Envelope, ourIdentity: IdentityKeyPair, ourPreKeys: LocalPreKeys, now: UInt64
    ) throws -> (session: Session, content: PlainContent, usedOneTimePreKeyID: UInt32?) {
        let message = try unseal(envelope: envelope, ourPreKeys: ourPreKeys)
        return try accept(preKeyMessage: message, ourIdentity: ourIdentity, ourPreKeys: ourPreKeys, now: now)
    }

    /// As `accept(envelope:…)`, for a prekey message already unsealed with `unseal`.
    public static func accept(
        preKeyMessage message: PreKeyMessage, ourIdentity: IdentityKeyPair, ourPreKeys: LocalPreKeys, now: UInt64
    ) throws -> (session: Session, content: PlainContent, usedOneTimePreKeyID: UInt32?) {
        var random = SystemRandomSource()
        return try accept(preKeyMessage: message, ourIdentity: ourIdentity, ourPreKeys: ourPreKeys, now: now, random: &random)
    }

    static func accept(
        preKeyMessage message: PreKeyMessage, ourIdentity: IdentityKeyPair, ourPreKeys: LocalPreKeys, now: UInt64,
        random: inout some RandomSource
    ) throws -> (session: Session, content: PlainContent, usedOneTimePreKeyID: UInt32?) {
        let suite = message.suite
        guard message.identityKey.keyType == .ed25519 else {
            throw ChatCryptoError(.invalidKey, "initiator identity key is \(message.identityKey.keyType); Ed25519 required")
        }
        guard message.identityKey.verify(
            signature: message.identityBindingSignature,
            for: IdentityDHKey.bindingMessage(suite: suite, publicKey: message.identityDHKey, createdAt: message.identityDHKeyCreatedAt))
        else { throw ChatCryptoError(.invalidSignature, "initiator identity DH key binding does not verify") }
        guard let ourIdentityDH = ourPreKeys.identityDHKey(for: suite) else {
            throw ChatCryptoError(.unsupportedSuite, "we do not offer suite \(suite)")
        }
        guard let signedPreKey = ourPreKeys.signedPreKeys.first(where: { $0.suite == suite && $0.id == message.signedPreKeyID }) else {
            throw ChatCryptoError(.unknownPreKey, "signed prekey \(message.signedPreKeyID) is not ours")
        }
        var dhOutputs = [
            try signedPreKey.privateKey.sharedSecret(with: message.identityDHKey),
            try ourIdentityDH.privateKey.sharedSecret(with: message.baseKey),
            try signedPreKey.privateKey.sharedSecret(with: message.baseKey),
        ]
        if let id = message.oneTimePreKeyID {
            guard let oneTime = ourPreKeys.oneTimePreKeys.first(where: { $0.suite == suite && $0.id == id }) else {
                throw ChatCryptoError(.unknownPreKey, "one-time prekey \(id) is not ours or was already used")
            }
            dhOutputs.append(try oneTime.privateKey.sharedSecret(with: message.baseKey))
        }
        var kemSecret: [UInt8]?
        if let id = message.kemPreKeyID, let ciphertext = message.kemCiphertext {
            guard let kem = ourPreKeys.kemPreKeys.first(where: { $0.id == id }) else {
                throw ChatCryptoError(.unknownPreKey, "KEM prekey \(id) is not ours")
            }
            kemSecret = try kem.decapsulate(ciphertext)
        }
        let ourPeerID = ourIdentity.peerID
        let theirPeerID = message.senderPeerID
        let derived = X3DH.deriveKeys(
            suite: suite, dhOutputs: dhOutputs, kemSharedSecret: kemSecret,
            initiatorPeerID: theirPeerID.bytes, responderPeerID: ourPeerID.bytes)
        let ratchet = RatchetState(
            responderWithSuite: suite, sharedSecret: derived.sharedSecret, ourRatchetKey: signedPreKey.privateKey,
            sharedHeaderKey: derived.headerKey, sharedNextHeaderKey: derived.nextHeaderKey)
        var session = Session(
            role: .responder, localPeerID: ourPeerID, remotePeerID: theirPeerID, baseKey: message.baseKey,
            associatedData: X3DH.associatedData(
                initiatorPeerID: theirPeerID.bytes, initiatorIdentityKey: message.identityDHKey,
                responderPeerID: ourPeerID.bytes, responderIdentityKey: ourIdentityDH.publicKey),
            ratchet: ratchet, pendingPreKey: nil)
        let content = try session.open(ratchetMessage: message.ratchetMessage, kind: .preKeyMessage, now: now, random: &random)
        return (session, content, message.oneTimePreKeyID)
    }
}
