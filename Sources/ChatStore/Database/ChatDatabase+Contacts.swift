import Foundation
import GRDB
import LibP2P
import Multiformats

extension ChatDatabase {
    /// Adds a contact and creates its 1:1 conversation, in one transaction.
    ///
    /// - Throws: `.duplicateContact` when the name (case-insensitively) or the peer ID is taken;
    ///   `.invalidArgument` for an empty or overlong name.
    @discardableResult
    public func addContact(
        name: String,
        peerID: PeerID,
        addresses: [Multiaddr] = [],
        preKeyBundle: Data? = nil,
        mailboxes: [Data] = [],
        now: Date = Date()
    ) async throws -> Contact {
        let name = try Self.validatedName(name)
        let addressJSON = try JSONList.encode(addresses.map(\.description))
        let mailboxJSON = try JSONList.encode(mailboxes)
        return try await write { db in
            let key = Contact.nameKey(name)
            if let holder = try String.fetchOne(db, sql: "SELECT display_name FROM contacts WHERE name_key = ?", arguments: [key]) {
                throw ChatStoreError(.duplicateContact, "a contact named \(holder) already exists; choose another name")
            }
            if let holder = try String.fetchOne(db, sql: "SELECT display_name FROM contacts WHERE peer_id = ?", arguments: [peerID.description]) {
                throw ChatStoreError(.duplicateContact, "peer \(peerID) is already a contact, named \(holder)")
            }
            try db.execute(sql: """
                INSERT INTO contacts (display_name, name_key, peer_id, addresses, prekey_bundle, mailboxes, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, key, peerID.description, addressJSON, preKeyBundle, mailboxJSON, now.millisecondsSince1970])
            let contactID = ContactID(rawValue: db.lastInsertedRowID)
            try db.execute(sql: """
                INSERT INTO conversations (id, kind, contact_id, created_at) VALUES (?, 'direct', ?, ?)
                """, arguments: [ConversationID.random(), contactID, now.millisecondsSince1970])
            return try Self.fetchContact(db, contactID)
        }
    }

    /// The contact named `name` (case-insensitively), if any.
    public func contact(named name: String) async throws -> Contact? {
        let key = Contact.nameKey(name.trimmingCharacters(in: .whitespacesAndNewlines))
        return try await read { db in
            try Contact.fetchOne(db, sql: Contact.selectSQL + " WHERE contacts.name_key = ?", arguments: [key])
        }
    }

    /// The contact with `peerID`, if any.
    public func contact(peerID: PeerID) async throws -> Contact? {
        try await read { db in
            try Contact.fetchOne(db, sql: Contact.selectSQL + " WHERE contacts.peer_id = ?", arguments: [peerID.description])
        }
    }

    /// The contact with `id`, if any.
    public func contact(id: ContactID) async throws -> Contact? {
        try await read { db in
            try Contact.fetchOne(db, sql: Contact.selectSQL + " WHERE contacts.id = ?", arguments: [id])
        }
    }

    /// All contacts, by name.
    public func contacts() async throws -> [Contact] {
        try await read { db in
            try Contact.fetchAll(db, sql: Contact.selectSQL + " ORDER BY contacts.name_key")
        }
    }

    /// Replaces where the contact can be dialed.
    public func updateContactAddresses(contactID: ContactID, addresses: [Multiaddr]) async throws {
        let json = try JSONList.encode(addresses.map(\.description))
        try await updateContact(contactID, sql: "addresses = ?", arguments: [json])
    }

    /// Replaces the contact's mailbox queue addresses.
    public func updateContactMailboxes(contactID: ContactID, mailboxes: [Data]) async throws {
        let json = try JSONList.encode(mailboxes)
        try await updateContact(contactID, sql: "mailboxes = ?", arguments: [json])
    }

    /// Replaces (or clears) the contact's prekey bundle.
    public func updateContactPreKeyBundle(contactID: ContactID, bundle: Data?) async throws {
        try await updateContact(contactID, sql: "prekey_bundle = ?", arguments: [bundle])
    }

    /// Records that we heard from the contact directly at `date` (never moves backwards).
    public func updateContactLastSeen(contactID: ContactID, at date: Date) async throws {
        try await updateContact(contactID, sql: "last_seen_at = max(coalesce(last_seen_at, 0), ?)", arguments: [date.millisecondsSince1970])
    }

    /// Removes the contact with its session, conversation, messages, outbox entries and receipts.
    ///
    /// - Throws: `.notFound` when there is no such contact.
    public func removeContact(contactID: ContactID) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [contactID])
            guard db.changesCount == 1 else {
                throw ChatStoreError(.notFound, "no contact \(contactID)")
            }
        }
    }

    private func updateContact(_ contactID: ContactID, sql: String, arguments: StatementArguments) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE contacts SET \(sql) WHERE id = ?", arguments: arguments + [contactID])
            guard db.changesCount == 1 else {
                throw ChatStoreError(.notFound, "no contact \(contactID)")
            }
        }
    }

    /// The contact with `id` inside a transaction, or `.notFound`.
    static func fetchContact(_ db: Database, _ id: ContactID) throws -> Contact {
        guard let contact = try Contact.fetchOne(db, sql: Contact.selectSQL + " WHERE contacts.id = ?", arguments: [id]) else {
            throw ChatStoreError(.notFound, "no contact \(id)")
        }
        return contact
    }

    /// The id of the contact's direct conversation inside a transaction, or `.notFound`.
    static func directConversationID(_ db: Database, contactID: ContactID) throws -> ConversationID {
        guard let id = try ConversationID.fetchOne(db, sql: """
            SELECT id FROM conversations WHERE contact_id = ? AND kind = 'direct'
            """, arguments: [contactID]) else {
            throw ChatStoreError(.notFound, "no contact \(contactID)")
        }
        return id
    }
}
