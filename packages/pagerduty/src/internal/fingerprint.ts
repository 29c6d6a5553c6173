/** FNV-1a 64-bit offset basis. */
const offsetBasis = 0xcbf29ce484222325n
/** FNV-1a 64-bit prime. */
const prime = 0x100000001b3n
const mask = 0xffffffffffffffffn
/** Byte that follows every label name and value; it never occurs in valid UTF-8. */
const separator = 0xff

const encoder = new TextEncoder()

const addBytes = (hash: bigint, bytes: Uint8Array): bigint => {
  let next = hash
  for (const byte of bytes) {
    next = ((next ^ BigInt(byte)) * prime) & mask
  }
  return next
}

const compareBytes = (left: Uint8Array, right: Uint8Array): number => {
  const length = Math.min(left.length, right.length)
  for (let i = 0; i < length; i++) {
    const difference = left[i]! - right[i]!
    if (difference !== 0) return difference
  }
  return left.length - right.length
}

const addByte = (hash: bigint, byte: number): bigint => ((hash ^ BigInt(byte)) * prime) & mask

/**
 * Computes the label fingerprint the way Prometheus' `model.LabelSet.Fingerprint`
 * does: FNV-1a 64 over the UTF-8 bytes of each name and value, sorted by name,
 * each followed by a 0xff byte, written as 16 lowercase hex digits.
 */
export const labelFingerprint = (labels: Readonly<Record<string, string>>): string => {
  // Go sorts label names by their UTF-8 bytes, so the names are compared as bytes here too.
  const names = Object.keys(labels).map((name) => ({ name, bytes: encoder.encode(name) })).sort((a, b) =>
    compareBytes(a.bytes, b.bytes)
  )
  let hash = offsetBasis
  for (const { bytes, name } of names) {
    hash = addBytes(hash, bytes)
    hash = addByte(hash, separator)
    hash = addBytes(hash, encoder.encode(labels[name] ?? ""))
    hash = addByte(hash, separator)
  }
  return hash.toString(16).padStart(16, "0")
}
