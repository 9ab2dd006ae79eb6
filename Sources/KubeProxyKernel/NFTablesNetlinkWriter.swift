import Logging
import Netlink
import NFTablesRules
import NFTablesWire
import Synchronization

/// Applies nftables transactions as one nf_tables netlink batch when ``NFTNetlinkEncoder`` can
/// write them (Service chains, rules, elements: every partial sync), and through `nft` otherwise
/// (the table's setup). `nft -f` first loads a cache of the whole table, about a second at 10k
/// Services; the batch costs what it contains. Everything else (`check`, listings) is `nft`'s.
/// Sends and receives run on ``BlockingIO``'s threads, off Swift's cooperative pool.
public final class NFTablesNetlinkWriter: NFTablesInterface {
    let nft: any NFTablesInterface
    let socket: any NetfilterTransport
    let encoder = NFTNetlinkEncoder()
    let logger: Logger
    private let counts = Mutex<(netlink: Int, nft: Int)>((0, 0))

    /// - Parameter socket: a `NETLINK_NETFILTER` socket in the network namespace to program (or a fake).
    public init(nft: any NFTablesInterface, socket: any NetfilterTransport, logger: Logger = Logger(label: "swift-kube-proxy.nftables")) {
        self.nft = nft
        self.socket = socket
        self.logger = logger
    }

    /// Opens a `NETLINK_NETFILTER` socket in this process's network namespace.
    public convenience init(nft: any NFTablesInterface, logger: Logger = Logger(label: "swift-kube-proxy.nftables")) throws {
        self.init(nft: nft, socket: try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol), logger: logger)
    }

    /// Transactions applied over netlink, and through `nft`.
    public var transactions: (netlink: Int, nft: Int) { counts.withLock { $0 } }

    public func run(_ transaction: NFTTransaction) async throws {
        guard !transaction.isEmpty else { return }
        let encoded: NFTNetlinkEncoder.Encoded
        do {
            encoded = try encoder.encode(transaction, firstSequence: socket.nextSequence(count: UInt32(transaction.count * 3 + 2)) + 1)
        } catch let error as NFTWireError {
            logger.debug("transaction goes to nft", metadata: ["reason": "\(error)"])
            counts.withLock { $0.nft += 1 }
            try await nft.run(transaction)
            return
        }
        let first = encoded.messages.first!.sequence, last = encoded.messages.last!.sequence
        let (socket, batch) = (socket, NFTablesNetlink.batch(encoded.messages, begin: first - 1, end: last + 1))
        do {
            try await BlockingIO.run { try socket.transaction(batch) }
        } catch let error as NetlinkError {
            // The batch's message index, less BATCH_BEGIN, names the operation (1-based, as nft's lines).
            let operation = error.batchIndex.flatMap { $0 >= 1 && $0 <= encoded.operations.count ? encoded.operations[$0 - 1] : nil }
            let text = operation.map { op in
                let o = transaction.operations[op]
                return o.object.line(o.verb.rawValue, family: transaction.family, table: transaction.table)
            }
            throw NFTablesError(code: .commandFailed, operation: operation.map { $0 + 1 } ?? 0,
                                message: "\(error)" + (text.map { ": \($0)" } ?? ""))
        }
        counts.withLock { $0.netlink += 1 }
    }

    public func check(_ transaction: NFTTransaction) async throws { try await nft.check(transaction) }
    public func listChains(family: String, table: String) async throws -> [String] { try await nft.listChains(family: family, table: table) }
    public func listSets(family: String, table: String) async throws -> [String] { try await nft.listSets(family: family, table: table) }
    public func tableExists(family: String, table: String) async -> Bool { await nft.tableExists(family: family, table: table) }
    /// Counted from netlink dumps of just those chains and containers: listing the whole table
    /// (`nft list table`, or a dump of every rule) takes as long as a full sync at 10k Services.
    public func summary(family: String, table: String, chains: Set<String>, containers: Set<String>) async throws -> NFTTableSummary {
        guard let nfFamily = NFTablesNetlink.Family(name: family) else {
            return try await nft.summary(family: family, table: table, chains: chains, containers: containers)
        }
        let socket = socket
        return try await BlockingIO.run {
            var summary = NFTTableSummary()
            for chain in chains {
                let request = NFTablesNetlink.dumpRules(family: nfFamily, table: table, chain: chain, sequence: socket.nextSequence())
                guard let replies = try Self.unlessMissing({ try socket.request(request) }) else { continue }
                summary.rules[chain] = replies.count
            }
            for container in containers {
                let request = NFTablesNetlink.dumpElements(family: nfFamily, table: table, set: container, sequence: socket.nextSequence())
                guard let replies = try Self.unlessMissing({ try socket.request(request) }) else { continue }
                summary.elements[container] = try replies.reduce(0) { $0 + (try NFTablesNetlink.elementCount(in: $1)) }
            }
            return summary
        }
    }

    /// `body`'s result, or nil when the kernel answers ENOENT (no such chain or set).
    static func unlessMissing<T>(_ body: () throws -> T) throws -> T? {
        do { return try body() } catch let error as NetlinkError where error.code == .kernel && error.errno == 2 { return nil }
    }
}
