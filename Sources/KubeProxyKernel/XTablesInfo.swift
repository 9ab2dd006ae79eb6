#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// How many entries an x_tables (iptables-legacy) table of this process's network namespace holds,
/// from the kernel's table header (`IPT_SO_GET_INFO`): microseconds, where `iptables-save` of a
/// 10k-Service nat table takes seconds. Any change to the table's rules changes it, so the
/// integrity check reads the rules only when it moved.
public enum XTablesInfo {
    /// Whether iptables-legacy has `table` in this namespace at all (`/proc/net/ip_tables_names`),
    /// so that asking never makes the kernel create a legacy table on a host that uses nft.
    public static func exists(table: String, family: IPFamily) -> Bool {
        let path = family == .ipv4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names"
        guard let fd = fopen(path, "r") else { return false }
        defer { fclose(fd) }
        var line = [CChar](repeating: 0, count: 64)
        while fgets(&line, Int32(line.count), fd) != nil {
            let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            if String(decoding: bytes, as: UTF8.self).trimmingSpaces() == table { return true }
        }
        return false
    }

    /// The entry count of `table` (`nat`, `filter`, ...), or nil when it cannot be read.
    public static func entries(table: String, family: IPFamily) -> Int? {
        let (domain, level) = family == .ipv4 ? (AF_INET, Int32(IPPROTO_IP)) : (AF_INET6, Int32(IPPROTO_IPV6))
        let fd = socket(domain, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_RAW))
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // struct ipt_getinfo: name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size.
        var info = [UInt8](repeating: 0, count: 84)
        for (i, byte) in table.utf8.prefix(31).enumerated() { info[i] = byte }
        var length = socklen_t(info.count)
        let getInfo: Int32 = 64   // IPT_SO_GET_INFO, IP6T_SO_GET_INFO
        guard info.withUnsafeMutableBytes({ getsockopt(fd, level, getInfo, $0.baseAddress, &length) }) == 0 else { return nil }
        return Int(info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 76, as: UInt32.self) })   // host order
    }
}
