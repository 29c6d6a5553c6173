/**
 * The small document model behind `Render`: a title, labelled fields, an
 * optional body and lists, written out as plain text or Markdown. Every
 * string is sanitised here, so the subjects only pick what to show.
 *
 * @since 0.1.0
 */
import * as Sanitize from "../Sanitize.ts"

/**
 * A piece of text, linked when `url` is an absolute http or https URL.
 *
 * @since 0.1.0
 */
export interface Inline {
  readonly text: string
  readonly url?: string | null | undefined
}

/**
 * A field shown as `Label: value`. Fields without a value are left out.
 *
 * @since 0.1.0
 */
export interface Field {
  readonly label: string
  readonly value: ReadonlyArray<Inline> | undefined
}

/**
 * A titled list of items.
 *
 * @since 0.1.0
 */
export interface List {
  readonly heading: string
  readonly items: ReadonlyArray<ReadonlyArray<Inline>>
  /** Items left out of `items`, announced as `… and N more`. */
  readonly omitted?: number | undefined
}

/**
 * The content of a rendering.
 *
 * @since 0.1.0
 */
export interface Document {
  readonly title: ReadonlyArray<Inline>
  readonly fields: ReadonlyArray<Field>
  readonly body?: string | null | undefined
  readonly lists?: ReadonlyArray<List> | undefined
}

/**
 * Length bounds of a rendering, in code points.
 *
 * @since 0.1.0
 */
export interface Limits {
  readonly maxLineLength: number
  readonly maxBodyLength: number
}

// Parentheses are percent-encoded so that a URL cannot close a Markdown link
// destination early; `Sanitize.httpUrl` already encodes spaces and brackets.
const safeUrl = (url: string | null | undefined): string | undefined => {
  if (url === null || url === undefined) return undefined
  return Sanitize.httpUrl(url.trim())?.replace(/\(/g, "%28").replace(/\)/g, "%29")
}

const plainInline = (inline: Inline, limits: Limits): string => {
  const text = Sanitize.line(inline.text, limits.maxLineLength)
  const url = safeUrl(inline.url)
  if (url === undefined) return text
  return text === "" ? url : `${text} <${url}>`
}

const markdownInline = (inline: Inline, limits: Limits): string => {
  const text = Sanitize.escapeMarkdown(Sanitize.line(inline.text, limits.maxLineLength))
  const url = safeUrl(inline.url)
  if (url === undefined) return text
  return `[${text === "" ? Sanitize.escapeMarkdown(url) : text}](${url})`
}

const joined = (inlines: ReadonlyArray<Inline>, render: (inline: Inline) => string): string =>
  inlines.map(render).filter((part) => part !== "").join(" ")

const bodyLines = (body: string | null | undefined, limits: Limits): ReadonlyArray<string> => {
  if (body === null || body === undefined) return []
  const cleaned = Sanitize.multiline(body, limits.maxBodyLength).replace(/\t/g, "  ").trim()
  return cleaned === "" ? [] : cleaned.split("\n")
}

const visibleFields = (fields: ReadonlyArray<Field>) =>
  fields.filter((field): field is { label: string; value: ReadonlyArray<Inline> } =>
    field.value !== undefined && field.value.some((inline) => inline.text.trim() !== "" || safeUrl(inline.url))
  )

/**
 * Writes a document as plain text: the title, `Label: value` lines, the body
 * after a blank line, and each list as `- item` lines.
 *
 * @since 0.1.0
 */
export const toText = (document: Document, limits: Limits): string => {
  const render = (inline: Inline) => plainInline(inline, limits)
  const lines = [joined(document.title, render)]
  for (const field of visibleFields(document.fields)) lines.push(`${field.label}: ${joined(field.value, render)}`)
  const body = bodyLines(document.body, limits)
  if (body.length > 0) lines.push("", ...body)
  for (const list of document.lists ?? []) {
    if (list.items.length === 0) continue
    lines.push("", `${list.heading}:`, ...list.items.map((item) => `- ${joined(item, render)}`))
    if (list.omitted !== undefined && list.omitted > 0) lines.push(`- … and ${list.omitted} more`)
  }
  return lines.join("\n")
}

/**
 * Writes a document as CommonMark: a bold title, a bullet list of bold
 * labels and values, the body as a block quote, and each list under a bold
 * heading. Every piece of text is escaped, so it renders literally.
 *
 * @since 0.1.0
 */
export const toMarkdown = (document: Document, limits: Limits): string => {
  const render = (inline: Inline) => markdownInline(inline, limits)
  const lines = [`**${joined(document.title, render)}**`]
  const fields = visibleFields(document.fields)
  if (fields.length > 0) {
    lines.push("", ...fields.map((field) => `- **${field.label}:** ${joined(field.value, render)}`))
  }
  const body = bodyLines(document.body, limits)
  if (body.length > 0) {
    lines.push("", ...body.map((line) => line === "" ? ">" : `> ${Sanitize.escapeMarkdown(line)}`))
  }
  for (const list of document.lists ?? []) {
    if (list.items.length === 0) continue
    lines.push("", `**${list.heading}:**`, "", ...list.items.map((item) => `- ${joined(item, render)}`))
    if (list.omitted !== undefined && list.omitted > 0) lines.push(`- … and ${list.omitted} more`)
  }
  return lines.join("\n")
}
