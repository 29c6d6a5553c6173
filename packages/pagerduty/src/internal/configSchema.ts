import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import { secretAnnotation } from "./configIssues.ts"

/**
 * Opens `sealed:v1:` values found in secret positions. The default has no key
 * ring and rejects them.
 */
export const SealedOpener = Context.Reference<(sealed: string) => Effect.Effect<string, string>>(
  "@effect-pagerduty/pagerduty/Config/SealedOpener",
  {
    defaultValue: () => () =>
      Effect.fail("the value is sealed but no keys are configured; add keys.current and keys.ring")
  }
)

const issue = (message: string) => new SchemaIssue.InvalidValue({ message })

const SecretString = Schema.String.annotate({ expected: "a secret string", [secretAnnotation]: true })

/**
 * A secret: plain text or a `sealed:v1:` envelope opened with the key ring,
 * decoded into `Redacted`. An empty secret is rejected, because it is almost
 * always an unset variable.
 */
export const Secret = SecretString.pipe(
  Schema.decodeTo(Schema.Redacted(Schema.String), {
    decode: SchemaGetter.transformEffect((text: string) =>
      text.startsWith("sealed:v1:")
        ? Effect.gen(function*() {
          const open = yield* SealedOpener
          const plain = yield* Effect.mapError(open(text), issue)
          return Redacted.make(plain)
        })
        : Effect.succeed(Redacted.make(text))
    ),
    encode: SchemaGetter.transform(Redacted.value)
  })
).check(
  Schema.makeFilter((secret: Redacted.Redacted<string>) =>
    Redacted.value(secret) === "" ? "expected a non-empty secret; remove the key to leave it unset" : undefined
  )
)

/** A secret of an exact length, checked after a sealed value is opened. */
export const SecretOfLength = (length: number) =>
  Secret.check(Schema.makeFilter((secret: Redacted.Redacted<string>) => {
    const found = Redacted.value(secret).length
    return found === length ? undefined : `expected ${length} characters, got ${found}`
  }))

const fromText = <A>(
  expected: string,
  parse: (text: string) => A | undefined,
  target: Schema.Codec<A>
) =>
  Schema.Union([target, Schema.String]).annotate({ expected }).pipe(
    Schema.decodeTo(Schema.toType(target), {
      decode: SchemaGetter.transformEffect((value: A | string) => {
        if (typeof value !== "string") return Effect.succeed(value)
        const parsed = parse(value.trim())
        return parsed === undefined
          ? Effect.fail(issue(`expected ${expected}, got ${JSON.stringify(value)}`))
          : Effect.succeed(parsed)
      }),
      encode: SchemaGetter.transform((value: A) => value)
    })
  )

/** A number, also read from its decimal text (environment variables and `${VAR}` give text). */
export const NumberLike = fromText("a number", (text) => {
  const parsed = text === "" ? Number.NaN : Number(text)
  return Number.isFinite(parsed) ? parsed : undefined
}, Schema.Finite)

/** A boolean, also read from `true` or `false` text. */
export const BooleanLike = fromText(
  "true or false",
  (text) => {
    if (text === "true") return true
    if (text === "false") return false
    return undefined
  },
  Schema.Boolean
)

/** An integer in a range, with a message naming the range. */
export const IntBetween = (minimum: number, maximum: number) =>
  NumberLike.check(Schema.makeFilter((n: number) =>
    Number.isInteger(n) && n >= minimum && n <= maximum
      ? undefined
      : `expected an integer from ${minimum} to ${maximum}, got ${n}`
  ))

/** A positive number (seconds, rates). */
export const Positive = NumberLike.check(
  Schema.makeFilter((n: number) => n > 0 ? undefined : `expected a number greater than 0, got ${n}`)
)

/** An absolute http or https URL. */
export const HttpUrl = Schema.String.annotate({ expected: "an http or https URL" }).check(
  Schema.makeFilter((text: string) => {
    if (!URL.canParse(text)) return `expected an absolute URL, got ${JSON.stringify(text)}`
    const url = new URL(text)
    // The URL is printed in summaries and errors, so it must not carry credentials; the value is not shown.
    if (url.username !== "" || url.password !== "") {
      return "expected a URL without user or password; the clients never send them, so remove them"
    }
    return url.protocol === "http:" || url.protocol === "https:"
      ? undefined
      : `expected an http or https URL, got the scheme ${url.protocol}`
  })
)

/** A URL holding credentials (`redis://user:password@host`), kept as a secret. */
export const SecretUrl = Secret.check(Schema.makeFilter((secret: Redacted.Redacted<string>) => {
  const text = Redacted.value(secret)
  return URL.canParse(text) ? undefined : "expected an absolute URL (its value is not shown because it is secret)"
}))

/** An email address: one `@` with text on both sides and no spaces. */
export const Email = Schema.String.annotate({ expected: "an email address" }).check(
  Schema.makeFilter((text: string) =>
    /^[^\s@]+@[^\s@]+$/.test(text) ? undefined : `expected an email address, got ${JSON.stringify(text)}`
  )
)

/** A non-empty string with a message saying so. */
export const Name = Schema.String.check(
  Schema.makeFilter((text: string) => text.trim() === "" ? "expected a non-empty string" : undefined)
)

/** A key that defaults when absent. */
export const withDefault = <S extends Schema.Constraint>(schema: S, value: S["Type"]) =>
  Schema.withDecodingDefaultTypeKey<S>(Effect.succeed(value))(schema)
