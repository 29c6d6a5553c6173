/**
 * Text helpers that count and cut strings by Unicode code points without
 * breaking a grapheme cluster.
 *
 * @since 0.1.0
 */

const encoder = new TextEncoder()

/**
 * Counts the UTF-8 bytes of a string.
 *
 * @since 0.1.0
 */
export const utf8Length = (text: string): number => encoder.encode(text).length

/**
 * Counts the Unicode code points of a string (a surrogate pair counts once).
 *
 * @since 0.1.0
 */
export const codePointLength = (text: string): number => {
  let count = 0
  for (const _ of text) count++
  return count
}

const segmenter: { segment(text: string): Iterable<{ readonly segment: string }> } | undefined =
  typeof Intl !== "undefined" && typeof Intl.Segmenter === "function"
    ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
    : undefined

// Without Intl.Segmenter the fallback splits by code point, which keeps
// surrogate pairs whole but may separate a combining mark from its base.
const graphemes = (text: string): Iterable<string> => {
  if (segmenter === undefined) return text
  const segments = segmenter.segment(text)
  return {
    *[Symbol.iterator]() {
      for (const { segment } of segments) yield segment
    }
  }
}

/**
 * Shortens a string to at most `max` code points, ending it with `ellipsis`
 * when it was cut.
 *
 * The cut backs off to the last whole grapheme cluster that fits, so emoji,
 * ZWJ sequences and base letters with combining marks are kept whole or
 * dropped whole. Returns the string unchanged when it already fits.
 *
 * @since 0.1.0
 */
export const truncateCodePoints = (text: string, max: number, ellipsis: string): string => {
  if (codePointLength(text) <= max) return text
  const budget = max - codePointLength(ellipsis)
  let used = 0
  let kept = ""
  for (const grapheme of graphemes(text)) {
    const size = codePointLength(grapheme)
    if (used + size > budget) break
    used += size
    kept += grapheme
  }
  return kept + ellipsis
}

/**
 * Shortens a value for display in an error message, cutting by grapheme.
 *
 * @since 0.1.0
 */
export const preview = (text: string, max = 64): string => truncateCodePoints(text, max, "…")
