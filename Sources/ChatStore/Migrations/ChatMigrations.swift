import GRDB

/// The versioned schema migrations of `chat.sqlite`.
///
/// Migrations are plain SQL so that what a version created never changes with the library;
/// a released migration is never edited, only followed by a new one.
enum ChatMigrations {
    /// The migrator with every migration, oldest first.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: identity, prekeys, contacts, sessions, messages, outbox, receipts, fts") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2: mailboxes and our mailbox queues") { db in
            try db.execute(sql: v2)
        }
        // Attachments (ChatNode/Attachments): registered under its own name so that other
        // migrations added meanwhile keep their order by registration, not by number.
        migrator.registerMigration("v3-attachments") { db in
            try db.execute(sql: v3Attachments)
        }
        // Storacha spaces as inboxes (ChatNode/Storacha), same naming rule.
        migrator.registerMigration("v4-storacha") { db in
            try db.execute(sql: v4Storacha)
        }
        // Storacha deposit keys (ChatNode/Storacha): contacts deposit with a per-grant key, never their identity.
        migrator.registerMigration("v5-storacha-deposit-keys") { db in
            try db.execute(sql: v5StorachaDepositKeys)
        }
        return migrator
    }

    /// Version 1 of the schema. Times are INTEGER milliseconds since 1970; crypto state is an
    /// opaque BLOB whose format version is ChatCrypto's business.
    static let v1 = """
        CREATE TABLE local_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            display_name TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            listen_port INTEGER CHECK (listen_port BETWEEN 0 AND 65535),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE prekeys (
            kind TEXT NOT NULL CHECK (kind IN ('identity', 'signed', 'one-time')),
            key_id INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
            suite INTEGER NOT NULL CHECK (suite BETWEEN 0 AND 255),
            key BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            consumed_at INTEGER,
            PRIMARY KEY (kind, key_id)
        ) WITHOUT ROWID;

        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            display_name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            peer_id TEXT NOT NULL UNIQUE,
            addresses TEXT NOT NULL DEFAULT '[]',
            prekey_bundle BLOB,
            mailboxes TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER
        );

        CREATE TABLE sessions (
            contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
            state BLOB NOT NULL,
            version INTEGER NOT NULL CHECK (version > 0),
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE conversations (
            id BLOB PRIMARY KEY CHECK (length(id) = 16),
            kind TEXT NOT NULL DEFAULT 'direct',
            contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
            next_out_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_out_seq > 0),
            last_read_seq INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX conversations_direct ON conversations(contact_id) WHERE kind = 'direct';

        CREATE TABLE messages (
            row_id INTEGER PRIMARY KEY,
            id BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
            conversation_id BLOB NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            sender_contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
            seq INTEGER NOT NULL CHECK (seq > 0),
            body TEXT NOT NULL,
            kind TEXT NOT NULL,
            reply_to BLOB CHECK (reply_to IS NULL OR length(reply_to) = 16),
            sent_at INTEGER NOT NULL,
            received_at INTEGER,
            state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'stored', 'delivered', 'read', 'failed')),
            stored_copies INTEGER,
            stored_total INTEGER,
            failure_reason TEXT,
            state_changed_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            expires_at INTEGER,
            error TEXT,
            UNIQUE (conversation_id, direction, seq)
        );
        CREATE INDEX messages_timeline ON messages(conversation_id, sent_at, seq);
        CREATE INDEX messages_pending_expiry ON messages(expires_at)
            WHERE direction = 'out' AND state IN ('queued', 'sent', 'stored');

        CREATE TABLE outbox (
            message_id BLOB PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            envelope BLOB,
            next_attempt_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX outbox_due ON outbox(next_attempt_at);
        CREATE INDEX outbox_contact ON outbox(contact_id);

        CREATE TABLE receipts (
            message_id BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('delivered', 'read')),
            at INTEGER NOT NULL,
            PRIMARY KEY (message_id, kind)
        ) WITHOUT ROWID;

        CREATE VIRTUAL TABLE messages_fts USING fts5(
            body,
            content = 'messages',
            content_rowid = 'row_id',
            tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, body) VALUES (new.row_id, new.body);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.row_id, old.body);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.row_id, old.body);
            INSERT INTO messages_fts(rowid, body) VALUES (new.row_id, new.body);
        END;
        """

    /// Version 2: the mailboxes this user receives at and the queues created there. A queue
    /// with no contact was handed out in an invite and is assigned to whoever accepts it.
    /// `credentials` is Mailbox's `QueueCredentials` encoding (it holds both private keys).
    static let v2 = """
        CREATE TABLE mailboxes (
            address TEXT PRIMARY KEY,
            push_endpoint TEXT,
            added_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE mailbox_queues (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL REFERENCES mailboxes(address) ON DELETE CASCADE,
            queue_id BLOB NOT NULL UNIQUE,
            contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
            credentials BLOB NOT NULL,
            announced INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1)),
            created_at INTEGER NOT NULL
        );
        CREATE INDEX mailbox_queues_contact ON mailbox_queues(contact_id);
        CREATE INDEX mailbox_queues_mailbox ON mailbox_queues(mailbox);
        """

    /// The attachments of messages (ChatNode/Attachments): what the E2E content said (CID, key,
    /// name, size, media type) and, for received ones, the fetch state, progress and local path.
    /// `state` is `pending → fetching → done | failed`; a failed fetch with `next_attempt_at` is
    /// retried then, one without is final.
    static let v3Attachments = """
        CREATE TABLE attachments (
            message_id BLOB PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            cid TEXT NOT NULL,
            key BLOB NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL CHECK (size >= 0),
            media_type TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'fetching', 'done', 'failed')),
            failure TEXT,
            local_path TEXT,
            bytes_done INTEGER NOT NULL DEFAULT 0,
            bytes_total INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX attachments_due ON attachments(state, next_attempt_at) WHERE direction = 'in';
        """

    /// Storacha spaces as inboxes (ChatNode/Storacha): the endpoint setting (JSON), the spaces
    /// we drain with the delegation that lets us, the deposit rights we give contacts (renewed
    /// until revoked; `tag` tells a drain whose deposit a blob is), and contacts' spaces we may
    /// deposit in with the delegation they gave us.
    static let v4Storacha = """
        CREATE TABLE storacha_settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            endpoint TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE storacha_spaces (
            space TEXT PRIMARY KEY,
            delegation BLOB NOT NULL,
            expires_at INTEGER,
            added_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE storacha_grants (
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            space TEXT NOT NULL REFERENCES storacha_spaces(space) ON DELETE CASCADE,
            tag BLOB NOT NULL UNIQUE CHECK (length(tag) = 16),
            lifetime_seconds INTEGER NOT NULL CHECK (lifetime_seconds > 0),
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER,
            issued_at INTEGER NOT NULL,
            PRIMARY KEY (contact_id, space)
        ) WITHOUT ROWID;

        CREATE TABLE storacha_inboxes (
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            space TEXT NOT NULL,
            tag BLOB NOT NULL CHECK (length(tag) = 16),
            delegation BLOB NOT NULL,
            endpoint TEXT NOT NULL,
            expires_at INTEGER,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (contact_id, space)
        ) WITHOUT ROWID;
        """

    /// Storacha deposit keys (ChatNode/Storacha): each grant names a random Ed25519 deposit key
    /// that the delegation is for and that the contact signs deposits with, so the service never
    /// sees the contact's identity. `deposit_key` is `01` ‖ the ucanto signer archive bytes
    /// (version byte first; ChatNode refuses other versions). Rows from v4 have none and are
    /// refused until re-issued (grants get a key at their next issue; inboxes at the next grant).
    static let v5StorachaDepositKeys = """
        ALTER TABLE storacha_grants ADD COLUMN deposit_key BLOB;
        ALTER TABLE storacha_inboxes ADD COLUMN deposit_key BLOB;
        """
}
