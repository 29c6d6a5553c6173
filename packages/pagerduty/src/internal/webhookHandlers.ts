import * as Effect from "effect/Effect"
import * as WebhookEvent from "../WebhookEvent.ts"

/**
 * A handler of one event; its failures are logged and counted by the receiver.
 */
export type Handler<A, R> = (event: A) => Effect.Effect<unknown, unknown, R>

/**
 * An immutable set of handlers, one per event type, plus a handler for every
 * event and one for event types the library does not know.
 */
export interface Handlers<out R> {
  readonly on: <T extends WebhookEvent.EventType, R2>(
    eventType: T,
    handler: Handler<WebhookEvent.Event<T>, R2>
  ) => Handlers<R | R2>
  readonly onAny: <R2>(handler: Handler<WebhookEvent.AnyEvent, R2>) => Handlers<R | R2>
  readonly onUnknown: <R2>(handler: Handler<WebhookEvent.UnknownEvent, R2>) => Handlers<R | R2>
  /** Runs the handlers that apply to `event`: its type's (or `onUnknown`), then `onAny`. */
  readonly dispatch: (event: WebhookEvent.AnyEvent) => Effect.Effect<void, unknown, R>
}

interface State {
  readonly byType: ReadonlyMap<string, Handler<any, any>>
  readonly any: ReadonlyArray<Handler<any, any>>
  readonly unknown: ReadonlyArray<Handler<any, any>>
}

const build = <R>(state: State): Handlers<R> => ({
  on: (eventType, handler) => {
    if (state.byType.has(eventType)) {
      throw new RangeError(`a handler for ${eventType} is already registered; register one handler per event type`)
    }
    return build({ ...state, byType: new Map([...state.byType, [eventType, handler]]) })
  },
  onAny: (handler) => build({ ...state, any: [...state.any, handler] }),
  onUnknown: (handler) => build({ ...state, unknown: [...state.unknown, handler] }),
  dispatch: (event) =>
    Effect.suspend(() => {
      const specific = state.byType.get(event.event_type)
      let handlers = state.any
      if (specific !== undefined) handlers = [specific, ...state.any]
      else if (!WebhookEvent.isKnown(event)) handlers = [...state.unknown, ...state.any]
      return Effect.forEach(handlers, (handler) => handler(event), { discard: true }) as Effect.Effect<
        void,
        unknown,
        R
      >
    })
})

/** Starts an empty set of handlers. */
export const make = (): Handlers<never> => build({ byType: new Map(), any: [], unknown: [] })
