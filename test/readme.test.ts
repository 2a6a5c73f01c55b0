/**
 * The README a newcomer reads: every measured number in it comes from scripts/readme-numbers.sh (a
 * `<!-- numbers:NAME -->` block the script writes), the help text and config comments state no
 * measured time or accuracy that could drift from it, every link resolves, and every command in its
 * shell blocks names a real command, real flags and configs that resolve. (Running them all, as
 * written, on a fresh clone: scripts/check-readme-commands.sh.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../src/provenance.js';
import { lcconv } from './fixtures.js';

const README = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
const BLOCK = /<!-- numbers:([\w-]+) -->([\s\S]*?)<!-- \/numbers -->/g;

/** A measured duration, or a vague one ("a few minutes", "hours on a CPU"), or a measured accuracy. */
const MEASURED = [
  /\b\d+(\.\d+)? ?(s|ms|sec|seconds?|min|minutes?|h|hours?)\b(?!\/)/i,
  /\b(a|an|few|about an?|under an?|several|in|takes?) (seconds|minutes?|hours?)\b/i,
  /\bhours? (on|per)\b/i,
  /\b\d+\.\d+ ?%/,
  /\b\d+(\.\d+)? (percentage )?points?\b/i,
  /\b\d+(\.\d+)? images\/s\b/i,
];
const measuredIn = (text: string) => MEASURED.map((re) => text.match(re)?.[0]).find((m) => m !== undefined);

test('every block scripts/readme-numbers.sh writes is in the README, filled', () => {
  const script = readFileSync(join(PACKAGE_ROOT, 'scripts', 'readme-numbers.sh'), 'utf8');
  const written = [...script.matchAll(/"\$OUT\/blocks\/([\w-]+)"/g)].map((m) => m[1]!);
  assert.ok(written.length >= 4, `the script writes blocks: ${written}`);
  const blocks = new Map([...README.matchAll(BLOCK)].map((m) => [m[1]!, m[2]!.trim()]));
  for (const name of written) {
    assert.ok(blocks.has(name), `README.md has no <!-- numbers:${name} --> block`);
    assert.match(blocks.get(name)!, /\d/, `README.md's ${name} block is empty: run scripts/readme-numbers.sh`);
  }
  for (const name of blocks.keys()) assert.ok(written.includes(name), `no script writes README block ${name}`);
});

test("the default and Fashion-MNIST blocks' closing sentences agree with their tables", () => {
  let checked = 0;
  for (const [, name, body] of README.matchAll(BLOCK)) {
    const frozen = body!.split('\n').find((l) => /^frozen\s/.test(l));
    if (!frozen) continue;
    checked++;
    const sentence = body!.split('\n').find((l) => l.startsWith('Frozen random filters'));
    assert.ok(sentence, `${name}: the table has no closing sentence`);
    const [, mean, delta] = frozen.match(/^frozen\s+\d+\s+\d+\s+([\d.]+)[^+-]*([+-][\d.]+)/)!;
    assert.ok(sentence.includes(`reach ${mean}%`), `${name}: "${sentence}" does not state the frozen mean ${mean}`);
    assert.ok(
      sentence.includes(`${Math.abs(Number(delta)).toFixed(2)} points`),
      `${name}: "${sentence}" does not state the Δ ${delta}`,
    );
  }
  assert.ok(checked >= 2, `the default and Fashion-MNIST tables are checked (${checked} found)`);
});

test('outside the generated blocks, the README states no measured time or accuracy', () => {
  const prose = README.replace(BLOCK, '').replace(/```[\s\S]*?```/g, '');
  for (const [i, line] of prose.split('\n').entries()) {
    const found = measuredIn(line);
    assert.equal(found, undefined, `README prose line ${i + 1} states "${found}" by hand: ${line}`);
  }
});

test('help text and config comments state no measured time or accuracy (they point to the README or docs/)', () => {
  const help = lcconv(['--help']);
  assert.equal(help.status, 0, help.stderr);
  const commands = [...help.stdout.matchAll(/^ {2}lcconv (\w+)/gm)].map((m) => m[1]!);
  assert.ok(commands.includes('run') && commands.includes('eval'), commands.join(' '));
  for (const command of ['', ...commands]) {
    const out = command ? lcconv([command, '--help']) : help;
    assert.equal(out.status, 0, out.stderr);
    const found = measuredIn(out.stdout);
    assert.equal(found, undefined, `lcconv ${command} --help states "${found}"`);
  }
  const configs = join(PACKAGE_ROOT, 'configs');
  for (const file of readdirSync(configs).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(join(configs, file), 'utf8')
      .split('\n')
      .filter((l) => l.includes('#'))
      .map((l) => l.slice(l.indexOf('#')))
      .join('\n');
    const found = measuredIn(text);
    assert.equal(found, undefined, `configs/${file}: a comment states "${found}"`);
  }
});

test('every relative link in the README and docs/ points to a file that exists', () => {
  const docs = join(PACKAGE_ROOT, 'docs');
  const pages = [
    join(PACKAGE_ROOT, 'README.md'),
    ...readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(docs, f)),
  ];
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue;
      const path = resolve(dirname(page), target!.split('#')[0]!);
      assert.ok(existsSync(path), `${page.slice(PACKAGE_ROOT.length + 1)} links to ${target}, which does not exist`);
    }
  }
});

/** The README's shell commands, one per line (continuations joined, comments dropped). */
function readmeCommands(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, body]) =>
    body!
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l && !l.startsWith('#')),
  );
}

test('every lcconv command in the README names a real command, real flags and configs that resolve', () => {
  const commands = readmeCommands();
  assert.ok(commands.length >= 10, `${commands.length} commands`);
  const helpOf = new Map<string, string>();
  for (const line of commands) {
    for (const part of line.split('&&').map((p) => p.trim())) {
      const words = part.split(/\s+/);
      if (words[0] === 'npm') {
        assert.ok(['test', 'ci'].includes(words[1]!), `${part}: an npm script the README may name`);
        continue;
      }
      if (words[0] !== 'npx') {
        // scripts/setup.sh, node scripts/make-image-tree.mjs …: the file is in the repository
        const file = words[0] === 'node' ? words[1]! : words[0]!;
        assert.ok(existsSync(join(PACKAGE_ROOT, file)), `${part}: ${file} does not exist`);
        continue;
      }
      assert.equal(words[1], 'lcconv', part);
      const command = words[2] ?? '';
      if (!helpOf.has(command)) {
        const help = lcconv(command ? [command, '--help'] : ['--help']);
        assert.equal(help.status, 0, `${part}: ${help.stderr}`);
        helpOf.set(command, help.stdout);
      }
      for (const flag of words.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]!))
        assert.ok(helpOf.get(command)!.includes(flag), `${part}: lcconv ${command} has no ${flag}`);
      const config = words.find((w) => /^configs\/.*\.yaml$/.test(w));
      if (config) {
        const sets = words.flatMap((w, i) => (w === '--set' ? ['--set', words[i + 1]!.replace(/^'|'$/g, '')] : []));
        const resolved = lcconv(['config', config, ...sets]);
        assert.equal(resolved.status, 0, `${part}: ${resolved.stderr}`);
      }
    }
  }
});
