import Glibc
import Netlink
import Synchronization

/// A netlink socket to the kernel (`NETLINK_GENERIC` by default): sends one request and collects
/// its replies, matched by sequence number, until the ack, the error, or the end of a dump.
public final class NetlinkSocket: Sendable {
    public static let netlinkGeneric: Int32 = 16
    private static let afNetlink: Int32 = 16

    let fd: Int32
    private let sequence = Mutex<UInt32>(0)
    private let io = Mutex<Void>(())

    /// Opens a socket in this thread's network namespace.
    public convenience init(protocol proto: Int32 = NetlinkSocket.netlinkGeneric) throws {
        let fd = socket(Self.afNetlink, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard fd >= 0 else { throw NetlinkError(code: .socket, errno: errno, message: "socket(AF_NETLINK)") }
        try self.init(fd: fd)
    }

    /// How long any receive waits for the kernel before the call fails (EAGAIN): no netlink call
    /// can hang a sync.
    public static let receiveTimeoutSeconds = 30

    /// Takes `fd`, an unbound netlink socket (e.g. made inside another network namespace), and binds it.
    public init(fd: Int32) throws {
        self.fd = fd
        var address = [UInt8](repeating: 0, count: 12)   // struct sockaddr_nl {family, pad, pid 0 = auto, groups}
        address[0] = UInt8(Self.afNetlink)
        let bound = address.withUnsafeBytes { bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), 12) }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw NetlinkError(code: .socket, errno: e, message: "bind(AF_NETLINK)")
        }
        setReceiveTimeout(seconds: Self.receiveTimeoutSeconds)
    }

    deinit { close(fd) }

    /// The next sequence number.
    public func nextSequence() -> UInt32 { sequence.withLock { $0 &+= 1; return $0 } }

    /// Reserves `count` sequence numbers and returns the first.
    public func nextSequence(count: UInt32) -> UInt32 { sequence.withLock { let first = $0 &+ 1; $0 &+= count; return first } }

    /// Sends `message` and returns the data messages of its reply (none for a plain ack).
    /// - Throws: ``NetlinkError`` `.kernel` with the errno when the kernel refuses it.
    public func request(_ message: NetlinkMessage) throws -> [NetlinkMessage] {
        try io.withLock { _ in
            let bytes = message.encoded()
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, 0) }
            guard sent == bytes.count else { throw NetlinkError(code: .socket, errno: errno, message: "send") }
            var replies: [NetlinkMessage] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 18)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw NetlinkError(code: .socket, errno: errno, message: "recv") }
                for reply in try NetlinkMessage.parse(Array(buffer[0..<n])) where reply.sequence == message.sequence {
                    if let errorNumber = reply.errorNumber {
                        if errorNumber != 0 { throw NetlinkError(code: .kernel, errno: errorNumber, message: "netlink request type \(message.type)") }
                        return replies
                    }
                    if reply.type == NetlinkMessage.doneType { return replies }
                    replies.append(reply)
                    // A single (non-dump) reply without NLM_F_MULTI is followed by the ack we asked for.
                }
            }
        }
    }

    /// Requests per `send` in ``requestBatch(_:)``.
    static let batchLimit = 100

    /// Sends `messages` (requests that expect only an ack), many per `send`, and waits for every
    /// ack. The kernel handles each message of a buffer in turn, also after one fails.
    /// - Throws: ``NetlinkError`` `.kernel` for the first refused message, with its index.
    public func requestBatch(_ messages: [NetlinkMessage]) throws {
        try io.withLock { _ in
            var firstError: (index: Int, errno: Int32)?
            var start = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 18)
            while start < messages.count {
                // At most 100 requests per send: the kernel queues one ack per request on this socket
                // and counts each at its buffer's true size (near 1 KiB); more than the receive buffer
                // holds (about 200 KiB by default) and the rest are dropped (recv fails with ENOBUFS).
                var bytes: [UInt8] = []
                var end = start
                while end < messages.count && end - start < Self.batchLimit {
                    bytes += messages[end].encoded()
                    end += 1
                }
                let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, 0) }
                guard sent == bytes.count else { throw NetlinkError(code: .socket, errno: errno, message: "send") }
                var pending = Dictionary(uniqueKeysWithValues: (start..<end).map { (messages[$0].sequence, $0) })
                try awaitAcks(&pending, buffer: &buffer, firstError: &firstError)
                start = end
            }
            if let firstError {
                throw NetlinkError(code: .kernel, errno: firstError.errno, message: "netlink batch: request \(firstError.index) of \(messages.count) refused",
                                   batchIndex: firstError.index)
            }
        }
    }

    /// Sends `messages` in one `send` (an nf_tables batch must arrive whole) and waits for the ack
    /// of every message that asked for one. The kernel reports every refused message whether it
    /// asked or not, so a batch usually asks on its last message only. The socket's buffers are raised to fit.
    /// - Throws: ``NetlinkError`` `.kernel` for the first refused message, with its index.
    public func transaction(_ messages: [NetlinkMessage]) throws {
        try io.withLock { _ in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(messages.count * 160)
            var pending: [UInt32: Int] = [:], indexes: [UInt32: Int] = [:]
            for (index, message) in messages.enumerated() {
                message.encode(into: &bytes)
                indexes[message.sequence] = index
                if message.flags.contains(.ack) { pending[message.sequence] = index }
            }
            // SO_SNDBUFFORCE / SO_RCVBUFFORCE (root): the batch, and about 1 KiB of queue per ack.
            for (option, size) in [(Int32(32), bytes.count + 65_536), (Int32(33), pending.count * 1_024 + 65_536)] where size > 200_000 {
                var value = Int32(size)
                setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
            }
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, 0) }
            guard sent == bytes.count else { throw NetlinkError(code: .socket, errno: errno, message: "send (\(bytes.count) bytes)") }
            defer { setReceiveTimeout(seconds: Self.receiveTimeoutSeconds) }   // after a refusal it waits 1 s
            var firstError: (index: Int, errno: Int32)?
            var buffer = [UInt8](repeating: 0, count: 1 << 18)
            try awaitAcks(&pending, unacked: indexes, buffer: &buffer, firstError: &firstError)
            if let firstError {
                throw NetlinkError(code: .kernel, errno: firstError.errno, message: "netlink transaction: message \(firstError.index) of \(messages.count) refused",
                                   batchIndex: firstError.index)
            }
        }
    }

    private func setReceiveTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads replies until every message in `pending` (sequence -> index) was acked or refused,
    /// keeping the refusal with the lowest index in `firstError`; refusals of messages in `unacked`
    /// count too. After a refusal it waits at most a second more. The caller holds `io`.
    private func awaitAcks(_ pending: inout [UInt32: Int], unacked: [UInt32: Int] = [:], buffer: inout [UInt8],
                           firstError: inout (index: Int, errno: Int32)?) throws {
        while !pending.isEmpty {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                if firstError != nil, errno == EAGAIN || errno == EWOULDBLOCK { return }
                throw NetlinkError(code: .socket, errno: errno, message: "recv")
            }
            for reply in try NetlinkMessage.parse(Array(buffer[0..<n])) {
                guard let errorNumber = reply.errorNumber,
                      let index = pending.removeValue(forKey: reply.sequence) ?? unacked[reply.sequence] else { continue }
                if errorNumber != 0 {
                    if firstError == nil && !unacked.isEmpty { setReceiveTimeout(seconds: 1) }
                    if firstError.map({ index < $0.index }) ?? true { firstError = (index, errorNumber) }
                }
            }
        }
    }

    /// Resolves a generic netlink family name to its id.
    public func familyID(_ name: String) throws -> UInt16 {
        let replies = try request(GenericNetlinkController.getFamily(name, sequence: nextSequence()))
        guard let reply = replies.first else { throw NetlinkError(code: .malformed, message: "no reply to CTRL_CMD_GETFAMILY \(name)") }
        return try GenericNetlinkController.familyID(in: reply)
    }
}
