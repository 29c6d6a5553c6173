import * as Predicate from "effect/Predicate"
import type * as SchemaAST from "effect/SchemaAST"
import type * as SchemaIssue from "effect/SchemaIssue"

/** One problem of a configuration: where it is and what is wrong. */
export interface Problem {
  readonly path: string
  readonly message: string
}

/** Annotation key marking the string side of a secret, so its value never appears in a message. */
export const secretAnnotation = "effect-pagerduty/secret"

/** Formats a path as `routes[2].routing_key`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else out += out === "" ? String(segment) : `.${String(segment)}`
  }
  return out === "" ? "(root)" : out
}

const describeValue = (value: unknown, secret: boolean): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "a list"
  switch (typeof value) {
    case "string":
      if (secret) return `a string of ${value.length} characters`
      return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value)
    case "number":
    case "boolean":
      return secret ? `a ${typeof value}` : String(value)
    case "object":
      return "a mapping"
    case "undefined":
      return "nothing"
    default:
      return `a ${typeof value}`
  }
}

const expectedOf = (ast: SchemaAST.AST): string => {
  const expected = ast.annotations?.expected
  if (typeof expected === "string") return expected
  switch (ast._tag) {
    case "String":
      return "a string"
    case "Number":
      return "a number"
    case "Boolean":
      return "true or false"
    case "Objects":
      return "a mapping"
    case "Arrays":
      return "a list"
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Union": {
      const literals = ast.types.flatMap((member) => member._tag === "Literal" ? [String(member.literal)] : [])
      if (literals.length === ast.types.length) return `one of ${literals.join(", ")}`
      return ast.types.map(expectedOf).join(" or ")
    }
    default:
      return "a valid value"
  }
}

// For a union of mappings distinguished by one literal field (`type: file`),
// finds that field and its values, so a bad value is reported on the field itself.
const discriminator = (ast: SchemaAST.AST): { key: string; values: Array<string> } | undefined => {
  if (ast._tag !== "Union" || !ast.types.every((member) => member._tag === "Objects")) return undefined
  const first = ast.types[0]
  if (first?._tag !== "Objects") return undefined
  for (const property of first.propertySignatures) {
    const values: Array<string> = []
    for (const member of ast.types) {
      if (member._tag !== "Objects") return undefined
      const found = member.propertySignatures.find((candidate) => candidate.name === property.name)
      if (found?.type._tag !== "Literal") break
      values.push(String(found.type.literal))
    }
    if (values.length === ast.types.length) return { key: String(property.name), values }
  }
  return undefined
}

const isSecretAst = (ast: SchemaAST.AST): boolean => ast.annotations?.[secretAnnotation] === true

const inputOf = (issue: SchemaIssue.Issue): unknown => "input" in issue ? issue.input : undefined

const messageAnnotation = (annotations: { readonly [key: string]: unknown } | undefined): string | undefined => {
  const message = annotations?.message
  return typeof message === "string" ? message : undefined
}

/**
 * Flattens a Schema issue tree into one problem per failing value, with
 * messages that never contain a secret's value.
 *
 * Expects an issue produced with `reportInput: true`, so that a wrong type
 * shows the value found.
 */
export const toProblems = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey> = [],
  secret = false
): Array<Problem> => {
  const at = formatPath(path)
  switch (issue._tag) {
    case "Pointer":
      return toProblems(issue.issue, [...path, ...issue.path], secret)
    case "Composite":
      return issue.issues.flatMap((inner) => toProblems(inner, path, secret || isSecretAst(issue.ast)))
    case "Encoding":
      return toProblems(issue.issue, path, secret || isSecretAst(issue.ast))
    case "Filter": {
      const message = messageAnnotation(issue.filter.annotations) ?? messageAnnotation(
        issue.issue._tag === "InvalidValue" ? issue.issue.annotations : undefined
      )
      if (message !== undefined) return [{ path: at, message }]
      return toProblems(issue.issue, path, secret)
    }
    case "AnyOf": {
      // A union whose members all failed on type reports what it expected;
      // one whose member matched the type but failed inside reports that member's problems.
      const deeper = issue.issues.filter((inner) => inner._tag !== "InvalidType")
      if (deeper.length > 0) return deeper.flatMap((inner) => toProblems(inner, path, secret))
      const input = inputOf(issue)
      const tag = discriminator(issue.ast)
      if (tag !== undefined && Predicate.isObject(input) && !Array.isArray(input)) {
        const found = (input as Record<string, unknown>)[tag.key]
        return [{
          path: formatPath([...path, tag.key]),
          message: found === undefined
            ? `missing (required): one of ${tag.values.join(", ")}`
            : `expected one of ${tag.values.join(", ")}, got ${describeValue(found, false)}`
        }]
      }
      return [{
        path: at,
        message: `expected ${expectedOf(issue.ast)}, got ${describeValue(input, secret)}`
      }]
    }
    case "InvalidType":
      return [{
        path: at,
        message: `expected ${expectedOf(issue.ast)}, got ${
          describeValue(inputOf(issue), secret || isSecretAst(issue.ast))
        }`
      }]
    case "InvalidValue":
      return [{ path: at, message: messageAnnotation(issue.annotations) ?? "invalid value" }]
    case "MissingKey":
      return [{ path: at, message: "missing (required)" }]
    case "UnexpectedKey":
      return [{ path: at, message: "unknown key; check its spelling against docs/relay.example.yaml" }]
    case "Forbidden":
      return [{ path: at, message: messageAnnotation(issue.annotations) ?? "not allowed" }]
    case "OneOf":
      return [{ path: at, message: "matches more than one alternative" }]
  }
}
