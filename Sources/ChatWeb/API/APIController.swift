import Foundation
import ChatNode
import Hummingbird

/// The JSON API routes (API.md). Each handler decodes its parameters and calls one
/// `ChatWebBackend` method; errors become `ChatWebError` responses.
struct APIController<Context: RequestContext> {
    let backend: ChatWebBackend

    /// The largest request body read, 128 KiB (a 60 KiB message as JSON with escapes).
    static var maximumBodySize: Int { 128 * 1024 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("status") { _, _ in try await call { try await backend.status() } }
        group.get("contacts") { _, _ in try await call { ContactListJSON(contacts: try await backend.contacts()) } }
        group.post("contacts") { request, context in
            let body = try await decode(AddContactRequest.self, request, context)
            let contact = try await call { try await backend.addContact(body) }
            return EditedResponse(status: .created, response: contact)
        }
        group.post("invite") { _, _ in try await call { try await backend.makeInvite() } }
        group.get("contacts/{id}/messages") { request, context in
            let id = try contactID(context)
            let limit = try integer(request, "limit") ?? 50
            let before = request.uri.queryParameters["before"].map(String.init)
            return try await call { try await backend.messages(contactID: id, before: before, limit: limit) }
        }
        group.post("contacts/{id}/messages") { request, context in
            let id = try contactID(context)
            let body = try await decode(SendRequest.self, request, context)
            let message = try await call { try await backend.send(contactID: id, body) }
            return EditedResponse(status: .created, response: message)
        }
        group.post("contacts/{id}/files") { request, context in
            let id = try contactID(context)
            let message = try await call { try await receiveFile(request, context, contactID: id) }
            return EditedResponse(status: .created, response: message)
        }
        group.get("messages/{id}/attachment") { _, context in
            let id = try context.parameters.require("id")
            let file = try await call { try await backend.attachmentFile(messageID: id) }
            let body = try await FileIO().loadFile(path: file.url.path, context: context)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", .contentLength: String(file.size),
                    .contentDisposition: contentDisposition(fileName: file.name), .cacheControl: "no-store",
                ],
                body: body)
        }
        group.post("contacts/{id}/read") { _, context in
            let id = try contactID(context)
            return try await call { try await backend.markRead(contactID: id) }
        }
        group.post("messages/{id}/retry") { _, context in
            let id = try context.parameters.require("id")
            return try await call { try await backend.retry(messageID: id) }
        }
        group.post("messages/{id}/cancel") { _, context in
            let id = try context.parameters.require("id")
            return try await call { try await backend.cancel(messageID: id) }
        }
        group.get("search") { request, _ in
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            let contact = try integer(request, "contact").map(Int64.init)
            let limit = try integer(request, "limit") ?? 50
            return try await call { try await backend.search(query, contactID: contact, limit: limit) }
        }
        group.get("queue") { _, _ in try await call { try await backend.queue() } }
        group.get("mailboxes") { _, _ in try await call { try await backend.mailboxes() } }
        group.get("storage") { _, _ in try await call { try await backend.storage() } }
        group.post("storage/attachments/delete") { request, context in
            let body = try await decode(DeleteAttachmentsRequest.self, request, context)
            return try await call { try await backend.deleteAttachments(body) }
        }
    }

    /// Streams an upload (the raw request body, named by `X-P2PChat-File-Name`) into a private
    /// directory in the home, then sends it. The copy stays: the sent message's record points at it.
    private func receiveFile(_ request: Request, _ context: Context, contactID: Int64) async throws -> MessageJSON {
        guard let encoded = request.headers[.p2pchatFileName], let raw = encoded.removingPercentEncoding, !raw.isEmpty else {
            throw ChatWebError(.badRequest, "name the file in the X-P2PChat-File-Name header (percent-encoded)")
        }
        let caption = request.headers[.p2pchatCaption].flatMap { $0.removingPercentEncoding }
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > backend.uploadLimit {
            throw ChatWebError(.tooLarge, "file of \(length) bytes; the web UI sends files up to \(backend.uploadLimit) bytes")
        }
        _ = try await backend.contact(id: contactID)
        let directory = try backend.makeUploadDirectory()
        let file = directory.appendingPathComponent(AttachmentFileName.sanitize(raw))
        do {
            try await FileIO().writeFile(
                contents: UploadBody(base: request.body, limit: backend.uploadLimit), path: file.path, context: context)
            return try await backend.sendFile(contactID: contactID, file: file, caption: caption)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Runs `body`, translating the node's and store's errors into API errors.
    private func call<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw ChatWebError.wrapping(error)
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: Context) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch {
            throw ChatWebError(.tooLarge, "request body over \(Self.maximumBodySize) bytes")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw ChatWebError(.badRequest, "the request body is not the expected JSON (see API.md)", underlying: error)
        }
    }

    private func contactID(_ context: Context) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw ChatWebError(.badRequest, "'\(text)' is not a contact id") }
        return id
    }

    private func integer(_ request: Request, _ name: String) throws -> Int? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int(String(text)) else { throw ChatWebError(.badRequest, "\(name) must be an integer, got '\(text)'") }
        return value
    }
}
