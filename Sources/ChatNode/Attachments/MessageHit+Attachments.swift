import ChatStore

extension MessageHit {
    /// The hit as search results show it: for an attachment message, the file's name and
    /// caption instead of a snippet of its JSON body (which holds the blob key).
    func forDisplay(of message: ChatMessage) -> MessageHit {
        guard message.kind == .attachment else { return self }
        var hit = self
        hit.snippet = AttachmentContent.searchText(of: message)
        return hit
    }
}
