/**
 * The protobuf wire format, as far as TensorBoard's event files need it: each helper returns one
 * encoded field (key + payload); a message is the concatenation of its fields, and a nested message
 * is a length-delimited field holding that concatenation. Proto3: callers leave out default values.
 * Hand-written (60 lines) because no protobuf library is a dependency and only encoding is needed.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? low | 0x80 : low);
  } while (v);
  return out;
}

const key = (field: number, wireType: number) => varint(BigInt((field << 3) | wireType));

/** int32, int64, bool and enum fields. */
export const varintField = (field: number, value: bigint | number | boolean) =>
  Buffer.from([...key(field, VARINT), ...varint(BigInt(typeof value === 'boolean' ? Number(value) : value))]);

export function doubleField(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([Buffer.from(key(field, FIXED64)), b]);
}

export function floatField(field: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([Buffer.from(key(field, FIXED32)), b]);
}

/** string, bytes and nested-message fields (a message given as the list of its encoded fields). */
export function bytesField(field: number, value: Uint8Array | string | Buffer[]): Buffer {
  const bytes = Array.isArray(value)
    ? Buffer.concat(value)
    : typeof value === 'string'
      ? Buffer.from(value, 'utf8')
      : value;
  return Buffer.concat([Buffer.from([...key(field, LENGTH_DELIMITED), ...varint(BigInt(bytes.length))]), bytes]);
}
