import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/provision';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const example = (name: string) => `${ROOT}examples/${name}`;
const fixture = (name: string) => `${ROOT}test/fixtures/requests/${name}`;
const EXAMPLES = readdirSync(`${ROOT}examples`)
  .filter((file) => file.endsWith('.json'))
  .map(example);

/** Runs the CLI in-process with captured output. */
const run = async (...argv: string[]) => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
};

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('provision validate', () => {
  it('exits 0 and prints "file: valid" for each shipped example', async () => {
    expect(EXAMPLES).toHaveLength(6);
    const { code, stdout, stderr } = await run('validate', ...EXAMPLES);
    expect(code).toBe(0);
    expect(lines(stdout)).toEqual(EXAMPLES.map((file) => `${file}: valid`));
    expect(stderr).toBe('');
  });

  it('exits 1 and prints one "file: path: message" line per error of an invalid file', async () => {
    const file = fixture('hyperpod-invalid.json');
    const { code, stdout } = await run('validate', example('tir-minimal.json'), file);
    expect(code).toBe(1);
    expect(lines(stdout)).toEqual([
      `${example('tir-minimal.json')}: valid`,
      `${file}: /cluster/ClusterName: must match ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`,
      `${file}: /cluster/InstanceGroups/0/InstanceCount: must be at least 1 (got 0)`,
      `${file}: /cluster/InstanceGroups/0/ExecutionRole: is required`,
    ]);
  });

  it('prints the root pointer as / in human output', async () => {
    const file = fixture('not-an-object.json');
    const { code, stdout } = await run('validate', file);
    expect(code).toBe(1);
    expect(lines(stdout)).toEqual([`${file}: /: must be an object (got array)`]);
  });

  it('prints warnings as "file: warning: path: message" and still exits 0', async () => {
    const file = fixture('hyperpod-warning.json');
    const { code, stdout } = await run('validate', file);
    expect(code).toBe(0);
    const [warning, valid, ...rest] = lines(stdout);
    expect(warning).toMatch(new RegExp(`^${file}: warning: /cluster/InstanceGroups/0/LifeCycleConfig/SourceS3Uri: .*sagemaker-`));
    expect(valid).toBe(`${file}: valid`);
    expect(rest).toEqual([]);
  });

  it('prints exactly one JSON line per file with --json', async () => {
    const files = [example('hyperpod-minimal.json'), fixture('tir-invalid.json'), fixture('hyperpod-warning.json')];
    const { code, stdout } = await run('validate', '--json', ...files);
    expect(code).toBe(1);
    const reports = lines(stdout).map((line) => JSON.parse(line) as unknown);
    expect(reports).toEqual([
      { file: files[0], valid: true, errors: [], warnings: [] },
      {
        file: files[1],
        valid: false,
        errors: [
          { path: '/region', message: 'applies only to provider "sagemaker"' },
          { path: '/projectId', message: 'is required' },
          { path: '/cluster/ssh_key_ids/1', message: 'duplicates /cluster/ssh_key_ids/0: SSH key ids must be unique' },
          { path: '/cluster/lifecycle_script', message: 'is required when script_added is true' },
        ],
        warnings: [],
      },
      {
        file: files[2],
        valid: true,
        errors: [],
        warnings: [{ path: '/cluster/InstanceGroups/0/LifeCycleConfig/SourceS3Uri', message: expect.any(String) }],
      },
    ]);
  });

  it('exits 2 for a file that cannot be read, saying why', async () => {
    const file = fixture('does-not-exist.json');
    const human = await run('validate', file);
    expect(human.code).toBe(2);
    expect(lines(human.stdout)).toEqual([`${file}: /: cannot read file: ENOENT`]);

    const json = await run('validate', '--json', file);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      valid: false,
      errors: [{ path: '', message: 'cannot read file: ENOENT' }],
      warnings: [],
    });
  });

  it('exits 2 for a file that is not JSON, with the parser message', async () => {
    const file = fixture('not-json.json');
    const { code, stdout } = await run('validate', '--json', file);
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as { valid: boolean; errors: Array<{ path: string; message: string }> };
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([{ path: '', message: expect.stringMatching(/^not JSON: .+/) }]);
  });

  it('exits 2 when an unreadable file comes with an invalid one, in either order', async () => {
    const invalid = fixture('hyperpod-invalid.json');
    const missing = fixture('missing.json');
    expect((await run('validate', invalid, missing)).code).toBe(2);
    expect((await run('validate', missing, invalid)).code).toBe(2);
  });

  it('exits 2 with a message on stderr when no file is given', async () => {
    const { code, stdout, stderr } = await run('validate');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('no files given');
    expect(stderr).toContain('Usage: provision validate');
  });

  it('exits 2 with a message on stderr for an unknown flag', async () => {
    const { code, stderr } = await run('validate', '--yaml', example('tir-minimal.json'));
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--yaml'");
  });

  it('prints its usage with --help and exits 0', async () => {
    const { code, stdout } = await run('validate', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: provision validate FILE... [--json]');
  });
});

describe('provision', () => {
  it('lists the commands with --help', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}validate +check request files/m);
  });

  it('exits 2 for an unknown command or none', async () => {
    const unknown = await run('deploy');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing command');
  });

  it('does not take a prototype member for a command', async () => {
    expect((await run('constructor')).code).toBe(2);
  });

  it('runs as the real bin: node cli/bin.mjs validate examples/*.json exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['cli/bin.mjs', 'validate', ...EXAMPLES], { cwd: ROOT });
    expect(lines(stdout)).toEqual(EXAMPLES.map((file) => `${file}: valid`));
  });
});
