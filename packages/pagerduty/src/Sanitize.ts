/**
 * Sanitising of untrusted text before it is sent, rendered or put in a
 * header: control and invisible formatting characters removed, lone
 * surrogates replaced, HTML and Markdown escaped, lengths bounded by code
 * points.
 *
 * The functions are pure and total: any string (lone surrogates included)
 * gives a well-formed result, and none of them throws.
 *
 * @example
 * ```ts
 * import { Sanitize } from "@effect-pagerduty/pagerduty"
 *
 * Sanitize.line("disk\u202Efull\r\non db-1\u0000") // "diskfull on db-1"
 * Sanitize.escapeHtml("<b>x</b>") // "&lt;b&gt;x&lt;/b&gt;"
 * Sanitize.headerValue("a\r\nSet-Cookie: x") // "a Set-Cookie: x"
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { codePointLength, truncateCodePoints } from "./internal/text.ts"

/**
 * Options of {@link text}.
 *
 * @since 0.1.0
 * @category options
 */
export interface TextOptions {
  /**
   * Keeps line breaks (as `\n`) and tabs. When false (the default) each run of
   * line breaks and tabs becomes one space, for one-line fields.
   */
  readonly multiline?: boolean | undefined
  /** Maximum length in code points; a longer result is cut and ends in `…`. */
  readonly maxLength?: number | undefined
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Replaces each lone surrogate with U+FFFD, so the string encodes to UTF-8
 * without loss of the rest.
 *
 * @since 0.1.0
 * @category text
 */
export const wellFormed = (input: string): string => input.replace(loneSurrogate, "\uFFFD")

// C0 controls except tab and line feed, DEL and the C1 controls.
const controlCharacters = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g

// Characters that change how the surrounding text is displayed without being
// visible: bidirectional embeddings, overrides, isolates and marks (the
// "Trojan Source" characters), zero-width space, word joiner, invisible
// operators, the byte order mark, the soft hyphen, the Mongolian vowel
// separator and the interlinear annotation and tag characters.
const invisibleCharacters =
  /[\u00AD\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDC7F]/g

/**
 * Removes control and invisible formatting characters from text, and
 * replaces lone surrogates with U+FFFD.
 *
 * Removed: C0 and C1 controls (NUL, ESC, DEL, ...), bidirectional controls
 * (U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C), zero-width
 * space (U+200B), word joiner and invisible operators (U+2060 to U+2064),
 * U+FEFF, the soft hyphen and tag characters. Line breaks (`\r\n`, `\r`,
 * U+2028, U+2029, U+0085) become `\n`. In one-line mode (the default) every
 * run of line breaks and tabs becomes one space and the result is trimmed.
 *
 * NOTE: the zero-width joiner and non-joiner (U+200D, U+200C) are kept,
 * because emoji sequences and scripts such as Persian need them. Tag
 * characters are removed, so a subdivision flag emoji (England, Scotland)
 * shows as a plain black flag.
 *
 * Throws a `RangeError` for a `maxLength` below 1, as {@link truncate} does.
 *
 * @since 0.1.0
 * @category text
 */
export const text = (input: string, options: TextOptions = {}): string => {
  let result = wellFormed(input)
    .replace(/\r\n?|[\u0085\u2028\u2029]/g, "\n")
    .replace(controlCharacters, "")
    .replace(invisibleCharacters, "")
  result = options.multiline === true ? result : result.replace(/[\n\t]+/g, " ").trim()
  return options.maxLength === undefined ? result : truncate(result, options.maxLength)
}

/**
 * Sanitises one-line text: {@link text} without line breaks, optionally
 * bounded to `maxLength` code points.
 *
 * @since 0.1.0
 * @category text
 */
export const line = (input: string, maxLength?: number): string => text(input, { maxLength })

/**
 * Sanitises multi-line text: {@link text} keeping `\n` and tabs.
 *
 * @since 0.1.0
 * @category text
 */
export const multiline = (input: string, maxLength?: number): string => text(input, { multiline: true, maxLength })

/**
 * Shortens text to at most `maxLength` code points, ending it with `ellipsis`
 * (default `…`) when it was cut.
 *
 * The cut falls between grapheme clusters, so a surrogate pair, an emoji ZWJ
 * sequence or a letter with its combining marks is never split. Lone
 * surrogates are replaced first.
 *
 * Throws a `RangeError` when `maxLength` is not a whole number at least as
 * long as the ellipsis.
 *
 * @since 0.1.0
 * @category text
 */
export const truncate = (input: string, maxLength: number, ellipsis = "…"): string => {
  if (!Number.isInteger(maxLength) || maxLength < codePointLength(ellipsis)) {
    throw new RangeError(
      `Sanitize.truncate: maxLength must be a whole number of at least ${
        codePointLength(ellipsis)
      } (the ellipsis), got ${maxLength}`
    )
  }
  return truncateCodePoints(wellFormed(input), maxLength, ellipsis)
}

const htmlEntities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/**
 * Escapes `&`, `<`, `>`, `"` and `'` as HTML character references, so text
 * is safe inside element content and quoted attribute values.
 *
 * It does not sanitise: run {@link text} first to remove control characters.
 *
 * @since 0.1.0
 * @category html
 */
export const escapeHtml = (input: string): string => input.replace(/[&<>"']/g, (char) => htmlEntities[char]!)

// Characters that open or close an inline construct anywhere in a line:
// escapes, code spans, emphasis, strikethrough, links, images, raw HTML,
// entity references and table cells.
const markdownInline = /[\\`*_[\]()<>|~&]/g

// Markers that start a block only at the beginning of a line: headings,
// block quotes, list items, setext underlines and ordered list numbers.
const markdownBlockStart = /^([ \t]*)(?:([#>+\-=])|(\d{1,9})([.)]))/gm

/**
 * Escapes text for CommonMark and GitHub Flavored Markdown, so it renders as
 * the literal characters.
 *
 * Every character that can open or close an inline construct (`\`,
 * `` ` ``, `*`, `_`, `[`, `]`, `(`, `)`, `<`, `>`, `|`, `~`, `&`) gets a
 * backslash, and so does a heading, quote, list or setext marker at the start
 * of a line (`#`, `>`, `+`, `-`, `=`, the `.` or `)` after a number). The
 * `:` of `://` and the `.` after `www` are escaped too, so GFM does not turn
 * a bare URL into a link. Line breaks are kept. With markdown-it 14 (raw HTML
 * and linkify enabled) the escaped text renders as the literal input.
 *
 * It does not sanitise: run {@link text} first to remove control characters.
 *
 * NOTE: Slack's `mrkdwn` and other chat dialects do not support backslash
 * escapes, so the backslashes show there.
 *
 * @example
 * ```ts
 * import { Sanitize } from "@effect-pagerduty/pagerduty"
 *
 * Sanitize.escapeMarkdown("[click](https://evil.example)") // "\\[click\\]\\(https\\://evil.example\\)"
 * ```
 *
 * @since 0.1.0
 * @category markdown
 */
export const escapeMarkdown = (input: string): string =>
  input
    .replace(markdownInline, (char) => `\\${char}`)
    .replace(
      markdownBlockStart,
      (_, indent: string, marker: string | undefined, digits: string | undefined, delimiter: string | undefined) =>
        marker === undefined ? `${indent}${digits}\\${delimiter}` : `${indent}\\${marker}`
    )
    .replace(/:\/\//g, "\\://")
    .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}\\.`)

/**
 * Makes text safe as an HTTP header value.
 *
 * Each run of line breaks, tabs and other whitespace becomes one space, so no
 * CR or LF can end the header and start another. Other controls are removed,
 * every character outside printable ASCII becomes `?` (Node and browsers
 * reject or reinterpret them), and the result is trimmed and bounded to
 * `maxLength` characters (default 1024).
 *
 * @since 0.1.0
 * @category headers
 */
export const headerValue = (input: string, maxLength = 1024): string => {
  const cleaned = text(input)
    .replace(/\s+/g, " ")
    .replace(/[^\x20-\x7E]/gu, "?")
    .trim()
  return cleaned.length <= maxLength ? cleaned : cleaned.slice(0, maxLength).trimEnd()
}

/**
 * Tells whether a string is a valid HTTP header value: printable ASCII,
 * spaces and tabs only, with no leading or trailing whitespace.
 *
 * @since 0.1.0
 * @category headers
 */
export const isHeaderValue = (input: string): boolean => /^(?:[\x21-\x7E](?:[\x20-\x7E\t]*[\x21-\x7E])?)?$/.test(input)

/**
 * Returns `url` when it is an absolute `http` or `https` URL, in its
 * normalised form, and `undefined` otherwise (`javascript:`, `data:`,
 * relative paths, malformed input).
 *
 * The normalised form percent-encodes spaces, quotes and angle brackets, so
 * it cannot end a Markdown link or an HTML attribute early.
 *
 * @since 0.1.0
 * @category urls
 */
export const httpUrl = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : undefined
  } catch {
    return undefined
  }
}
