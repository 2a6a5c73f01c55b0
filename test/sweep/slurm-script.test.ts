import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { arraySpec, sbatchScript, scriptWord, sharedStorageWarnings, slurmSettings } from '../../src/sweep/slurm.js';
import { BIN, inputErrorOf, tempDir } from '../fixtures.js';

test('array range: sorted, runs collapsed, %M throttle', () => {
  assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
  assert.equal(arraySpec([9, 0, 2, 1, 3, 7, 10, 3], 2), '0-3,7,9-10%2');
  assert.equal(arraySpec([5]), '5');
});

/**
 * How sbatch splits an `#SBATCH` line into arguments (Slurm's sbatch/opt.c), taken strictly: only
 * whitespace inside double quotes is kept (a backslash does not protect a space), a backslash takes
 * the next other character literally, a single quote is an ordinary character, and an unescaped #
 * ends the line even inside quotes.
 */
function sbatchLineArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') return args;
    let arg = '';
    let quoted = false;
    for (; i < line.length && (quoted || !/\s/.test(line[i]!)); i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length && !/\s/.test(line[i + 1]!)) arg += line[++i];
      else if (c === '"') quoted = !quoted;
      else if (c === '#') return [...args, arg];
      else arg += c;
    }
    args.push(arg);
  }
}

/** Values an attacker would write into a config or a path, printable but full of shell syntax. */
const HOSTILE = [
  '/plain/path.yaml',
  '/results with space/a b.yaml',
  "it's",
  'a"b',
  '$HOME `touch pwned` $(touch pwned)',
  'x; touch pwned #',
  'back\\slash\\',
  '~user',
  '*',
  '{a,b}',
  'a=b',
  '-e',
  'é ü 日本',
  '\'"\'"',
  '#comment',
  '',
];

test('scriptWord reads back as the same word in bash and in sbatch #SBATCH parsing; control characters are refused', () => {
  const r = spawnSync('bash', ['-c', `printf '%s\\n' ${HOSTILE.map(scriptWord).join(' ')}`], { encoding: 'utf8' });
  assert.equal(r.stdout, HOSTILE.map((w) => `${w}\n`).join(''));
  assert.deepEqual(sbatchLineArgs(HOSTILE.map(scriptWord).join(' ')), HOSTILE);
  for (const bad of ['gpu"\ntouch pwned\n#', 'a\rb', 'tab\there', '\u0000'])
    assert.throws(() => scriptWord(bad), /control character/);
});

test('slurm values are validated: the injection of the issue, control characters and non-options fail with one line naming the key', () => {
  const bad = (yaml: string, message: RegExp) =>
    assert.throws(
      () => loadConfigText(yaml, 'a.yaml'),
      (err: Error) => err instanceof ConfigError && message.test(err.message),
    );
  bad(
    'slurm: { partition: "gpu\\"\\ntouch pwned\\n#" }\n',
    /^a\.yaml:1 slurm\.partition: must not contain control characters/,
  );
  bad('slurm: { partition: "gpu touch" }\n', /slurm\.partition: use partition names/);
  bad(
    'slurm: { sbatch_args: ["--account=a\\nrm -rf ~"] }\n',
    /slurm\.sbatch_args\.0: must not contain control characters/,
  );
  bad('slurm: { sbatch_args: ["account=a"] }\n', /slurm\.sbatch_args\.0: must be one sbatch option/);
  bad(
    'slurm: { sbatch_args: ["--output=/elsewhere/%j.log"] }\n',
    /slurm\.sbatch_args\.0: lcconv sets --array, --output/,
  );
  bad('slurm: { sbatch_args: ["-o/x"] }\n', /lcconv sets/);
  // getopt_long reads any unambiguous prefix of a long option as the option, and short flags in clusters.
  for (const [arg, reserved] of [
    ['--outp=/x/%j.log', '--output'],
    ['--chd=/elsewhere', '--chdir'],
    ['--arr=0-99', '--array'],
    ['--wra=rm -rf x', '--wrap'],
    ['--job-n=x', '--job-name'],
    ['--parsa', '--parsable'],
    ['-Ho/x.log', '-o'],
    ['-HQD/elsewhere', '-D'],
  ] as const)
    bad(
      `slurm: { sbatch_args: [${JSON.stringify(arg)}] }\n`,
      new RegExp(`lcconv sets .* \\(${arg.split('=')[0]} is ${reserved}\\)`),
    );
  assert.deepEqual(
    loadConfigText(
      'slurm: { partition: "gpu,debug", sbatch_args: ["--account=lab", "-Alab", "--comment=it\'s $(x)", "-Hpgpu", "--oversubscribe"] }\n',
      'a.yaml',
    ).config.slurm.sbatch_args,
    ['--account=lab', '-Alab', "--comment=it's $(x)", '-Hpgpu', '--oversubscribe'],
  );
});

test('a script built from hostile paths and options passes bash -n, parses back under sbatch rules, and runs only lcconv with the exact arguments', () => {
  const dir = tempDir('slurm-hostile');
  const weird = join(dir, 'res $(touch pwned) `touch pwned` ; \'q\' "d" #x %j');
  mkdirSync(weird, { recursive: true });
  // A stub in place of node: records the argv it is given, one NUL-terminated word each.
  const stub = join(weird, 'node stub');
  const argvFile = join(dir, 'argv');
  writeFileSync(stub, `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > ${scriptWord(argvFile)}\n`);
  chmodSync(stub, 0o755);
  const config = loadConfigText(
    'slurm: { partition: gpu, sbatch_args: ["--comment=x; touch pwned # $(touch pwned) \'q\' \\\\"] }\n',
    'a.yaml',
  ).config;
  const configCopy = join(weird, 'config-1.yaml');
  const script = sbatchScript({
    jobName: 'lcconv-exp',
    indices: [3],
    settings: slurmSettings(config.slurm),
    logDir: weird,
    workDir: weird,
    node: stub,
    configCopy,
  });
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'valid bash');
  const directives = script
    .split('\n')
    .filter((l) => l.startsWith('#SBATCH '))
    .map((l) => sbatchLineArgs(l.slice(8)));
  assert.ok(
    directives.every((args) => args.length === 1),
    'one option per #SBATCH line',
  );
  assert.deepEqual(
    directives.map((a) => a[0]).filter((a) => /^--(output|chdir|comment)=/.test(a!)),
    [`--output=${weird.replaceAll('%', '%%')}/%A_%a.log`, "--comment=x; touch pwned # $(touch pwned) 'q' \\"],
  );
  const run = spawnSync('bash', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SLURM_ARRAY_TASK_ID: '3' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readFileSync(argvFile, 'utf8').split('\0').slice(0, -1), [
    join(PACKAGE_ROOT, 'bin', 'lcconv.js'),
    'run',
    configCopy,
    '--trial',
    '3',
    '--resume',
  ]);
  assert.deepEqual(readdirSync(dir).sort(), ['argv', basename(weird)].sort(), 'nothing else ran: no pwned file');
  assert.equal(existsSync(join(weird, 'pwned')), false);
});

test('sbatch script: array of trial indices, throttle, resources, per-task logs, one trial per task with --resume', () => {
  const config = loadConfigText(
    'slurm: { partition: gpu, gpus_per_task: 2, cpus_per_task: 4, time: "1-02:00:00", max_parallel: 3, sbatch_args: ["--account=my lab"] }\n',
    'a.yaml',
  ).config;
  const dir = '/shared/results with space/exp';
  const script = sbatchScript({
    jobName: 'lcconv-exp',
    indices: [4, 1, 2, 7],
    settings: slurmSettings(config.slurm),
    logDir: `${dir}/sweep/slurm`,
    workDir: dir,
    node: '/opt/node 20/bin/node',
    configCopy: `${dir}/sweep/config-abc.yaml`,
  });
  const directives = script
    .split('\n')
    .filter((l) => l.startsWith('#SBATCH '))
    .map((l) => l.slice(8));
  assert.deepEqual(directives, [
    '--job-name=lcconv-exp',
    '--array=1-2,4,7%3',
    '--output="/shared/results with space/exp/sweep/slurm/%A_%a.log"',
    '--ntasks=1',
    '--cpus-per-task=4',
    '--gres=gpu:2',
    '--partition=gpu',
    '--time=1-02:00:00',
    '--requeue',
    '--open-mode=append',
    '"--account=my lab"',
  ]);
  assert.ok(script.startsWith('#!/bin/bash\n'));
  const exec = script.split('\n').find((l) => l.startsWith('exec '))!;
  assert.equal(
    exec,
    `exec "/opt/node 20/bin/node" ${scriptWord(join(PACKAGE_ROOT, 'bin', 'lcconv.js'))} run ${scriptWord(`${dir}/sweep/config-abc.yaml`)} --trial "$SLURM_ARRAY_TASK_ID" --resume`,
  );
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'valid bash');
  // Defaults: no GPUs, partition or time unless asked for.
  const plain = sbatchScript({
    jobName: 'j',
    indices: [0],
    settings: slurmSettings(loadConfigText('{}', undefined).config.slurm),
    logDir: '/l',
    workDir: '/w',
    node: '/n',
    configCopy: '/c',
  });
  assert.doesNotMatch(plain, /--gres|--partition|--time/);
  assert.match(plain, /^#SBATCH --array=0$/m);
});

test('slurm flags are validated by the schema; no sbatch on PATH is a one-line error; --dry-run submits nothing', async () => {
  const dir = tempDir('slurm-cli');
  const config = join(dir, 'exp.yaml');
  writeFileSync(
    config,
    `name: exp\nresults_dir: ${join(dir, 'results')}\nmodel: { arch: resnet8, width: 4 }\nsweep:\n  model.kernel_size: [3, 5]\n  freeze: [learned, frozen]\n`,
  );
  const lcconv = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [BIN, 'sweep', config, '--executor', 'slurm', ...args], { encoding: 'utf8', env });

  assert.match(
    (await inputErrorOf(['sweep', config, '--executor', 'slurm', '--time', '5h'])).message,
    /^--time: use HH:MM:SS or D-HH:MM:SS, got "5h"/,
  );

  const noSlurm = lcconv([], { ...process.env, PATH: '/nonexistent' });
  assert.equal(noSlurm.status, 2);
  assert.match(noSlurm.stderr, /^lcconv: sbatch not found on PATH: the slurm executor needs the Slurm client tools/m);

  const dry = lcconv(['--dry-run', '--max-parallel', '2', '--partition', 'debug'], {
    ...process.env,
    PATH: '/nonexistent',
  });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /#SBATCH --array=0-3%2\n/);
  assert.match(dry.stdout, /#SBATCH --partition=debug\n/);
  assert.match(
    dry.stderr,
    /warning: results folder .* machine-local temp folder: compute nodes other than this one will not see it/,
  );
  const slurmDir = join(dir, 'results', 'exp', 'sweep', 'slurm');
  assert.equal(readdirSync(slurmDir).filter((f) => f.endsWith('.sbatch')).length, 1, 'the script is written');
  assert.equal(existsSync(join(slurmDir, 'jobs.json')), false, 'and not submitted');
  const copy = readdirSync(join(dir, 'results', 'exp', 'sweep')).find((f) => f.startsWith('config-'))!;
  assert.match(
    readFileSync(join(dir, 'results', 'exp', 'sweep', copy), 'utf8'),
    new RegExp(`results_dir: ${join(dir, 'results')}`),
  );
});

test('shared storage check: /tmp and tmpfs paths are flagged, others are not', () => {
  assert.equal(sharedStorageWarnings({ results: '/tmp/x' }).length, 1);
  assert.equal(sharedStorageWarnings({ results: '/dev/shm/x' }).length, 1);
  assert.deepEqual(sharedStorageWarnings({ code: PACKAGE_ROOT.startsWith('/tmp') ? '/srv/x' : PACKAGE_ROOT }), []);
});
