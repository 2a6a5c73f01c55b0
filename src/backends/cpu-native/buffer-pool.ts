/**
 * Recycles the Float32Arrays of native kernel outputs. tfjs's cpu backend gives every kernel output
 * a fresh typed array; a ResNet step makes hundreds of activation-sized ones, so V8 zeroed each
 * (memset) and, driven by the external-memory growth, ran major GCs back to back on its worker
 * threads: perf on a ResNet-8 W=16 batch-128 training step put ~12% of the main thread in memset and
 * 0.64 cores in GC (docs/benchmarks.md). A step frees the same sizes the next one needs, so a free
 * list per length removes both.
 *
 * A recycled array must never be visible to anyone else, so an array is recycled only while the
 * backend knows it is the sole holder:
 *   fresh    handed to a kernel, not yet registered as a tensor's values
 *   live     registered once, as the whole array, and never read out
 * It leaves the pool's care for good ("escapes": forgotten, later collected by the GC) when it is
 * registered a second time or a view of it is (tfjs's Slice returns subarrays of its input), or when
 * its values are read out (dataSync/data return the backend's own array).
 */

type Held = 'fresh' | 'live';

export interface BufferPoolStats {
  /** Arrays handed out. */
  taken: number;
  /** ... of which came from the free lists. */
  reused: number;
  /** Arrays that escaped the pool's care (read out or aliased). */
  escaped: number;
  /** Bytes on the free lists now. */
  pooledBytes: number;
}

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly held = new WeakMap<ArrayBuffer, Held>();
  private pooledBytes = 0;
  private readonly counts = { taken: 0, reused: 0, escaped: 0 };

  /**
   * @param limitBytes most bytes kept on the free lists; beyond it freed arrays go to the GC.
   * @param poison fill freed arrays with NaN, so a kernel that reads an output before writing all
   *   of it (trusting zeroed memory) shows up in tests.
   */
  constructor(
    private readonly limitBytes: number,
    private readonly poison = false,
  ) {}

  /** An array of `length` floats with arbitrary contents: the caller must write every element. */
  take(length: number): Float32Array {
    this.counts.taken++;
    const list = this.free.get(length);
    const reused = list?.pop();
    let out: Float32Array;
    if (reused) {
      this.counts.reused++;
      this.pooledBytes -= reused.byteLength;
      out = reused;
    } else {
      out = new Float32Array(length);
    }
    // Zero-length arrays share no state worth tracking (and could share a buffer).
    if (length > 0) this.held.set(out.buffer as ArrayBuffer, 'fresh');
    return out;
  }

  /** Called when `values` become a tensor's data (backend write/move). */
  registered(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer) return;
    const state = this.held.get(buffer);
    if (state === 'fresh' && isWhole(values as ArrayBufferView)) this.held.set(buffer, 'live');
    else if (state !== undefined) this.escape(buffer);
  }

  /** Called when a tensor's values are handed out of the backend (readSync, read, bufferSync). */
  readOut(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer && this.held.has(buffer)) this.escape(buffer);
  }

  /** Called when the last reference to a tensor's data is gone. */
  released(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer || this.held.get(buffer) !== 'live' || !(values instanceof Float32Array)) return;
    this.held.delete(buffer);
    if (this.pooledBytes + values.byteLength > this.limitBytes) return;
    if (this.poison) values.fill(Number.NaN);
    let list = this.free.get(values.length);
    if (!list) {
      list = [];
      this.free.set(values.length, list);
    }
    list.push(values);
    this.pooledBytes += values.byteLength;
  }

  /** Drops every free array (the GC takes them). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  stats(): BufferPoolStats {
    return { ...this.counts, pooledBytes: this.pooledBytes };
  }

  private escape(buffer: ArrayBuffer): void {
    this.held.delete(buffer);
    this.counts.escaped++;
  }
}

function bufferOf(values: unknown): ArrayBuffer | undefined {
  return ArrayBuffer.isView(values) ? (values.buffer as ArrayBuffer) : undefined;
}

function isWhole(view: ArrayBufferView): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}
