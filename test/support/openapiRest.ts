/**
 * Checks HTTP requests against PagerDuty's REST API v2 OpenAPI spec
 * (`test/fixtures/pagerduty/openapi/REST_openapiv3.json`) with ajv.
 *
 * A request must match a path template and method of the spec and use the
 * `Authorization` format of the `api_key` scheme. It must carry every
 * required header (`Accept`, `From`, …) and only the query parameters the
 * operation declares, with valid values. Its JSON body must match the
 * operation's request body schema.
 *
 * The spec marks `Content-Type: application/json` as required on every
 * operation, GET included. Here it is required only when a body is sent, as
 * PagerDuty's documentation states it. The value is still checked whenever
 * the header is present.
 */
import { Ajv } from "ajv"
import type { ValidateFunction } from "ajv"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

type Json = Record<string, any>

const specPath = fileURLToPath(new URL("../fixtures/pagerduty/openapi/REST_openapiv3.json", import.meta.url))

let loaded: { readonly spec: Json; readonly ajv: Ajv; readonly templates: ReadonlyArray<Template> } | undefined

interface Template {
  readonly template: string
  readonly pattern: RegExp
  readonly names: ReadonlyArray<string>
  readonly literalLength: number
}

const escapePointer = (segment: string) => segment.replace(/~/g, "~0").replace(/\//g, "~1")

const load = () => {
  if (loaded !== undefined) return loaded
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as Json
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateSchema: false,
    logger: false,
    formats: {
      email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
      "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i,
      date: /^\d{4}-\d{2}-\d{2}$/,
      tzinfo: /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/,
      uri: true,
      url: true,
      uuid: true,
      int64: true,
      int32: true
    }
  })
  ajv.addSchema(spec, "rest")
  const templates = Object.keys(spec.paths as Json).map((template): Template => {
    const names: Array<string> = []
    const source = template.split(/(\{[^}]+\})/).map((part) => {
      const match = /^\{([^}]+)\}$/.exec(part)
      if (match === null) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      names.push(match[1]!)
      return "([^/]+)"
    }).join("")
    return {
      template,
      pattern: new RegExp(`^${source}$`),
      names,
      literalLength: template.replace(/\{[^}]+\}/g, "").length
    }
  })
  // Literal templates such as /incidents/count win over /incidents/{id}.
  templates.sort((a, b) => b.literalLength - a.literalLength)
  loaded = { spec, ajv, templates }
  return loaded
}

/** The full spec, parsed once. */
export const spec = (): Json => load().spec

const resolve = (node: any): any => {
  let current = node
  for (let depth = 0; current !== undefined && typeof current.$ref === "string" && depth < 10; depth++) {
    const pointer = (current.$ref as string).replace(/^#\//, "").split("/").map((part) =>
      part.replace(/~1/g, "/").replace(/~0/g, "~")
    )
    current = pointer.reduce((object: any, key) => object?.[key], load().spec)
  }
  return current
}

const validators = new Map<string, ValidateFunction>()

const validatorAt = (pointer: string): ValidateFunction => {
  const cached = validators.get(pointer)
  if (cached !== undefined) return cached
  const validate = load().ajv.getSchema(`rest#${pointer}`)
  if (validate === undefined) throw new Error(`no schema at ${pointer}`)
  validators.set(pointer, validate)
  return validate
}

const describeErrors = (validate: ValidateFunction) =>
  (validate.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`).join("; ")

/** A request as it arrived on the wire. */
export interface WireRequest {
  readonly method: string
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
}

/** The template and operation a method and path resolve to. */
export const findOperation = (method: string, path: string) => {
  const { spec: document, templates } = load()
  const template = templates.find((candidate) => candidate.pattern.test(path))
  if (template === undefined) return undefined
  const operation = document.paths[template.template][method.toLowerCase()]
  if (operation === undefined) return { template: template.template, operation: undefined }
  return { template: template.template, operation: operation as Json }
}

const coerce = (value: string, schema: Json): unknown => {
  if (schema.type === "integer" || schema.type === "number") return value.trim() === "" ? value : Number(value)
  if (schema.type === "boolean" && value === "true") return true
  if (schema.type === "boolean" && value === "false") return false
  return value
}

/** Returns every way a request departs from the spec; an empty list means it conforms. */
export const validateRequest = (request: WireRequest): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const label = `${request.method} ${request.path}`
  const found = findOperation(request.method, request.path)
  if (found === undefined) return [`${label}: no path template in the spec matches`]
  if (found.operation === undefined) return [`${label}: ${found.template} has no ${request.method} operation`]
  const { operation, template } = found
  const pointerBase = `/paths/${escapePointer(template)}/${request.method.toLowerCase()}`
  const hasBody = request.body !== ""
  const header = (name: string) => request.headers[name.toLowerCase()]

  const authorization = header("Authorization")
  if (authorization === undefined || !/^(Token token=\S+|Bearer \S+)$/.test(authorization)) {
    problems.push(`${label}: Authorization is missing or not "Token token=…" / "Bearer …"`)
  }

  const { ajv } = load()
  const pathParams = (load().spec.paths[template].parameters ?? []) as Array<Json>
  const parameters = [...pathParams, ...((operation.parameters ?? []) as Array<Json>)].map(resolve) as Array<Json>
  const declaredQuery = new Set<string>()

  for (const parameter of parameters) {
    const schema = (parameter.schema ?? {}) as Json
    const check = (value: unknown, what: string) => {
      const validate = ajv.compile(schema)
      if (!validate(value)) problems.push(`${label}: ${what} ${describeErrors(validate)}`)
    }
    if (parameter.in === "header") {
      const value = header(parameter.name)
      const required = parameter.name.toLowerCase() === "content-type" ? hasBody : parameter.required === true
      if (value === undefined) {
        if (required) problems.push(`${label}: required header ${parameter.name} is missing`)
      } else {
        check(value, `header ${parameter.name}`)
      }
    } else if (parameter.in === "query") {
      declaredQuery.add(parameter.name)
      const values = request.query.filter(([key]) => key === parameter.name).map(([, value]) => value)
      if (values.length === 0) {
        if (parameter.required === true) {
          problems.push(`${label}: required query parameter ${parameter.name} is missing`)
        }
        continue
      }
      if (schema.type === "array") {
        const items = parameter.explode === false ? values.flatMap((value) => value.split(",")) : values
        check(items.map((item) => coerce(item, (schema.items ?? {}) as Json)), `query ${parameter.name}`)
      } else {
        if (values.length > 1 && !parameter.name.endsWith("[]")) {
          problems.push(`${label}: query ${parameter.name} is repeated but is not an array parameter`)
        }
        for (const value of values) check(coerce(value, schema), `query ${parameter.name}=${value}`)
      }
    } else if (parameter.in === "path") {
      const match = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "([^/]+)")}$`
      ).exec(request.path)
      const names = Array.from(template.matchAll(/\{([^}]+)\}/g), (m) => m[1])
      const value = match?.[names.indexOf(parameter.name) + 1]
      if (value === undefined) problems.push(`${label}: path parameter ${parameter.name} is missing`)
      else check(decodeURIComponent(value), `path ${parameter.name}`)
    }
  }

  for (const [key] of request.query) {
    if (!declaredQuery.has(key)) problems.push(`${label}: query parameter ${key} is not declared by the spec`)
  }

  const requestBody = resolve(operation.requestBody) as Json | undefined
  if (requestBody === undefined) {
    if (hasBody) problems.push(`${label}: the operation takes no body but one was sent`)
  } else if (!hasBody) {
    if (requestBody.required === true) problems.push(`${label}: the required body is missing`)
  } else {
    let json: unknown
    try {
      json = JSON.parse(request.body)
    } catch {
      problems.push(`${label}: the body is not valid JSON`)
      return problems
    }
    const pointer = operation.requestBody.$ref === undefined
      ? `${pointerBase}/requestBody/content/application~1json/schema`
      : `${(operation.requestBody.$ref as string).replace(/^#/, "")}/content/application~1json/schema`
    const validate = validatorAt(pointer)
    if (!validate(json)) problems.push(`${label}: body ${describeErrors(validate)}`)
  }
  return problems
}

/** Returns the spec's own response examples of one operation and status. */
export const responseExamples = (method: string, template: string, status: string): ReadonlyArray<unknown> => {
  const operation = load().spec.paths[template]?.[method.toLowerCase()]
  const response = resolve(operation?.responses?.[status]) as Json | undefined
  const content = response?.content?.["application/json"] as Json | undefined
  if (content === undefined) return []
  const examples = Object.values((content.examples ?? {}) as Json).map((example) => resolve(example).value)
  return content.example === undefined ? examples : [...examples, content.example]
}
