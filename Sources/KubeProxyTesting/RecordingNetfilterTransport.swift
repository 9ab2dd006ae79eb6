import KubeProxyKernel
import Netlink
import Synchronization

/// A `NETLINK_NETFILTER` transport for tests of what is sent, not of what the kernel does
/// (that is the kernel tests' job): it keeps every batch, and refuses the message at
/// ``refuseIndex`` of the next batch as the kernel reports it (its errno, its index).
public final class RecordingNetfilterTransport: NetfilterTransport {
    private struct State {
        var sequence: UInt32 = 0
        var batches: [[NetlinkMessage]] = []
        var refuse: (index: Int, errno: Int32)?
    }
    private let state = Mutex(State())

    public init() {}

    /// The batches received, in order (each framed by BATCH_BEGIN and BATCH_END).
    public var batches: [[NetlinkMessage]] { state.withLock { $0.batches } }

    /// Makes the next batch fail at message `index` (counted from BATCH_BEGIN, as the kernel does).
    public func refuseNext(at index: Int, errno: Int32) { state.withLock { $0.refuse = (index, errno) } }

    public func nextSequence() -> UInt32 { state.withLock { $0.sequence &+= 1; return $0.sequence } }
    public func nextSequence(count: UInt32) -> UInt32 { state.withLock { let first = $0.sequence &+ 1; $0.sequence &+= count; return first } }
    public func request(_ message: NetlinkMessage) throws -> [NetlinkMessage] { [] }

    public func transaction(_ messages: [NetlinkMessage]) throws {
        let refuse = state.withLock { s in
            s.batches.append(messages)
            defer { s.refuse = nil }
            return s.refuse
        }
        if let refuse {
            throw NetlinkError(code: .kernel, errno: refuse.errno, message: "netlink transaction: message \(refuse.index)", batchIndex: refuse.index)
        }
    }
}
