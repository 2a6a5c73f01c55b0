/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then
 * the raw little-endian tensor bytes. No npm package writes it, and the format is this small, so
 * lcconv writes and reads it here (only the dtypes it exports: F32 and I64).
 */
export type SafeDtype = 'F32' | 'I64';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I64: 8 };

/** Serialises named tensors (in the given order) and string metadata. */
export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = size * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); // host order is little-endian on every platform Node supports
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Parses a safetensors file; throws on a malformed header or out-of-range offsets. */
export function decodeSafetensors(file: Uint8Array): {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
} {
  if (file.length < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > file.length) throw new Error(`safetensors: header of ${n} bytes runs past the end of the file`);
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
  const base = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = entry as { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new Error(`safetensors: ${name} has unsupported dtype ${dtype}`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== size * BYTES[dtype] || base + end > file.length)
      throw new Error(`safetensors: ${name} offsets [${begin}, ${end}] do not fit shape [${shape}] or the file`);
    const bytes = file.slice(base + begin, base + end); // copy: aligned for the typed array
    tensors.set(name, {
      dtype,
      shape,
      data: dtype === 'F32' ? new Float32Array(bytes.buffer) : new BigInt64Array(bytes.buffer),
    });
  }
  return { tensors, metadata };
}
