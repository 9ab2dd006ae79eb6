/// The attribute readers behind ``NFTablesNetlink/operation(in:)``: headers, sets, elements,
/// libnftnl's user data.
extension NFTablesNetlink {
    /// EINVAL: a request the kernel cannot parse.
    static func invalid(_ what: String) -> NetlinkError { NetlinkError(code: .malformed, errno: 22, message: what) }
    /// EOPNOTSUPP: a request outside what the builders write.
    static func unsupported(_ what: String) -> NetlinkError { NetlinkError(code: .malformed, errno: 95, message: what) }

    /// A big-endian 32-bit attribute's value.
    static func be32(_ attribute: NetlinkAttribute?) -> UInt32? {
        guard let payload = attribute?.payload, payload.count == 4 else { return nil }
        return payload.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The family (`struct nfgenmsg`) and top-level attributes of an nf_tables message.
    static func header(_ message: NetlinkMessage) throws -> (Family, [NetlinkAttribute]) {
        guard message.type >> 8 == subsystem, message.payload.count >= 4 else { throw invalid("not an nf_tables message (type \(message.type))") }
        guard let family = Family(rawValue: message.payload[0]) else { throw unsupported("family \(message.payload[0])") }
        guard message.payload[1] == 0 else { throw invalid("nfgenmsg version \(message.payload[1])") }
        return (family, try topLevel(message))
    }

    /// The comment (type 0) in libnftnl's user data (type, length, value triples), if any.
    static func userDataComment(_ bytes: [UInt8]) throws -> String? {
        var offset = 0
        while offset + 2 <= bytes.count {
            let (type, length) = (bytes[offset], Int(bytes[offset + 1]))
            guard offset + 2 + length <= bytes.count else { throw invalid("user data of \(bytes.count) bytes overrun") }
            if type == 0 { return String(decoding: bytes[(offset + 2)..<(offset + 2 + length)].prefix { $0 != 0 }, as: UTF8.self) }
            offset += 2 + length
        }
        return nil
    }

    static func setDeclaration(_ a: [NetlinkAttribute]) throws -> SetDeclaration {
        guard let table = a.first(SetAttribute.table)?.string, let name = a.first(SetAttribute.name)?.string,
              let keyType = be32(a.first(SetAttribute.keyType)), let keyLength = be32(a.first(SetAttribute.keyLength)) else {
            throw invalid("set without table, name, key type or key length")
        }
        let timeout = a.first(SetAttribute.timeout).flatMap { $0.payload.count == 8 ? $0.payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : nil }
        let size = try a.first(SetAttribute.description).flatMap { be32(try $0.children().first(1)) }
        return SetDeclaration(table: table, name: name, flags: be32(a.first(SetAttribute.flags)) ?? 0, keyType: keyType, keyLength: keyLength,
                              dataType: be32(a.first(SetAttribute.dataType)), id: be32(a.first(SetAttribute.id)), timeoutMilliseconds: timeout, size: size)
    }

    /// One `NFTA_LIST_ELEM`'s key, data (bytes or a verdict), interval-end flag and comment.
    static func element(_ a: [NetlinkAttribute]) throws -> Element {
        guard let key = try a.first(ElementAttribute.key)?.children().first(DataAttribute.value)?.payload else { throw invalid("element without a key") }
        if let other = a.first(where: { ![ElementAttribute.key, ElementAttribute.data, ElementAttribute.flags, ElementAttribute.userData].contains($0.type) }) {
            throw unsupported("element attribute \(other.type)")
        }
        var data = Data.none
        if let nested = try a.first(ElementAttribute.data)?.children() {
            if let value = nested.first(DataAttribute.value) {
                data = .bytes(value.payload)
            } else if let verdict = nested.first(2) {
                data = .verdict(try NFTablesExpression.Verdict(attribute: verdict))
            } else {
                throw invalid("element data without a value or verdict")
            }
        }
        let flags = be32(a.first(ElementAttribute.flags)) ?? 0
        guard flags & ~1 == 0 else { throw unsupported("element flags \(flags)") }
        let comment = try a.first(ElementAttribute.userData).flatMap { try userDataComment($0.payload) }
        return Element(key: key, data: data, comment: comment, intervalEnd: flags & 1 != 0)
    }
}
