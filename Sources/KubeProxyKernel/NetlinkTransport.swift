import Netlink

/// Something that carries netlink requests to a kernel: ``NetlinkSocket``, or a fake in tests.
public protocol NetlinkTransport: Sendable {
    func request(_ message: NetlinkMessage) throws -> [NetlinkMessage]
    /// Sends requests that expect only acks; throws for the first refused one (with its index).
    func requestBatch(_ messages: [NetlinkMessage]) throws
    func nextSequence() -> UInt32
}

extension NetlinkTransport {
    /// One request at a time.
    public func requestBatch(_ messages: [NetlinkMessage]) throws {
        for (index, message) in messages.enumerated() {
            do { _ = try request(message) } catch let error as NetlinkError {
                throw NetlinkError(code: error.code, errno: error.errno, message: "netlink batch: request \(index) of \(messages.count) refused",
                                   batchIndex: index)
            }
        }
    }
}

/// A transport for nf_tables batches as well: ``NetlinkSocket`` (`NETLINK_NETFILTER`), or a fake.
public protocol NetfilterTransport: NetlinkTransport {
    /// Sends `messages` as one batch (it must arrive whole) and waits for the acks asked for;
    /// throws for the first refused message, with its index.
    func transaction(_ messages: [NetlinkMessage]) throws
    /// Reserves `count` sequence numbers and returns the first.
    func nextSequence(count: UInt32) -> UInt32
}

extension NetlinkSocket: NetfilterTransport {}
