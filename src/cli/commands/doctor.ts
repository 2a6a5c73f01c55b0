/**
 * `lcconv doctor`: what this machine can run — Node, and for every tfjs backend whether it loads,
 * on which device, or why not and the fix. It prints the backend module's own probes and `auto`
 * decision (`diagnose`), so it shows exactly what `lcconv run` would pick.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Probe, Probers } from '../../backends/index.js';
import type { DawnAdapter } from '../../backends/webgpu.js';

interface DoctorArgs {
  json: boolean;
}

/** The lowest Node major lcconv supports (package.json `engines`). */
const NODE_MAJOR = 20;

export interface DoctorReport {
  node: { version: string; ok: boolean };
  platform: string;
  tfjs: string;
  /** `auto`'s preference, best first. */
  autoOrder: string[];
  probes: Probe[];
  auto: { backend: string; device: string; skipped: string[] } | { error: string };
  /** Why a run's `auto` does not even load Dawn here (doctor loads it anyway, to show it), or null. */
  webGpuLeftOut: string | null;
  /**
   * The adapter each of Dawn's backends offers (Vulkan and OpenGL ES side by side), with the one
   * `--backend webgpu` takes here; null when the webgpu package did not load.
   */
  dawn: { adapters: DawnAdapter[]; uses: string | null; pinned: string | null } | null;
  /** What decodes class-folder images (the native libjpeg-turbo/libpng decoder, or sharp alone and why). */
  imageDecode: { native: boolean; line: string };
}

/**
 * Probes every backend and returns what `auto` would do. Tests pass `probers` and `dawnGpuMissing`
 * (a faked machine), and `dawnAdapters` for the adapter list, which is left out when faked probers
 * come without one (the real list would load Dawn).
 */
export async function doctorReport(
  probers?: Probers,
  dawnGpuMissing?: () => string | null,
  dawnAdapters?: () => Promise<DawnAdapter[]>,
): Promise<DoctorReport> {
  const tf = await import('@tensorflow/tfjs-core');
  const { AUTO_ORDER, diagnose } = await import('../../backends/index.js');
  const { probes, choice, webGpuLeftOut } = await diagnose(probers, dawnGpuMissing);
  const webgpu = probes.find((p) => p.backend === 'webgpu');
  // Dawn loaded when it gave an adapter or said it found none (not when the package is missing).
  const dawnLoaded = webgpu !== undefined && (webgpu.ok || /^Dawn found no/.test(webgpu.reason));
  const list =
    dawnAdapters ?? (probers ? null : async () => (await import('../../backends/webgpu.js')).listDawnAdapters());
  const { pinnedDawnBackend } = await import('../../backends/webgpu.js');
  // An invalid value is the webgpu probe's error already; the list then names no pin.
  const pinned = (() => {
    try {
      return pinnedDawnBackend();
    } catch {
      return null;
    }
  })();
  const { imageDecoderSummary } = await import('../../data/native-decode.js');
  const major = Number(process.versions.node.split('.')[0]);
  return {
    node: { version: process.version, ok: major >= NODE_MAJOR },
    platform: `${process.platform} ${process.arch}`,
    tfjs: tf.version_core,
    autoOrder: AUTO_ORDER.map((c) => (c.hardware ? `${c.backend} on GPU` : c.backend)),
    probes,
    auto:
      'error' in choice
        ? choice
        : { backend: choice.chosen.backend, device: choice.chosen.device, skipped: choice.skipped },
    webGpuLeftOut,
    dawn:
      dawnLoaded && list
        ? {
            adapters: await list(),
            uses: webgpu.ok ? (webgpu.details?.dawn_backend ?? null) : null,
            pinned,
          }
        : null,
    imageDecode: imageDecoderSummary(),
  };
}

/** The adapter lines: each Dawn backend's adapter, and how a run gets it. */
function formatDawnAdapters(dawn: NonNullable<DoctorReport['dawn']>): string[] {
  const width = Math.max(...dawn.adapters.map((a) => a.dawnBackend.length));
  const lines = ['webgpu adapters, one per Dawn backend:'];
  for (const a of dawn.adapters) {
    const name = a.dawnBackend.padEnd(width);
    if (!a.found) {
      lines.push(`  --  ${name}  none: ${a.reason}`);
      continue;
    }
    const how =
      a.dawnBackend === dawn.uses
        ? `--backend webgpu uses this${dawn.pinned ? ` (LCCONV_DAWN_BACKEND=${dawn.pinned})` : ''}`
        : `LCCONV_DAWN_BACKEND=${a.dawnBackend} --backend webgpu to use it`;
    const what = [a.name, a.driver && `driver ${a.driver}`].filter(Boolean).join(', ');
    lines.push(`  ok  ${name}  ${what}, ${a.software ? 'software' : 'hardware'}: ${how}`);
  }
  return lines;
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [
    `node      ${r.node.version} (${r.platform})${r.node.ok ? '' : `  — lcconv needs Node >= ${NODE_MAJOR}`}`,
    `tfjs      ${r.tfjs}`,
    '',
    `backends (auto prefers ${r.autoOrder.join(' > ')}):`,
  ];
  const width = Math.max(...r.probes.map((p) => p.backend.length));
  for (const p of r.probes) {
    const name = p.backend.padEnd(width);
    if (p.ok) {
      lines.push(`  ok  ${name}  ${p.device}`);
      if (p.fix) lines.push(`      ${' '.repeat(width)}  faster: ${p.fix}`);
    } else {
      lines.push(`  --  ${name}  ${p.reason}`);
      if (p.fix) lines.push(`      ${' '.repeat(width)}  fix: ${p.fix}`);
    }
    // What the backend's library printed while loading (Dawn's warnings), in one line instead of as-is.
    if (p.log) lines.push(`      ${' '.repeat(width)}  ${p.log}`);
  }
  lines.push('');
  if ('error' in r.auto) {
    lines.push(`auto: none — ${r.auto.error}`);
  } else {
    lines.push(`auto: ${r.auto.backend} — ${r.auto.device}`);
    for (const why of r.auto.skipped) lines.push(`  skipped ${why}`);
  }
  if (r.webGpuLeftOut) lines.push(`  a run does not load webgpu at all: ${r.webGpuLeftOut}`);
  if (r.dawn) lines.push('', ...formatDawnAdapters(r.dawn));
  lines.push('', `images    ${r.imageDecode.line}`);
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'check Node and every tfjs backend (loads or not, device, fix)',
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .example('$0 doctor', 'which backends load here, their devices, and what auto would choose')
      .example('$0 doctor --json', 'the same as JSON') as unknown as Argv<DoctorArgs>,
  handler: async (args: ArgumentsCamelCase<DoctorArgs>) => {
    const { releaseBackends } = await import('../../backends/index.js');
    try {
      const report = await doctorReport();
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      if ('error' in report.auto || !report.node.ok) process.exitCode = 1;
    } finally {
      await releaseBackends();
    }
  },
};
