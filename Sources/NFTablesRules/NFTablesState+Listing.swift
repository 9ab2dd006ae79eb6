import KubeProxyModel

extension NFTablesState {
    /// Reads `nft list table` output (`-y` or not) into the state the tracer walks: chains with
    /// their base hooks and rules, sets and maps with their elements. The kernel's spelling of a
    /// rule is turned back into the compiler's (``compilerSpelling(_:)``).
    /// - Throws: ``NFTablesError`` when the text holds no `table FAMILY NAME {` line.
    public init(listing: String) throws {
        let lines = listing.split(separator: "\n").map { ($0.prefix { $0 == "\t" }.count, String($0.trimmingSpaces())) }
        guard let header = lines.first(where: { $0.1.hasPrefix("table ") })?.1.split(separator: " "), header.count >= 3 else {
            throw NFTablesError(code: .invalid, operation: 0, message: "not an nft table listing")
        }
        self.init(family: String(header[1]), table: String(header[2]))
        exists = true
        var block: (kind: String, name: String)?
        var elements: String?   // `elements = { … }` text being collected
        for (tabs, line) in lines where !line.isEmpty {
            if tabs == 1 {
                let words = line.split(separator: " ").map(String.init)
                if line == "}" { block = nil } else if words.count >= 3, ["chain", "set", "map"].contains(words[0]) {
                    block = (words[0], words[1])
                    if words[0] == "chain" { chainOrder.append(words[1]); chains[words[1]] = Chain() } else {
                        containerOrder.append(words[1])
                        containers[words[1]] = Container(isMap: words[0] == "map", type: "", flags: [])
                    }
                } else if words.first == "comment" { tableComment = Self.unquoted(line.dropFirst(8)) }
                continue
            }
            guard let (kind, name) = block else { continue }
            if kind == "chain" {
                if line.hasPrefix("type ") { chains[name]?.base = Self.baseChain(line) }
                else if line.hasPrefix("comment \"") { chains[name]?.comment = Self.unquoted(line.dropFirst(8)) }
                else { chains[name]?.rules.append(Self.compilerSpelling(line)) }
                continue
            }
            if elements != nil || line.hasPrefix("elements = {") {
                elements = (elements.map { $0 + " " } ?? "") + (elements == nil ? String(line.dropFirst(12)) : line)
                guard line.hasSuffix("}") else { continue }
                for item in Self.topLevelItems(String(elements!.dropLast())) { addListed(item, to: name) }
                elements = nil
                continue
            }
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            switch words.first {
            case "type": containers[name]?.type = words.count > 1 ? words[1] : ""
            case "flags": containers[name]?.flags = words.count > 1 ? words[1].split(separator: ",").map(String.init) : []
            case "timeout": containers[name]?.timeoutSeconds = words.count > 1 ? Self.seconds(words[1]) : nil
            case "comment": containers[name]?.comment = words.count > 1 ? Self.unquoted(Substring(words[1])) : nil
            default: break   // size, policy, auto-merge, gc-interval
            }
        }
    }

    /// One listed element, `KEY [timeout T] [expires E] [comment "C"] [: VALUE]`.
    private mutating func addListed(_ item: String, to container: String) {
        let (head, value) = Self.split(item, at: " : ")
        let (keyPart, comment) = Self.split(head, at: " comment \"")
        let key = keyPart.split(separator: " ").prefix { !["timeout", "expires", "counter"].contains($0) }.joined(separator: " ")
        guard !key.isEmpty, containers[container]?.elements[key] == nil else { return }
        containers[container]!.keys.append(key)
        containers[container]!.elements[key] = (value, comment.map { Self.unquoted(Substring("\"" + $0)) })
    }

    /// `type filter hook prerouting priority dstnat - 10; policy accept;` with named priorities
    /// (`raw`, `mangle`, `dstnat`, `filter`, `security`, `srcnat`) as numbers.
    static func baseChain(_ line: String) -> NFTObject.BaseChain? {
        let words = (line.split(separator: ";").first ?? "").split(separator: " ").map(String.init)
        guard let t = words.firstIndex(of: "type"), let h = words.firstIndex(of: "hook"), let p = words.firstIndex(of: "priority"),
              t + 1 < words.count, h + 1 < words.count, p + 1 < words.count else { return nil }
        let named = ["raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100]
        var priority = Int(words[p + 1]) ?? named[words[p + 1]] ?? 0
        if p + 3 < words.count, let offset = Int(words[p + 3]) { priority += words[p + 2] == "-" ? -offset : offset }
        return NFTObject.BaseChain(type: words[t + 1], hook: words[h + 1], priority: priority)
    }

    /// A rule as the compiler writes it: `meta mark set meta mark | 0x00004000` is
    /// `mark set mark or 0x4000`, `meta mark & 0x00004000 == 0x00000000` is `mark and 0x4000 == 0`,
    /// and an anonymous verdict map's items are separated by ` , `.
    static func compilerSpelling(_ rule: String) -> String {
        let (body, comment) = split(rule, at: " comment \"")
        var words = body.split(separator: " ").map(String.init)
        func hex(_ w: String) -> String { w.hasPrefix("0x") ? UInt64(w.dropFirst(2), radix: 16).map { $0 == 0 ? "0" : "0x" + String($0, radix: 16) } ?? w : w }
        var out: [String] = []
        var i = 0, inVmap = false
        while i < words.count {
            let rest = words[i...]
            if rest.starts(with: ["meta", "mark", "set", "meta", "mark"]), i + 6 < words.count, ["|", "^"].contains(words[i + 5]) {
                out += ["mark", "set", "mark", words[i + 5] == "|" ? "or" : "xor", hex(words[i + 6])]
                i += 7
            } else if rest.starts(with: ["meta", "mark", "&"]), i + 5 < words.count {
                out += ["mark", "and", hex(words[i + 3]), words[i + 4], hex(words[i + 5])]
                i += 6
            } else {
                if words[i] == "{" { inVmap = i > 0 && words[i - 1] == "vmap" } else if words[i] == "}" { inVmap = false }
                if inVmap && words[i].hasSuffix(",") { words[i].removeLast(); out += [words[i], ","] } else { out.append(words[i]) }
                i += 1
            }
        }
        return out.joined(separator: " ") + (comment.map { " comment \"" + $0 } ?? "")
    }

    /// `text` before and after the first `separator` outside double quotes.
    static func split(_ text: String, at separator: String) -> (String, String?) {
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\"" { quoted.toggle() }
            if !quoted, text[index...].hasPrefix(separator) {
                return (String(text[..<index]), String(text[text.index(index, offsetBy: separator.count)...]))
            }
            index = text.index(after: index)
        }
        return (text, nil)
    }

    /// The comma-separated items of an `elements = { … }` body (commas inside quotes kept).
    static func topLevelItems(_ body: String) -> [String] {
        var items: [String] = [], rest = body
        while true {
            let (item, next) = split(rest, at: ",")
            let trimmed = String(item.trimmingSpaces())
            if !trimmed.isEmpty { items.append(trimmed) }
            guard let next else { return items }
            rest = next
        }
    }

    /// `"text"` without its quotes.
    static func unquoted(_ text: Substring) -> String {
        let t = text.trimmingSpaces()
        return String(t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 ? t.dropFirst().dropLast() : t)
    }

    /// nft's time: `10800s`, `3h`, `1d2h3m4s`, `500ms` (milliseconds dropped).
    static func seconds(_ text: String) -> Int? {
        var total = 0, number = "", unit = ""
        func flush() -> Bool {
            guard let n = Int(number) else { return number.isEmpty && unit.isEmpty }
            switch unit { case "d": total += n * 86400; case "h": total += n * 3600; case "m": total += n * 60; case "s", "": total += n; case "ms": break; default: return false }
            number = ""; unit = ""
            return true
        }
        for c in text {
            if c.isNumber { if !unit.isEmpty { guard flush() else { return nil } }; number.append(c) } else { unit.append(c) }
        }
        return flush() ? total : nil
    }
}
