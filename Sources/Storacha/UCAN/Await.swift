import IPLD
import Multiformats

/// A promise of a field of another task's result: `{"ucan/await": [selector, CID(task)]}`
/// (ucanto `core/src/receipt.js`, upload-service `blob/add.js`: `['.out.ok.site', task]`).
public struct Await: Hashable, Sendable {
    /// The key of the promise map.
    public static let key = "ucan/await"

    /// The selector into the awaited receipt, e.g. `.out.ok.address.url`.
    public var selector: String
    /// The awaited task.
    public var task: CID

    /// Creates a promise.
    public init(selector: String, task: CID) {
        self.selector = selector
        self.task = task
    }

    /// Parses `{"ucan/await": [selector, link]}`.
    public init(parsing value: IPLDValue) throws {
        guard let map = value.mapValue, map.count == 1, let pair = map[Self.key]?.listValue, pair.count == 2,
              let selector = pair[0].stringValue, let task = pair[1].linkValue
        else {
            throw StorachaError(.malformedInput, "not a ucan/await promise")
        }
        self.selector = selector
        self.task = task
    }

    /// The data-model value.
    public var dataModel: IPLDValue {
        .map([Self.key: .list([.string(selector), .link(task)])])
    }
}
