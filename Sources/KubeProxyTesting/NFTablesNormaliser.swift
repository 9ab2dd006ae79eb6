/// Upstream's comparison of nftables dumps (`sortNFTablesTransaction` in the nftables
/// `helpers_test.go`): blank and `#` lines dropped, lines sorted by object type, then object name;
/// rules of one chain keep their order.
public enum NFTablesNormaliser {
    static let objectOrder = ["table": 10, "chain": 9, "rule": 8, "set": 7, "map": 6, "element": 5]

    public static func sorted(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let indexed = lines.enumerated().map { ($0.offset, $0.element, $0.element.split(separator: " ", omittingEmptySubsequences: false).map(String.init)) }
        func less(_ a: (Int, String, [String]), _ b: (Int, String, [String])) -> Bool? {
            let (wa, wb) = (a.2, b.2)
            if wa.count < 5 || wb.count < 5 { return nil }
            if wa[1] != wb[1] { return (objectOrder[wa[1]] ?? 0) > (objectOrder[wb[1]] ?? 0) }
            if wa[4] != wb[4] { return wa[4] < wb[4] }
            if wa[1] == "rule" { return nil }
            if a.1 == b.1 { return nil }
            return a.1 < b.1
        }
        // A stable insertion-based merge sort with a three-way comparison.
        let sortedLines = mergeSort(indexed) { a, b in less(a, b) ?? (a.0 < b.0) }
        return sortedLines.map(\.1).joined(separator: "\n")
    }

    static func mergeSort<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
        if items.count <= 1 { return items }
        let mid = items.count / 2
        let left = mergeSort(Array(items[..<mid]), by: less), right = mergeSort(Array(items[mid...]), by: less)
        var out: [T] = []
        out.reserveCapacity(items.count)
        var i = 0, j = 0
        while i < left.count && j < right.count {
            if less(right[j], left[i]) { out.append(right[j]); j += 1 } else { out.append(left[i]); i += 1 }
        }
        out += left[i...]
        out += right[j...]
        return out
    }
}
