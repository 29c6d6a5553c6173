/**
 * Validation of request bodies against an OpenAPI 3.0 specification, so every
 * suite can check that what a client sends is what the published spec allows.
 */
import { Ajv, type ValidateFunction } from "ajv"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const isUrl = (input: string): boolean => {
  try {
    new URL(input)
    return true
  } catch {
    return false
  }
}

interface Spec {
  readonly ajv: Ajv
  readonly id: string
  readonly document: { readonly paths?: Record<string, Record<string, unknown>> }
  readonly validators: Map<string, ValidateFunction>
}

const specs = new Map<string, Spec>()

const loadSpec = (file: string): Spec => {
  const absolute = resolve(file)
  const cached = specs.get(absolute)
  if (cached !== undefined) return cached

  const document = JSON.parse(readFileSync(absolute, "utf8"))
  const id = `file://${absolute}`
  // OpenAPI 3.0 schemas carry keywords JSON Schema does not know (`example`,
  // `x-*`), so strict mode is off. Formats PagerDuty's specs use get real
  // checks; the rest (`TEXTAREA`, `tzinfo`, ...) accept any string.
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false })
  ajv.addFormat("date-time", rfc3339)
  ajv.addFormat("url", isUrl)
  ajv.addFormat("uri", isUrl)
  ajv.addFormat("uuid", uuid)
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+$/)
  for (const name of ["TEXTAREA", "activesupport-time-zone", "tzinfo", "time", "partial-time", "binary"]) {
    ajv.addFormat(name, true)
  }
  for (const name of ["double", "float"]) ajv.addFormat(name, { type: "number", validate: () => true })
  ajv.addFormat("int64", { type: "number", validate: () => true })
  ajv.addSchema({ ...document, $id: id })

  const spec: Spec = { ajv, id, document, validators: new Map() }
  specs.set(absolute, spec)
  return spec
}

const pointerSegment = (segment: string): string => segment.replaceAll("~", "~0").replaceAll("/", "~1")

/**
 * Validates a JSON request body against the `application/json` request schema
 * of one operation in an OpenAPI 3.0 specification file.
 *
 * Returns the validation errors as readable lines, or an empty array when the
 * body is valid. Throws when the specification has no such operation or no
 * JSON request body, because that is a mistake in the test, not in the body.
 *
 * @example
 * ```ts
 * const errors = validateRequestBody({
 *   spec: "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json",
 *   path: "/enqueue",
 *   method: "post",
 *   body: JSON.parse(requestText)
 * })
 * expect(errors).toEqual([])
 * ```
 */
export const validateRequestBody = (options: {
  readonly spec: string
  readonly path: string
  readonly method: string
  readonly body: unknown
}): ReadonlyArray<string> => {
  const spec = loadSpec(options.spec)
  const method = options.method.toLowerCase()
  const key = `${method} ${options.path}`

  let validate = spec.validators.get(key)
  if (validate === undefined) {
    const operation = spec.document.paths?.[options.path]?.[method] as
      | { readonly requestBody?: { readonly content?: Record<string, unknown> } }
      | undefined
    if (operation === undefined) throw new Error(`${options.spec} has no operation ${key}`)
    if (operation.requestBody?.content?.["application/json"] === undefined) {
      throw new Error(`${options.spec}: ${key} has no application/json request body`)
    }
    const pointer = ["paths", options.path, method, "requestBody", "content", "application/json", "schema"]
      .map(pointerSegment)
      .join("/")
    validate = spec.ajv.compile({ $ref: `${spec.id}#/${pointer}` })
    spec.validators.set(key, validate)
  }

  if (validate(options.body)) return []
  return (validate.errors ?? []).map((error) => `${error.instancePath || "(body)"} ${error.message ?? "is invalid"}`)
}
