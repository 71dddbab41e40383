import JSONSyntax
import Testing

@Suite("JSON string state")
struct JSONStringStateTests {
    /// The role of each byte, as one character: s structure, o opening quote, i in string, c closing quote.
    private func roles(_ text: String) -> String {
        var state = JSONStringState()
        return String(
            text.utf8.map { byte -> Character in
                switch state.role(of: byte) {
                case .structure: "s"
                case .openingQuote: "o"
                case .inString: "i"
                case .closingQuote: "c"
                }
            })
    }

    @Test("an escaped quote or backslash inside a string does not end it")
    func escapesStayInside() {
        #expect(roles(#"{"a\"b":1}"#) == "soiiiicsss")
        #expect(roles(#"["x\\"]"#) == "soiiics")
        #expect(roles(#""\\\"""#) == "oiiiic")
    }

    @Test("brackets inside strings do not count towards nesting")
    func nestingIgnoresStrings() {
        #expect(JSONNesting.depth(of: Array(#"{"a":"[[[{{{\"]]]"}"#.utf8)) == 1)
        #expect(JSONNesting.depth(of: Array(#"[[{"a":[1,"}"]}]]"#.utf8)) == 4)
        #expect(JSONNesting.depth(of: Array("42".utf8)) == 0)
    }
}
