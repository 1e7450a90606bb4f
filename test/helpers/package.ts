/**
 * Packages serverless.yml with osls (offline, no AWS account) and reads what it produced: the CloudFormation template
 * and the function zips. test/deploy/*.test.ts share one packaging per run (`sharedPackage`).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  DependsOn?: string | string[];
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

export interface PackagedService {
  /** The folder osls packaged into (`--package`), a fresh temporary folder. */
  dir: string;
  template: CfnTemplate;
  seconds: number;
  /** Removes the temporary folders. */
  cleanup(): Promise<void>;
}

const run = (args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) =>
  new Promise<{ code: number | null; output: string }>((done, fail) => {
    const child = spawn(process.execPath, [OSLS, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`osls ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });

/**
 * `osls package --package <tmp>` with HOME in a scratch folder (osls keeps its own state there) and telemetry off.
 * Packaging into a fresh folder means the assertions can only see artifacts of this run, never stale ones.
 */
export const packageService = async (
  options: {
    timeoutMs?: number;
    args?: string[] /** Folder to make the scratch folders in (default: the OS temp folder). */;
    under?: string;
  } = {},
): Promise<PackagedService> => {
  const dir = await mkdtemp(join(options.under ?? tmpdir(), 'gcp-package-'));
  const home = await mkdtemp(join(options.under ?? tmpdir(), 'gcp-home-'));
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  };
  const started = performance.now();
  const env = { ...process.env, HOME: home, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', CI: '1' };
  const { code, output } = await run(['package', '--package', dir, ...(options.args ?? [])], env, options.timeoutMs ?? 230_000);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    await cleanup();
    throw new Error(`osls package exited with ${code}:\n${output}`);
  }
  const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
  return { dir, template, seconds, cleanup };
};

/** Set by test/global-setup.ts: a fresh folder for this run's one shared packaging (removed when the run ends). */
export const SHARED_PACKAGE_ENV = 'GCP_SHARED_PACKAGE_DIR';

/**
 * The default packaging, made once per test run whichever test file asks first: the first caller packages into the
 * run's shared folder (claimed with an atomic mkdir), the others wait for its result. Its `cleanup` does nothing: the
 * global teardown removes the folder. Without the shared folder (a test file run outside vitest's global setup) it
 * is a packaging of its own.
 */
export const sharedPackage = async (options: { timeoutMs?: number } = {}): Promise<PackagedService> => {
  const root = process.env[SHARED_PACKAGE_ENV];
  if (!root) return packageService(options);
  const claim = join(root, 'claim');
  const result = join(root, 'result.json');
  let mine = true;
  try {
    await mkdir(claim);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    mine = false;
  }
  if (mine) {
    try {
      const packaged = await packageService({ ...options, under: root });
      await writeFile(result, JSON.stringify({ dir: packaged.dir, seconds: packaged.seconds }));
    } catch (err) {
      await writeFile(result, JSON.stringify({ error: (err as Error).message }));
      throw err;
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 230_000) + 10_000;
  for (;;) {
    const text = await readFile(result, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const outcome = JSON.parse(text) as { dir?: string; seconds?: number; error?: string };
      if (outcome.error !== undefined) throw new Error(`The shared packaging failed:\n${outcome.error}`);
      const dir = outcome.dir!;
      const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
      return { dir, template, seconds: mine ? outcome.seconds! : 0, cleanup: async () => {} };
    }
    if (Date.now() > deadline) throw new Error(`No shared packaging in ${root} after waiting for it`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

/** The entries of a zip file (stored or deflated), name -> content. Enough for the zips osls / archiver write. */
export const readZip = async (file: string): Promise<Map<string, Buffer>> => {
  const zip = await readFile(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) {
      if (method === 0) entries.set(name, Buffer.from(data));
      else if (method === 8) entries.set(name, inflateRawSync(data));
      else throw new Error(`${file}: ${name} uses compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
};

/** Runs `node` on a script with arguments; resolves with exit code and output. */
export const runNode = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
  new Promise<{ code: number | null; output: string }>((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });

// ---------------------------------------------------------------- template helpers

export const resourcesOfType = (template: CfnTemplate, type: string): Array<[string, CfnResource]> =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Every policy statement in the template, with where it was found. */
export const allStatements = (template: CfnTemplate): Array<{ where: string; statement: Statement }> => {
  const out: Array<{ where: string; statement: Statement }> = [];
  const add = (where: string, document: unknown) => {
    for (const statement of asArray((document as { Statement?: Statement | Statement[] } | undefined)?.Statement)) {
      out.push({ where, statement });
    }
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role') {
      add(`${id} (trust policy)`, props.AssumeRolePolicyDocument);
      for (const policy of asArray(props.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>)) {
        add(`${id}/${policy.PolicyName}`, policy.PolicyDocument);
      }
    } else if (props.PolicyDocument) {
      add(id, props.PolicyDocument);
    }
  }
  return out;
};

/** The statements of one role's inline policies (not its trust policy). */
export const roleStatements = (template: CfnTemplate, roleId: string): Statement[] => {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role of the template`);
  return asArray(role.Properties?.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) =>
    asArray(p.PolicyDocument.Statement),
  );
};

/** Logical ids a value refers to (Ref, Fn::GetAtt, and ${Name} / ${Name.Attr} inside Fn::Sub), pseudo parameters excluded. */
export const referencesOf = (value: unknown, out = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) {
    for (const item of value) referencesOf(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof inner === 'string') {
        if (!inner.startsWith('AWS::')) out.add(inner);
      } else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(inner) ? inner[0] : String(inner).split('.')[0];
        if (typeof target === 'string') out.add(target);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(inner) ? (inner as [string, Record<string, unknown>]) : [inner as string, {}];
        for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const name = match[1]!.split('.')[0]!;
          if (!name.startsWith('AWS::') && !(name in (variables ?? {}))) out.add(name);
        }
        referencesOf(variables, out);
      } else {
        referencesOf(inner, out);
      }
    }
  }
  return out;
};

/** A dependency cycle among the resources (as CloudFormation would refuse it), or undefined. */
export const findCycle = (template: CfnTemplate): string[] | undefined => {
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const refs = referencesOf({ Properties: resource.Properties ?? {} });
    for (const dep of asArray(resource.DependsOn)) refs.add(dep);
    edges.set(
      id,
      [...refs].filter((r) => r in template.Resources),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
};

/**
 * A state machine's DefinitionString back as JSON. serverless-step-functions writes `Fn::Sub` (a string, or
 * [string, variables]) with each intrinsic replaced by `${<md5>}`; each such Resource comes back as the intrinsic
 * itself (e.g. `{"Fn::GetAtt": ["CreateClusterLambdaFunction", "Arn"]}`), so it can be compared with the loader.
 */
export const decodeDefinition = (definitionString: unknown): Record<string, any> => {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const sub = (definitionString as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (sub === undefined) throw new Error(`Unexpected DefinitionString ${JSON.stringify(definitionString).slice(0, 200)}`);
  const [text, variables] = Array.isArray(sub) ? (sub as [string, Record<string, unknown>]) : [sub as string, {}];
  const markers = new Map<string, unknown>();
  const replaced = text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name in variables) {
      const marker = `@@intrinsic:${name}@@`;
      markers.set(marker, variables[name]);
      return marker;
    }
    return whole; // a pseudo parameter such as ${AWS::Region} stays as written
  });
  return JSON.parse(replaced, (_key, value) => (typeof value === 'string' && markers.has(value) ? markers.get(value) : value));
};
