/// Why a transaction could not be written as nf_tables netlink messages.
public struct NFTWireError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// A statement, object or verb the netlink writer does not write (the caller uses `nft`).
        case unsupported
        /// An element key or value that does not parse.
        case malformed
    }
    public var code: Code
    public var message: String
    /// The index of the operation in the transaction.
    public var operation: Int?

    public init(code: Code, message: String, operation: Int? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
    }

    public var description: String {
        "nftables netlink writer: \(code.rawValue): \(message)" + (operation.map { " (operation \($0))" } ?? "")
    }
}
