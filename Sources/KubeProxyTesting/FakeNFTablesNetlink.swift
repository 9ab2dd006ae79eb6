import Dispatch
import KubeProxyKernel
import Netlink
import NFTablesRules
import NFTablesWire
import Synchronization

/// An nf_tables kernel for tests, behind the netlink wire format (as ``FakeIPVSKernel`` is for
/// IPVS). Each batch is checked (BATCH_BEGIN and BATCH_END, consecutive sequence numbers), decoded
/// back into an ``NFTTransaction`` (rules rendered from their expressions by ``NFTExpressionText``,
/// element keys by their container's type) and run on a ``FakeNFTables``, all or nothing. A refusal
/// is the kernel's: a ``NetlinkError`` with the refused message's `batchIndex` (BATCH_BEGIN is 0)
/// and its errno (ENOENT, EEXIST, EBUSY, EINVAL; EOPNOTSUPP for what the fake does not model).
///
/// Share the `FakeNFTables` with an ``NFTablesNetlinkWriter`` (`nft: fake, socket:
/// FakeNFTablesNetlink(sharing: fake)`): its `nft` fallback and its batches then build one table,
/// and the fake's `transactions` hold both. Rule and element dumps are answered from that table.
/// Call it off Swift's cooperative pool, as the writer does (``BlockingIO``): it waits for the fake.
public final class FakeNFTablesNetlink: NetfilterTransport {
    /// The table's keeper, shared with `nft` users.
    public let nft: FakeNFTables
    private struct State {
        var sequence: UInt32 = 0
        var batches: [[NetlinkMessage]] = []
        var decoded: [NFTTransaction] = []
        var refuse: (index: Int, errno: Int32)?
    }
    private let state = Mutex(State())

    public init(sharing nft: FakeNFTables = FakeNFTables()) { self.nft = nft }

    /// Every batch received, refused ones too.
    public var batches: [[NetlinkMessage]] { state.withLock { $0.batches } }
    /// The transactions decoded from the accepted batches.
    public var transactions: [NFTTransaction] { state.withLock { $0.decoded } }

    /// Makes the next batch fail at message `index` (BATCH_BEGIN is 0) with `errno`, unapplied.
    public func refuseNext(at index: Int, errno: Int32) { state.withLock { $0.refuse = (index, errno) } }

    public func nextSequence() -> UInt32 { state.withLock { $0.sequence &+= 1; return $0.sequence } }
    public func nextSequence(count: UInt32) -> UInt32 { state.withLock { let first = $0.sequence &+ 1; $0.sequence &+= count; return first } }

    public func transaction(_ messages: [NetlinkMessage]) throws {
        let refuse = state.withLock { s in
            s.batches.append(messages)
            defer { s.refuse = nil }
            return s.refuse
        }
        if let refuse { throw Self.refusal(refuse.index, of: messages.count, errno: refuse.errno, "refused by the test") }
        let batch = try Self.decode(messages, table: nft.table)
        do {
            let transaction = batch.transaction
            try Self.wait { [nft] in try await nft.run(transaction) }
        } catch let error as NFTablesError {
            let index = error.operation >= 1 && error.operation <= batch.origins.count ? batch.origins[error.operation - 1] : nil
            let errno: Int32 = switch error.code {
            case .notFound: 2
            case .exists: 17
            case .busy: 16
            case .invalid: 22
            default: 1   // EPERM: the FakeNFTables' own `refuse`
            }
            throw NetlinkError(code: .kernel, errno: errno, message: "fake nf_tables: message \(index ?? 0) of \(messages.count) refused: \(error.message)",
                               batchIndex: index)
        }
        state.withLock { $0.decoded.append(batch.transaction) }
    }

    /// Answers rule and element dumps (``NFTablesNetlink/dumpRequest(in:)``) from the table: one
    /// message per rule (no expressions), one per set with its elements; ENOENT when missing.
    public func request(_ message: NetlinkMessage) throws -> [NetlinkMessage] {
        let refused = { (errno: Int32, why: String) in NetlinkError(code: .kernel, errno: errno, message: "fake nf_tables: \(why)") }
        let (family, request) = try NFTablesNetlink.dumpRequest(in: message)
        let table = nft.table
        switch request {
        case .rules(let name, let chain):
            guard name == table.table, family == NFTablesNetlink.Family(name: table.family), table.exists else { throw refused(2, "no table \(name)") }
            let chains = chain.map { [$0] } ?? table.chainNames
            return try chains.flatMap { chain in
                guard let rules = table.chains[chain]?.rules else { throw refused(2, "no chain \(chain)") }
                return rules.map { _ in NFTablesNetlink.ruleReply(family: family, table: name, chain: chain, [], sequence: message.sequence) }
            }
        case .elements(let name, let set):
            guard name == table.table, family == NFTablesNetlink.Family(name: table.family), let container = table.containers[set] else {
                throw refused(2, "no set \(set)")
            }
            let elements = try container.keys.map { key in
                let verdict = container.elements[key]?.value.flatMap { NFTElementText.verdict($0) }
                return NFTablesNetlink.Element(key: try NFTElementText.bytes(key, type: container.type), data: verdict.map { NFTablesNetlink.Data.verdict($0) } ?? .none)
            }
            var reply = NFTablesNetlink.elements(add: true, family: family, table: name, set: set, elements, sequence: message.sequence, ack: false)
            reply.flags = .multi
            return [reply]
        }
    }

    static func refusal(_ index: Int, of count: Int, errno: Int32, _ why: String) -> NetlinkError {
        NetlinkError(code: .kernel, errno: errno, message: "fake nf_tables: message \(index) of \(count) refused: \(why)", batchIndex: index)
    }

    /// Runs `body` and waits for it: the transport is synchronous, `FakeNFTables.run` is async
    /// (it only takes a lock, so this waits for nothing but a free thread).
    static func wait(_ body: @escaping @Sendable () async throws -> Void) throws {
        final class Outcome: Sendable { let result = Mutex<Result<Void, any Error>>(.success(())) }
        let (outcome, done) = (Outcome(), DispatchSemaphore(value: 0))
        Task.detached {
            do { try await body() } catch { outcome.result.withLock { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        try outcome.result.withLock { $0 }.get()
    }
}
