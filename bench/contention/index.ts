/**
 * npm run bench -- contention [--seed N] [--scenario NAME ...] [--out DIR]: the capacity-contention benchmark in
 * virtual time. Every scenario's timeline is drawn from the seed; this project's policy (the real workflow code, with
 * and without the shared memory) and the other strategies' models each meet it in turn. Writes contention.md and
 * contention.svg under bench/results/ (or --out) and prints the tables; with --check it writes nothing and fails when
 * the committed files differ from what the seed gives.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { OTHER_MODELS, runModel } from './others';
import { runProject } from './project';
import { chartOf, type Figures, figuresOf, reportOf } from './report';
import type { ProviderKind } from './provider';
import { HYPERPOD_TIMING, SCENARIOS, type Scenario, timelineOf } from './scenarios';

export const DEFAULT_SEED = 20261201;
export const DEFAULT_SCENARIOS = ['one-region', 'three-regions', 'burst', 'free-ten'];

/** Every scenario runs on both kinds of provider: one that refuses a create without capacity, and HyperPod. */
export const PROVIDER_KINDS: readonly ProviderKind[] = [{ kind: 'refuse' }, { kind: 'rollback', ...HYPERPOD_TIMING }];

export interface Section {
  scenario: Scenario;
  kind: ProviderKind;
  figures: Figures[];
}

export const runScenario = async (scenario: Scenario, seed: number, kind: ProviderKind = { kind: 'refuse' }): Promise<Section> => {
  const timeline = timelineOf(scenario, seed);
  const runs = [
    await runProject(scenario, timeline, seed, { memory: 'queue', kind }),
    await runProject(scenario, timeline, seed, { memory: 'lease', kind }),
    await runProject(scenario, timeline, seed, { memory: false, kind }),
  ];
  for (const model of OTHER_MODELS) runs.push(await runModel(scenario, timeline, seed, model, kind));
  return { scenario, kind, figures: runs.map((run) => figuresOf(run, scenario)) };
};

export const runContention = async (
  seed: number,
  names: readonly string[],
): Promise<{ sections: Section[]; markdown: string; svg: string }> => {
  const sections: Section[] = [];
  for (const name of names) {
    const scenario = SCENARIOS[name];
    if (!scenario) throw new Error(`No scenario ${name} (known: ${Object.keys(SCENARIOS).join(', ')})`);
    for (const kind of PROVIDER_KINDS) sections.push(await runScenario(scenario, seed, kind));
  }
  return { sections, markdown: reportOf(seed, sections), svg: chartOf(sections) };
};

const option = (args: string[], name: string): string[] => {
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === name && args[i + 1] !== undefined) values.push(args[++i]!);
  return values;
};

export const main = async (args: string[]): Promise<void> => {
  const seed = Number(option(args, '--seed')[0] ?? DEFAULT_SEED);
  if (!Number.isInteger(seed)) throw new Error('--seed takes an integer');
  const names = option(args, '--scenario');
  const out = option(args, '--out')[0] ?? fileURLToPath(new URL('../results/', import.meta.url));
  const started = performance.now();
  const { markdown, svg } = await runContention(seed, names.length > 0 ? names : DEFAULT_SCENARIOS);
  if (args.includes('--check')) {
    const same = (file: string, text: string) => existsSync(join(out, file)) && readFileSync(join(out, file), 'utf8') === text;
    const ok = same('contention.md', markdown) && same('contention.svg', svg);
    console.log(`contention: ${ok ? 'the committed figures are what seed' : 'the committed figures DIFFER from what seed'} ${seed} gives`);
    if (!ok) process.exitCode = 1;
    return;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'contention.md'), markdown);
  writeFileSync(join(out, 'contention.svg'), svg);
  console.log(markdown);
  console.log(
    `contention: ${((performance.now() - started) / 1000).toFixed(1)} s wall; wrote ${join(out, 'contention.md')} and contention.svg`,
  );
};
