/**
 * A newcomer can find their way: the README stays short and shows the commands CI and a first run depend on, every
 * page of docs/ is linked from it, and every relative link and anchor in the docs resolves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const README = 'README.md';
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`);
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The Markdown without fenced code blocks (their `#` lines are not headings, their brackets not links). */
const prose = (markdown: string): string => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const anchorsOf = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
};

const linksOf = (markdown: string): string[] =>
  [
    ...prose(markdown)
      .replace(/`[^`\n]*`/g, '')
      .matchAll(/\]\(([^)\s]+)\)/g),
  ].map((match) => match[1]!);

describe('README.md', () => {
  const readme = read(README);

  it('stays at most 12 KB', () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(12 * 1024);
  });

  it('shows the test command CI runs, and the two commands of a first run', () => {
    expect(readme).toMatch(/^npm test\b/m);
    expect(readme).toMatch(/^npm start\b/m);
    expect(readme).toMatch(/^npx provision submit examples\/hyperpod-minimal\.json --watch\b/m);
  });

  it('links every page of docs/', () => {
    for (const doc of DOCS) expect(readme, doc).toContain(`](${doc})`);
  });
});

describe.each([README, ...DOCS])('%s', (file) => {
  it('has relative links and anchors that resolve', () => {
    const broken: string[] = [];
    for (const link of linksOf(read(file))) {
      if (/^[a-z]+:/i.test(link)) continue;
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${link}: no file ${target}`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(read(target)).has(anchor))
        broken.push(`${link}: no heading #${anchor} in ${target}`);
    }
    expect(broken).toEqual([]);
  });
});
