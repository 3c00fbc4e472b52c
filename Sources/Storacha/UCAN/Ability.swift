/// Ability names of the Storacha service as deployed (upload-service `packages/capabilities/src`).
public enum Ability {
    /// `space/blob/add` (`space/blob.js`): store a blob in a space.
    public static let spaceBlobAdd = "space/blob/add"
    /// `space/blob/list`: list the blobs of a space.
    public static let spaceBlobList = "space/blob/list"
    /// `space/blob/remove`: remove a blob from a space's listing.
    public static let spaceBlobRemove = "space/blob/remove"
    /// `upload/add` (`upload.js`): register a root (and its shards).
    public static let uploadAdd = "upload/add"
    /// `upload/list`.
    public static let uploadList = "upload/list"
    /// `upload/remove`.
    public static let uploadRemove = "upload/remove"
    /// `access/delegate` (`access.js`): store delegations with the service.
    public static let accessDelegate = "access/delegate"
    /// `ucan/conclude` (`ucan.js`): submit a receipt for a task.
    public static let ucanConclude = "ucan/conclude"
    /// `blob/allocate` (`blob.js`, provider side).
    public static let blobAllocate = "blob/allocate"
    /// Legacy `web3.storage/blob/allocate`.
    public static let legacyBlobAllocate = "web3.storage/blob/allocate"
    /// `blob/accept` (provider side).
    public static let blobAccept = "blob/accept"
    /// Legacy `web3.storage/blob/accept`.
    public static let legacyBlobAccept = "web3.storage/blob/accept"
    /// `http/put` (`http.js`): the upload task the client performs.
    public static let httpPut = "http/put"
    /// `assert/location` (content-claims): the location commitment `blob/accept` returns.
    public static let assertLocation = "assert/location"

    /// The abilities a contact needs to deposit into a space (blob add plus the conclude of its
    /// `http/put`, which is self-issued and needs no delegation).
    public static let depositAbilities = [spaceBlobAdd]
}
