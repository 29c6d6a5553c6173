/**
 * A binary min-heap ordered by `at`, then by insertion sequence, so entries
 * that become due at the same millisecond leave in the order they arrived.
 */
export interface HeapEntry<A> {
  readonly at: number
  readonly seq: number
  readonly value: A
}

export class MinHeap<A> {
  private readonly entries: Array<HeapEntry<A>> = []
  private nextSeq = 0

  get size(): number {
    return this.entries.length
  }

  push(at: number, value: A): void {
    const entries = this.entries
    entries.push({ at, seq: this.nextSeq++, value })
    let index = entries.length - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(entries[index]!, entries[parent]!)) break
      swap(entries, index, parent)
      index = parent
    }
  }

  peek(): HeapEntry<A> | undefined {
    return this.entries[0]
  }

  pop(): HeapEntry<A> | undefined {
    const entries = this.entries
    const top = entries[0]
    const last = entries.pop()
    if (top === undefined || last === undefined || entries.length === 0) return top
    entries[0] = last
    let index = 0
    while (true) {
      const left = index * 2 + 1
      const right = left + 1
      let smallest = index
      if (left < entries.length && before(entries[left]!, entries[smallest]!)) smallest = left
      if (right < entries.length && before(entries[right]!, entries[smallest]!)) smallest = right
      if (smallest === index) break
      swap(entries, index, smallest)
      index = smallest
    }
    return top
  }

  clear(): void {
    this.entries.length = 0
  }
}

const before = <A>(a: HeapEntry<A>, b: HeapEntry<A>): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

const swap = <A>(entries: Array<A>, i: number, j: number): void => {
  const value = entries[i]!
  entries[i] = entries[j]!
  entries[j] = value
}
