import KubeProxyModel
import Synchronization

/// What each Service and EndpointSlice converted to at its last `resourceVersion`, so that a sync
/// after one change converts one object, not every one (at 10k Services × 10 endpoints, parsing
/// every address again took most of a daemon sync). Objects without a resourceVersion (manifest
/// files) are always converted. Entries of objects that disappear are dropped by the next build.
public final class ConversionMemo: Sendable {
    struct Entry<Value: Sendable>: Sendable {
        var resourceVersion: String
        var value: Value
    }
    struct Table: Sendable {
        var family: IPFamily?
        var nodeName = ""
        var services: [String: Entry<Result<[ServicePortInfo], SkippedObject>>] = [:]
        var slices: [String: Entry<EndpointSliceCache.Contribution>] = [:]
    }
    private let table = Mutex(Table())

    public init() {}

    /// Runs `body` with the memo for `family` and `nodeName` (emptied when either changes), then
    /// keeps only the entries `body` used.
    func using<T>(family: IPFamily, nodeName: String, _ body: (inout Use) -> T) -> T {
        table.withLock { table in
            if table.family != family || table.nodeName != nodeName { table = Table(family: family, nodeName: nodeName) }
            var use = Use(old: table)
            let result = body(&use)
            table.services = use.services
            table.slices = use.slices
            return result
        }
    }

    /// One build's look-ups: hits are copied from the old table, misses converted and stored.
    struct Use {
        let old: Table
        var services: [String: Entry<Result<[ServicePortInfo], SkippedObject>>] = [:]
        var slices: [String: Entry<EndpointSliceCache.Contribution>] = [:]

        mutating func service(_ key: String, version: String?, _ convert: () -> Result<[ServicePortInfo], SkippedObject>) -> Result<[ServicePortInfo], SkippedObject> {
            Self.look(key, version: version, in: old.services, keeping: &services, convert)
        }

        mutating func slice(_ key: String, version: String?, _ convert: () -> EndpointSliceCache.Contribution) -> EndpointSliceCache.Contribution {
            Self.look(key, version: version, in: old.slices, keeping: &slices, convert)
        }

        /// The entry of `key` at `version` from `old` (or converted now), kept in `kept`.
        private static func look<Value>(_ key: String, version: String?, in old: [String: Entry<Value>], keeping kept: inout [String: Entry<Value>],
                                        _ convert: () -> Value) -> Value {
            guard let version else { return convert() }
            if let hit = old[key], hit.resourceVersion == version {
                kept[key] = hit
                return hit.value
            }
            let value = convert()
            kept[key] = Entry(resourceVersion: version, value: value)
            return value
        }
    }
}
