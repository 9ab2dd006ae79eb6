/// Byte helpers for netlink's host-order integers and 4-byte alignment.
public enum NetlinkBytes {
    /// Bytes to add after `length` to reach a multiple of 4.
    public static func padding(_ length: Int) -> Int { (4 - length % 4) % 4 }

    /// `value` in host (little-endian on every platform Swift on Linux runs) order.
    public static func host<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// A host-order integer at `offset`, or nil when the bytes run out.
    public static func readHost<T: FixedWidthInteger, C: RandomAccessCollection>(_ bytes: C, at offset: C.Index) -> T?
    where C.Element == UInt8, C.Index == Int {
        let size = MemoryLayout<T>.size
        guard offset >= bytes.startIndex, offset + size <= bytes.endIndex else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}

/// A netlink failure: a malformed message, or the kernel's `-errno` for a request.
public struct NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let malformed = Code(name: "malformed")
        public static let kernel = Code(name: "kernel")
        public static let socket = Code(name: "socket")
        public var description: String { name }
    }
    public var code: Code
    /// The errno the kernel returned (positive), for `.kernel`.
    public var errno: Int32
    public var message: String
    /// In a batch, the index of the refused request.
    public var batchIndex: Int?

    public init(code: Code, errno: Int32 = 0, message: String, batchIndex: Int? = nil) {
        self.code = code
        self.errno = errno
        self.message = message
        self.batchIndex = batchIndex
    }

    public var description: String { code == .kernel || errno != 0 ? "\(message): errno \(errno)" : "\(code): \(message)" }
}
