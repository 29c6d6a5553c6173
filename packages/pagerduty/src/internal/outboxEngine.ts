/**
 * The synchronous state of a process-local outbox, shared by the memory and
 * file stores. The file store rebuilds it from its log on open.
 *
 * Items of one dedup key form a FIFO. A key is "due" when it has items, no
 * worker holds its head, and the head's `notBefore` has passed; keys sit in a
 * min-heap by due time, ties in the order they were scheduled. Heap entries carry the key's version, so a
 * rescheduled key leaves a stale entry that is dropped when popped.
 */
import type { Claim, DeadLetter, Entry, OutboxItem, Stats } from "../OutboxStore.ts"
import { MinHeap } from "./outboxHeap.ts"

interface QueuedEntry {
  item: OutboxItem
  notBefore: number
  lastError: string | undefined
  token: string | undefined
}

interface KeyQueue {
  readonly ids: Array<string>
  head: number
  held: boolean
  version: number
}

/** When an item entered the queue: its replay time after a replay. */
export const readyAt = (item: OutboxItem): number => item.replayedAt ?? item.enqueuedAt

export class Engine {
  readonly queued = new Map<string, QueuedEntry>()
  readonly dead = new Map<string, { readonly item: OutboxItem; readonly deadLetter: DeadLetter }>()
  private readonly keys = new Map<string, KeyQueue>()
  private readonly due = new MinHeap<{ readonly key: string; readonly version: number }>()
  private inFlight = 0
  private tokenSeq = 0
  // The latest time `claim` saw. A key is due at the later of this and its head's `notBefore`, so fresh items are due
  // at once (whatever their enqueue time says) and a retried key, due at its `notBefore`, queues behind keys that
  // became due earlier rather than behind every later offer.
  private now = 0

  has(id: string): boolean {
    return this.queued.has(id) || this.dead.has(id)
  }

  /** Adds an item at the tail of its key; returns false for an id already stored. */
  put(item: OutboxItem): boolean {
    if (this.has(item.id)) return false
    this.queued.set(item.id, { item, notBefore: 0, lastError: undefined, token: undefined })
    let queue = this.keys.get(item.dedupKey)
    if (queue === undefined) {
      queue = { ids: [], head: 0, held: false, version: 0 }
      this.keys.set(item.dedupKey, queue)
    }
    queue.ids.push(item.id)
    if (queue.ids.length - queue.head === 1) this.schedule(item.dedupKey, queue)
    return true
  }

  /** Claims the next due item, or returns when the next one falls due (`Infinity` when none is queued). */
  claim(now: number): Claim | number {
    this.now = Math.max(this.now, now)
    while (true) {
      const top = this.due.peek()
      if (top === undefined) return Infinity
      if (top.at > now) return top.at
      this.due.pop()
      const queue = this.keys.get(top.value.key)
      if (queue === undefined || queue.version !== top.value.version || queue.held) continue
      const entry = this.queued.get(queue.ids[queue.head]!)!
      queue.held = true
      entry.token = `${++this.tokenSeq}`
      entry.item = { ...entry.item, attempts: entry.item.attempts + 1 }
      this.inFlight++
      return { item: entry.item, token: entry.token }
    }
  }

  /** Removes a delivered item. Without a token (log replay) the item need not be held. */
  complete(id: string, token?: string): boolean {
    const entry = this.held(id, token)
    if (entry === undefined) return false
    this.remove(id, entry)
    return true
  }

  retry(id: string, token: string | undefined, notBefore: number, lastError: string, attempts?: number): boolean {
    const entry = this.held(id, token)
    if (entry === undefined) return false
    entry.notBefore = notBefore
    entry.lastError = lastError
    if (attempts !== undefined) entry.item = { ...entry.item, attempts }
    this.unhold(entry)
    return true
  }

  /** Returns a held item to its key's head without counting the attempt. */
  release(id: string, token: string): boolean {
    const entry = this.held(id, token)
    if (entry === undefined) return false
    entry.item = { ...entry.item, attempts: Math.max(0, entry.item.attempts - 1) }
    this.unhold(entry)
    return true
  }

  kill(id: string, token: string | undefined, deadLetter: DeadLetter, attempts?: number): boolean {
    const entry = this.held(id, token)
    if (entry === undefined) return false
    this.remove(id, entry)
    const item = attempts === undefined ? entry.item : { ...entry.item, attempts }
    this.dead.set(id, { item, deadLetter })
    return true
  }

  /** Stores a dead letter read back from a log snapshot. */
  putDead(item: OutboxItem, deadLetter: DeadLetter): void {
    if (!this.has(item.id)) this.dead.set(item.id, { item, deadLetter })
  }

  /** Moves a dead letter to the tail of its key with a fresh attempt count. */
  revive(id: string, at: number): OutboxItem | undefined {
    const dead = this.dead.get(id)
    if (dead === undefined) return undefined
    this.dead.delete(id)
    const item: OutboxItem = { ...dead.item, attempts: 0, replayedAt: at }
    this.put(item)
    return item
  }

  /** Removes a queued item unless a worker holds it. */
  purgeQueued(id: string): boolean {
    const entry = this.queued.get(id)
    if (entry === undefined || entry.token !== undefined) return false
    this.remove(id, entry)
    return true
  }

  purgeDead(id: string): boolean {
    return this.dead.delete(id)
  }

  list(state: "queued" | "dead", offset: number, limit: number): Array<Entry> {
    const entries: Array<Entry> = []
    let index = 0
    if (state === "queued") {
      for (const entry of this.queued.values()) {
        if (index++ < offset) continue
        if (entries.length >= limit) break
        entries.push({
          item: entry.item,
          state: entry.token === undefined ? "queued" : "in-flight",
          notBefore: entry.notBefore > 0 ? entry.notBefore : undefined,
          lastError: entry.lastError
        })
      }
    } else {
      for (const dead of this.dead.values()) {
        if (index++ < offset) continue
        if (entries.length >= limit) break
        entries.push({ item: dead.item, state: "dead", deadLetter: dead.deadLetter })
      }
    }
    return entries
  }

  stats(): Stats {
    // Map order is the order items entered the queue, so the first entry is the oldest.
    const first = this.queued.values().next()
    return {
      depth: this.queued.size,
      inFlight: this.inFlight,
      deadLetters: this.dead.size,
      oldestEnqueuedAt: first.done ? undefined : readyAt(first.value.item)
    }
  }

  private held(id: string, token: string | undefined): QueuedEntry | undefined {
    const entry = this.queued.get(id)
    if (entry === undefined) return undefined
    if (token !== undefined && entry.token !== token) return undefined
    return entry
  }

  private unhold(entry: QueuedEntry): void {
    const queue = this.keys.get(entry.item.dedupKey)!
    if (entry.token !== undefined) {
      entry.token = undefined
      queue.held = false
      this.inFlight--
    }
    if (queue.ids[queue.head] === entry.item.id) this.schedule(entry.item.dedupKey, queue)
  }

  private remove(id: string, entry: QueuedEntry): void {
    this.queued.delete(id)
    const key = entry.item.dedupKey
    const queue = this.keys.get(key)!
    if (entry.token !== undefined) {
      entry.token = undefined
      queue.held = false
      this.inFlight--
    }
    const wasHead = queue.ids[queue.head] === id
    if (wasHead) {
      queue.head++
    } else {
      const index = queue.ids.indexOf(id, queue.head)
      if (index >= 0) queue.ids.splice(index, 1)
    }
    if (queue.head === queue.ids.length) {
      this.keys.delete(key)
      return
    }
    // Drop the consumed prefix once it dominates, so a busy key does not grow without bound.
    if (queue.head > 64 && queue.head * 2 > queue.ids.length) {
      queue.ids.splice(0, queue.head)
      queue.head = 0
    }
    if (wasHead && !queue.held) this.schedule(key, queue)
  }

  private schedule(key: string, queue: KeyQueue): void {
    if (queue.held || queue.head >= queue.ids.length) return
    const head = this.queued.get(queue.ids[queue.head]!)!
    queue.version++
    this.due.push(Math.max(head.notBefore, this.now), { key, version: queue.version })
  }
}
