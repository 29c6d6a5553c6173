import { describe, expect, it } from "@effect/vitest"
import * as Sanitize from "../src/Sanitize.ts"

const codePoints = (text: string) => [...text].length
const hasLoneSurrogate = (text: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)

describe("Sanitize.text", () => {
  it("removes NUL and other C0 controls", () => {
    expect(Sanitize.line("disk\u0000 full\u0007\u001B[31m")).toBe("disk full[31m")
  })

  it("removes DEL and C1 controls", () => {
    expect(Sanitize.line("a\u007Fb\u0080c\u009Bd")).toBe("abcd")
  })

  it("treats NEL as a line break", () => {
    expect(Sanitize.line("a\u0085b")).toBe("a b")
  })

  it("removes bidi overrides and isolates", () => {
    expect(Sanitize.line("invoice\u202Etxt.exe")).toBe("invoicetxt.exe")
    expect(Sanitize.line("\u2066admin\u2069\u200F")).toBe("admin")
  })

  it("removes zero-width spaces and the byte order mark", () => {
    expect(Sanitize.line("\uFEFFad\u200Bmin\u2060")).toBe("admin")
  })

  it("keeps emoji ZWJ sequences", () => {
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}"
    expect(Sanitize.line(`team ${family}`)).toBe(`team ${family}`)
  })

  it("joins lines in one-line mode", () => {
    expect(Sanitize.line("  first\r\nsecond\n\n\tthird\u2028fourth  ")).toBe("first second third fourth")
  })

  it("keeps newlines and tabs in multi-line mode", () => {
    expect(Sanitize.multiline("a\r\nb\rc\td\u0000")).toBe("a\nb\nc\td")
  })

  it("replaces lone surrogates", () => {
    const cleaned = Sanitize.line("x\uD800y\uDC00z")
    expect(cleaned).toBe("x\uFFFDy\uFFFDz")
    expect(hasLoneSurrogate(cleaned)).toBe(false)
  })

  it("bounds length by code points", () => {
    const cleaned = Sanitize.line("a".repeat(100_000), 1024)
    expect(codePoints(cleaned)).toBe(1024)
    expect(cleaned.endsWith("…")).toBe(true)
  })
})

describe("Sanitize.truncate", () => {
  it("never splits a surrogate pair", () => {
    const cut = Sanitize.truncate("\u{1F525}".repeat(10), 4)
    expect(cut).toBe("\u{1F525}\u{1F525}\u{1F525}…")
    expect(hasLoneSurrogate(cut)).toBe(false)
  })

  it("returns short text unchanged", () => {
    expect(Sanitize.truncate("short", 5)).toBe("short")
  })

  it("rejects a length shorter than the ellipsis", () => {
    expect(() => Sanitize.truncate("abc", 0)).toThrow(RangeError)
  })

  it("cuts a very long string with a lone surrogate at the edge", () => {
    const cut = Sanitize.truncate("b".repeat(9) + "\uD83D" + "c".repeat(1_000_000), 11)
    expect(cut).toBe("bbbbbbbbb\uFFFD…")
  })
})

describe("Sanitize.escapeHtml", () => {
  it("escapes a script tag", () => {
    expect(Sanitize.escapeHtml("<script>alert('x')</script>")).toBe(
      "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    )
  })

  it("escapes ampersands and quotes", () => {
    expect(Sanitize.escapeHtml(`a & "b"`)).toBe("a &amp; &quot;b&quot;")
  })
})

describe("Sanitize.escapeMarkdown", () => {
  it("escapes link syntax", () => {
    expect(Sanitize.escapeMarkdown("[x](https://evil.example)")).toBe("\\[x\\]\\(https\\://evil.example\\)")
  })

  it("escapes emphasis, code and HTML", () => {
    expect(Sanitize.escapeMarkdown("*a* _b_ `c` <i>")).toBe("\\*a\\* \\_b\\_ \\`c\\` \\<i\\>")
  })

  it("escapes block markers and backslashes", () => {
    expect(Sanitize.escapeMarkdown("# h\n> q\n- l\n1. n\n\\")).toBe("\\# h\n\\> q\n\\- l\n1\\. n\n\\\\")
  })

  it("escapes bare URLs", () => {
    expect(Sanitize.escapeMarkdown("see www.evil.example or http://x.example")).toBe(
      "see www\\.evil.example or http\\://x.example"
    )
  })

  it("escapes markers only at the start of a line", () => {
    expect(Sanitize.escapeMarkdown("a - b # c 1. d\n  + e\n2) f")).toBe("a - b # c 1. d\n  \\+ e\n2\\) f")
  })

  it("leaves letters, digits and spaces alone", () => {
    expect(Sanitize.escapeMarkdown("disk full 95")).toBe("disk full 95")
  })
})

describe("Sanitize.headerValue", () => {
  it("keeps CRLF injection out of the value", () => {
    const value = Sanitize.headerValue("ok\r\nSet-Cookie: session=stolen")
    expect(value).toBe("ok Set-Cookie: session=stolen")
    expect(value).not.toMatch(/[\r\n]/)
  })

  it("replaces characters outside printable ASCII", () => {
    expect(Sanitize.headerValue("caf\u00E9 \u{1F525}\u0000")).toBe("caf? ?")
  })

  it("produces values that pass the header check", () => {
    const hostile = " \t\u0000a\u202Eb\r\n\u2028c\uD800 \u00FF "
    expect(Sanitize.isHeaderValue(Sanitize.headerValue(hostile))).toBe(true)
  })

  it("bounds the length", () => {
    expect(Sanitize.headerValue("x".repeat(5000), 100)).toHaveLength(100)
  })

  it("rejects line breaks in the header check", () => {
    expect(Sanitize.isHeaderValue("a\r\nb")).toBe(false)
    expect(Sanitize.isHeaderValue("a b")).toBe(true)
  })
})

describe("Sanitize.httpUrl", () => {
  it("accepts http and https", () => {
    expect(Sanitize.httpUrl("https://grafana.example/d/a b")).toBe("https://grafana.example/d/a%20b")
  })

  it("rejects javascript and relative URLs", () => {
    expect(Sanitize.httpUrl("javascript:alert(1)")).toBeUndefined()
    expect(Sanitize.httpUrl("/graph?x=1")).toBeUndefined()
  })
})
