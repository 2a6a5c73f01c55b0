/**
 * Holds what native code writes to stderr (fd 2) while a function runs, so a caller can summarise
 * a library's start-up chatter instead of printing it. Dawn writes its warnings from C++ straight
 * to fd 2, which no process.stderr patch can see; native/src/stderr_capture.cc swaps fd 2 for a
 * temporary file (dup2) and back. Without that addon (not built) the output goes through as before.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface StdioAddon {
  begin(): void;
  end(): string;
}

/** Repository root: this file runs as dist/src/backends/stderr-capture.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADDON_PATH = join(ROOT, 'native', 'build', 'Release', 'lcconv_stdio.node');

let addon: StdioAddon | null | undefined;

function loadStdioAddon(): StdioAddon | null {
  if (addon === undefined) {
    try {
      addon = existsSync(ADDON_PATH) ? (createRequire(import.meta.url)(ADDON_PATH) as StdioAddon) : null;
    } catch {
      addon = null; // a broken build only costs the capture, never the backend
    }
  }
  return addon;
}

/** Whether `captureStderr` can really hold native output here (the addon is built). */
export function stderrCaptureAvailable(): boolean {
  return loadStdioAddon() !== null;
}

/**
 * Runs `f` with fd 2 redirected; `captured` is what was written meanwhile, by anyone in this
 * process, or null when capture is unavailable (then it went to the terminal). Keep `f` short:
 * everything the process prints to stderr in that window lands here.
 */
export async function captureStderr<T>(f: () => Promise<T>): Promise<{ value: T; captured: string | null }> {
  const stdio = loadStdioAddon();
  if (!stdio) return { value: await f(), captured: null };
  try {
    stdio.begin();
  } catch {
    return { value: await f(), captured: null }; // e.g. no temporary folder: print as if uncaptured
  }
  let value: T;
  try {
    value = await f();
  } catch (err) {
    // Whatever explains the failure must not vanish with the capture.
    const captured = stdio.end();
    if (captured) process.stderr.write(captured);
    throw err;
  }
  return { value, captured: stdio.end() };
}
