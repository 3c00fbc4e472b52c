/// What the UI shows, condensed: the contact list, each contact's recent messages and the
/// offline queue's counts. Two snapshots' difference is the list of events to push.
///
/// A plain value so the diff is tested without a node.
struct ChangeSnapshot: Sendable, Hashable {
    /// The contact list as `GET /api/contacts` returns it.
    var contacts: [ContactJSON]
    /// Each contact's most recent visible messages, by message id.
    var messages: [Int64: [String: MessageJSON]]
    /// The offline queue's counts.
    var queue: QueueCountsJSON

    /// The events that turn `old` into `self`, in a stable order: presence, contacts, new
    /// messages (oldest first), state changes, queue.
    func events(since old: ChangeSnapshot) -> [WebEvent] {
        var events: [WebEvent] = []
        let oldContacts = Dictionary(uniqueKeysWithValues: old.contacts.map { ($0.id, $0) })
        for contact in contacts {
            let wasOnline = oldContacts[contact.id]?.online ?? false
            if contact.online != wasOnline {
                events.append(.presence(contactID: contact.id, peerID: contact.peerID, online: contact.online))
            }
        }
        if contacts != old.contacts {
            events.append(.contacts(contacts))
        }
        var added: [MessageJSON] = []
        var changed: [MessageJSON] = []
        for (contactID, recent) in messages {
            let before = old.messages[contactID] ?? [:]
            for message in recent.values {
                if let previous = before[message.id] {
                    if previous.state != message.state || previous.error != message.error || previous.attachment != message.attachment {
                        changed.append(message)
                    }
                } else {
                    added.append(message)
                }
            }
        }
        let order: (MessageJSON, MessageJSON) -> Bool = { ($0.contactID, $0.sentAt, $0.seq, $0.id) < ($1.contactID, $1.sentAt, $1.seq, $1.id) }
        events += added.sorted(by: order).map(WebEvent.message)
        events += changed.sorted(by: order).map(WebEvent.state)
        if queue != old.queue {
            events.append(.queue(queue))
        }
        return events
    }
}
