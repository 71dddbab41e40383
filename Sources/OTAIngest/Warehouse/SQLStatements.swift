/// Splits a script of SQL statements at the semicolons that end them, the way psql does:
/// not inside quotes ('...', E'...', "..."), dollar quotes ($$...$$, $tag$...$tag$) or
/// comments (-- and nested /* */).
///
/// Why: Citus sends some DDL on a distributed table (CREATE INDEX, ALTER TABLE ... DROP
/// COLUMN or SET DEFAULT) to the workers as the text of the whole command string it came
/// in, and a worker refuses a string of several commands ("cannot insert multiple commands
/// into a prepared statement"). psql sends a file one statement at a time; so does the
/// migrator on a distributed warehouse, with this.
enum SQLStatements {
    static func split(_ script: String) -> [String] {
        let chars = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        var meaningful = false
        func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
        func take(_ count: Int = 1) {
            for _ in 0..<count where i < chars.count {
                current.append(chars[i])
                i += 1
            }
        }
        while i < chars.count {
            let c = chars[i]
            if c == "-" && peek(1) == "-" {
                while i < chars.count && chars[i] != "\n" { take() }
            } else if c == "/" && peek(1) == "*" {
                var depth = 0
                repeat {
                    if chars[i] == "/" && peek(1) == "*" {
                        depth += 1
                        take(2)
                    } else if chars[i] == "*" && peek(1) == "/" {
                        depth -= 1
                        take(2)
                    } else {
                        take()
                    }
                } while depth > 0 && i < chars.count
            } else if c == "'" || c == "\"" {
                let escapes = c == "'" && i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                meaningful = true
                take()
                while i < chars.count {
                    if escapes && chars[i] == "\\" {
                        take(2)
                    } else if chars[i] == c {
                        take()
                        if peek(0) == c { take() } else { break }
                    } else {
                        take()
                    }
                }
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                meaningful = true
                take(tag.count)
                while i < chars.count {
                    if chars[i] == "$" && Array(chars[i..<min(i + tag.count, chars.count)]) == tag {
                        take(tag.count)
                        break
                    }
                    take()
                }
            } else if c == ";" {
                take()
                if meaningful { statements.append(String(current)) }
                current = String.UnicodeScalarView()
                meaningful = false
            } else {
                if !c.properties.isWhitespace { meaningful = true }
                take()
            }
        }
        if meaningful { statements.append(String(current)) }
        return statements
    }

    /// `$tag$` or `$$` starting at `start`, or nil for a parameter like `$1` or a `$` in a name.
    private static func dollarTag(_ chars: [Unicode.Scalar], at start: Int) -> [Unicode.Scalar]? {
        if start > 0 {
            let before = chars[start - 1]
            if before.properties.isAlphabetic || before == "_" || ("0"..."9").contains(before) { return nil }
        }
        var end = start + 1
        while end < chars.count {
            let c = chars[end]
            if c == "$" { return Array(chars[start...end]) }
            guard c.properties.isAlphabetic || c == "_" || (end > start + 1 && ("0"..."9").contains(c)) else {
                return nil
            }
            end += 1
        }
        return nil
    }
}
