import KubeProxyCore
import KubeProxyModel
import Logging
import Netlink

/// Deletes stale UDP conntrack entries over ctnetlink, as upstream does since 1.32: one dump of
/// the family's table, the matching entries chosen here, then one delete per entry (batched, an
/// entry already gone is fine). No process per flow; the socket's calls run on ``BlockingIO``'s threads.
public struct ConntrackNetlink: ConntrackCleaner {
    let socket: NetlinkSocket
    let logger: Logger

    /// Opens a `NETLINK_NETFILTER` socket in this thread's network namespace.
    public init(logger: Logger = Logger(label: "swift-kube-proxy.conntrack")) throws {
        self.init(socket: try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol), logger: logger)
    }

    public init(socket: NetlinkSocket, logger: Logger = Logger(label: "swift-kube-proxy.conntrack")) {
        self.socket = socket
        self.logger = logger
    }

    public func delete(_ deletions: [ConntrackDeletion], family: IPFamily) async -> Int {
        guard !deletions.isEmpty else { return 0 }
        let (socket, familyNumber): (NetlinkSocket, UInt8) = (socket, family == .ipv4 ? 2 : 10)
        do {
            let replies = try await BlockingIO.run { try socket.request(Conntrack.dumpRequest(family: familyNumber, sequence: socket.nextSequence())) }
            // Filters by destination port first: a node may hold 100k entries.
            let byPort = Dictionary(grouping: deletions, by: \.origPortDst)
            var doomed: [Conntrack.Entry] = []
            for reply in replies {
                guard let entry = try? Conntrack.entry(in: reply), entry.original.protocolNumber == 17,   // a malformed one is skipped alone
                      let candidates = byPort[Int(entry.original.destinationPort)], candidates.contains(where: { $0.matches(entry) }) else { continue }
                doomed.append(entry)
            }
            guard !doomed.isEmpty else { return 0 }
            let first = socket.nextSequence(count: UInt32(doomed.count))
            let requests = doomed.enumerated().map { Conntrack.deleteRequest($0.element.original, family: familyNumber, sequence: first &+ UInt32($0.offset)) }
            do { try await BlockingIO.run { try socket.requestBatch(requests) } } catch let error as NetlinkError where error.code == .kernel {
                // The kernel handles every request of a batch; ENOENT (expired meanwhile) is expected.
                if error.errno != 2 { logger.warning("some stale conntrack entries were not deleted", metadata: ["error": "\(error)"]) }
            }
            return doomed.count
        } catch {
            logger.warning("cannot delete stale conntrack entries", metadata: ["error": "\(error)", "filters": "\(deletions.count)"])
            return 0
        }
    }
}

extension ConntrackDeletion {
    /// Whether a UDP entry is one this filter deletes: original destination (any address when
    /// nil) and port, and the reply's source when given.
    public func matches(_ entry: Conntrack.Entry) -> Bool {
        guard entry.original.protocolNumber == 17, Int(entry.original.destinationPort) == origPortDst else { return false }
        if let origDst, IPAddress(bytes: entry.original.destination) != origDst { return false }
        if let replySrc, IPAddress(bytes: entry.reply.source) != replySrc { return false }
        if let replyPortSrc, Int(entry.reply.sourcePort) != replyPortSrc { return false }
        return true
    }
}
