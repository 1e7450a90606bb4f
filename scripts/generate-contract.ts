/**
 * Generates the request contract's HyperPod part from the pinned SageMaker SDK model, and the modules built from the
 * contract. Run with `npm run generate` (node --import tsx scripts/generate-contract.ts) after bumping
 * @aws-sdk/client-sagemaker or editing the overlay or the hand-written parts of the schema.
 *
 * 1. functions/contract/request.schema.json: the hand-written parts (top level, retry, TIR body, shared definitions)
 *    are kept as they are; every `$defs` entry reachable from `$defs/CreateClusterRequest` is replaced by a fresh walk
 *    of the SDK's CreateClusterRequest (dist-types/models/*.d.ts, read with the TypeScript compiler API), merged with
 *    scripts/contract-overlay.ts.
 * 2. functions/contract/request.validator.js (+ .d.ts): the schema compiled by ajv into a standalone ES module, so
 *    nothing is compiled at cold start.
 * 3. functions/core/hyperpod-instance-types.ts: the ClusterInstanceType enum as a list.
 *
 * test/contract/ holds the committed files equal to what this produces, and the schema complete against the SDK.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv2020, { _ } from 'ajv/dist/2020.js';
import { FORMATS } from '../functions/contract/date-time.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import ts from 'typescript';
import { OVERLAY, type MemberOverlay } from './contract-overlay';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_PACKAGE = '@aws-sdk/client-sagemaker';
export const ROOT_SHAPE = 'CreateClusterRequest';
export const INSTANCE_TYPE_ENUM = 'ClusterInstanceType';

export const OUTPUTS = {
  schema: 'functions/contract/request.schema.json',
  validator: 'functions/contract/request.validator.js',
  validatorTypes: 'functions/contract/request.validator.d.ts',
  instanceTypes: 'functions/core/hyperpod-instance-types.ts',
} as const;

export type Schema = { [keyword: string]: unknown };

// ---------------------------------------------------------------------------------------------------------------------
// The SDK model: interfaces (structures), namespaces of `XMember` interfaces (unions), const objects (enums).

interface Member {
  name: string;
  required: boolean;
  type: ts.TypeNode;
  doc: string;
}

type Shape =
  | { kind: 'structure'; name: string; doc: string; members: Member[] }
  | { kind: 'union'; name: string; doc: string; members: Member[] }
  | { kind: 'enum'; name: string; doc: string; values: string[] };

export interface SdkModel {
  version: string;
  shapes: Map<string, Shape>;
}

const docOf = (node: ts.Node): string => {
  const text = ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join(' ');
  return plainText(text);
};

/** The first paragraph of an API doc comment, without markup. */
const plainText = (html: string): string => {
  const first = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? html;
  return first
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
};

const nameOf = (name: ts.PropertyName): string => {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  throw new Error(`unsupported member name ${name.getText()}`);
};

const membersOf = (members: ts.NodeArray<ts.TypeElement>): Member[] =>
  members.filter(ts.isPropertySignature).map((member) => {
    if (!member.type) throw new Error(`member ${member.name.getText()} has no type`);
    return { name: nameOf(member.name), required: !member.questionToken, type: member.type, doc: docOf(member) };
  });

export const readSdkModel = (root = ROOT): SdkModel => {
  const packageDir = join(root, 'node_modules', SDK_PACKAGE);
  const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(packageDir, 'dist-types', 'models');
  const shapes = new Map<string, Shape>();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.d.ts'))
    .sort()) {
    const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (ts.isInterfaceDeclaration(statement)) {
        const name = statement.name.text;
        shapes.set(name, { kind: 'structure', name, doc: docOf(statement), members: membersOf(statement.members) });
      } else if (ts.isModuleDeclaration(statement) && statement.body && ts.isModuleBlock(statement.body)) {
        // A Smithy union: one `XMember` interface per member, where X is the one member not typed `never`.
        const name = statement.name.text;
        const members = statement.body.statements
          .filter(ts.isInterfaceDeclaration)
          .filter((member) => member.name.text.endsWith('Member') && member.name.text !== '$UnknownMember')
          .map((member) => {
            const [only, ...more] = membersOf(member.members).filter((m) => m.required && m.type.kind !== ts.SyntaxKind.NeverKeyword);
            if (!only || more.length > 0) throw new Error(`union ${name}.${member.name.text} has no single member`);
            return only;
          });
        const alias = source.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === name);
        shapes.set(name, { kind: 'union', name, doc: alias ? docOf(alias) : '', members });
      } else if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          if (!ts.isIdentifier(declaration.name) || !declaration.type || !ts.isTypeLiteralNode(declaration.type)) continue;
          const values = declaration.type.members.filter(ts.isPropertySignature).map((member) => {
            const type = member.type;
            if (!type || !ts.isLiteralTypeNode(type) || !ts.isStringLiteral(type.literal))
              throw new Error(`enum ${declaration.name.getText()} has a non-string value`);
            return type.literal.text;
          });
          shapes.set(declaration.name.text, { kind: 'enum', name: declaration.name.text, doc: docOf(statement), values });
        }
      }
    }
  }
  return { version, shapes };
};

// ---------------------------------------------------------------------------------------------------------------------
// SDK shapes to JSON Schema, merged with the overlay.

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });

/** The generated `$defs`, in the order a depth-first walk from CreateClusterRequest meets them. */
export const hyperPodDefs = (model: SdkModel): Record<string, Schema> => {
  const defs: Record<string, Schema> = {};
  const used = new Set<string>();

  const typeSchema = (type: ts.TypeNode, where: string): Schema => {
    if (ts.isUnionTypeNode(type)) {
      const [only, ...more] = type.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
      if (!only || more.length > 0) throw new Error(`${where}: unsupported union type ${type.getText()}`);
      return typeSchema(only, where);
    }
    if (type.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
    if (type.kind === ts.SyntaxKind.NumberKeyword) return { type: 'number' };
    if (type.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
    if (ts.isArrayTypeNode(type)) return { type: 'array', items: typeSchema(type.elementType, `${where}[]`) };
    if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
      const name = type.typeName.text;
      const args = type.typeArguments ?? [];
      if (name === 'Record' && args.length === 2 && args[0]?.kind === ts.SyntaxKind.StringKeyword && args[1])
        return { type: 'object', additionalProperties: typeSchema(args[1], `${where}{}`) };
      if (name === 'Date' && args.length === 0) return { type: 'string', format: 'date-time' };
      if (args.length === 0 && model.shapes.has(name)) {
        define(name);
        return ref(name);
      }
    }
    throw new Error(`${where}: unsupported type ${type.getText()}`);
  };

  const define = (name: string): void => {
    if (used.has(name)) return;
    used.add(name);
    const shape = model.shapes.get(name);
    if (!shape) throw new Error(`shape ${name} is not in the SDK model`);
    const overlay = OVERLAY[name] ?? {};
    const description = [shape.doc, overlay.description].filter(Boolean).join(' ');
    if (shape.kind === 'enum') {
      defs[name] = { ...(description ? { description } : {}), type: 'string', enum: shape.values };
      return;
    }
    const def: Schema = { ...(description ? { description } : {}), type: 'object' };
    defs[name] = def; // placed before its members' shapes: the walk order is the reading order
    const known = new Set(shape.members.map((member) => member.name));
    for (const extra of [...(overlay.required ?? []), ...Object.keys(overlay.members ?? {})])
      if (!known.has(extra)) throw new Error(`the overlay names ${name}.${extra}, which the SDK model does not have`);
    const properties: Record<string, Schema> = {};
    for (const member of shape.members) {
      const base = typeSchema(member.type, `${name}.${member.name}`);
      const extra = overlay.members?.[member.name];
      const about = [member.doc, extra?.description].filter(Boolean).join(' ');
      properties[member.name] = { ...(about ? { description: about } : {}), ...merge(base, extra, `${name}.${member.name}`) };
    }
    const required = shape.members
      .filter((member) => (shape.kind === 'structure' && member.required) || overlay.required?.includes(member.name))
      .map((member) => member.name);
    if (required.length > 0) def.required = required;
    def.properties = properties;
    def.additionalProperties = false;
    if (shape.kind === 'union' || overlay.exactlyOne) def.oneOf = shape.members.map((member) => ({ required: [member.name] }));
    for (const [keyword, rule] of Object.entries(overlay.rules ?? {})) {
      if (Object.hasOwn(def, keyword)) throw new Error(`the overlay's rules for ${name} set ${keyword}, which the generator sets`);
      def[keyword] = rule;
    }
  };

  define(ROOT_SHAPE);
  for (const name of Object.keys(OVERLAY))
    if (!used.has(name)) throw new Error(`the overlay names ${name}, which CreateClusterRequest does not use`);
  return defs;
};

/** Overlay keywords on a member's schema: list keywords on the list, `items` on its items, the rest on the value. */
const merge = (base: Schema, overlay: MemberOverlay | undefined, where: string): Schema => {
  if (!overlay) return base;
  const { items, description: _described, ...rest } = overlay;
  const out: Schema = { ...base };
  if (items) {
    if (base.type !== 'array') throw new Error(`${where}: the overlay gives items to a member that is not a list`);
    out.items = merge(base.items as Schema, items, `${where}[]`);
  }
  for (const [keyword, value] of Object.entries(rest)) {
    if (keyword === 'type' && base.type !== 'number') throw new Error(`${where}: only a number can become an integer`);
    out[keyword] = value;
  }
  return out;
};

// ---------------------------------------------------------------------------------------------------------------------
// The schema file: hand-written parts kept, generated `$defs` replaced.

const refsIn = (schema: unknown, into: Set<string>): Set<string> => {
  if (Array.isArray(schema)) for (const item of schema) refsIn(item, into);
  else if (schema !== null && typeof schema === 'object')
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')) into.add(value.slice('#/$defs/'.length));
      else refsIn(value, into);
    }
  return into;
};

/** Every `$defs` name reachable from `from` (itself included). */
export const reachableDefs = (defs: Record<string, unknown>, from: string): Set<string> => {
  const seen = new Set<string>();
  const queue = [from];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name) || !Object.hasOwn(defs, name)) continue;
    seen.add(name);
    queue.push(...refsIn(defs[name], new Set()));
  }
  return seen;
};

export const buildSchema = (current: Schema, generated: Record<string, Schema>, version: string): Schema => {
  const defs = (current.$defs ?? {}) as Record<string, Schema>;
  const old = reachableDefs(defs, ROOT_SHAPE);
  const kept = Object.fromEntries(Object.entries(defs).filter(([name]) => !old.has(name)));
  for (const name of Object.keys(generated))
    if (Object.hasOwn(kept, name)) throw new Error(`the hand-written definition ${name} has the name of an SDK shape`);
  return {
    ...current,
    $comment: `$defs from ${ROOT_SHAPE} on are generated from ${SDK_PACKAGE} ${version} and scripts/contract-overlay.ts by scripts/generate-contract.ts (npm run generate): edit those, not the generated definitions.`,
    $defs: { ...kept, ...generated },
  };
};

// ---------------------------------------------------------------------------------------------------------------------
// The standalone validator.

/**
 * Left out of the compiled module: annotations, which do not change what validates, and `uniqueItems`. The schema
 * keeps `uniqueItems` (editors and API tools check it), and functions/core/validate/refinements.ts checks the same
 * lists, for two reasons found with ajv 8.20:
 * - the answer: ajv reports one pair per list, at the list (`{"i": 4, "j": 1}` for [5, 6, 5, 5, 6]), while the contract
 *   names each bad value by its own pointer: every later duplicate, each naming the first (`/ssh_key_ids/2` and `/3`
 *   duplicate `/ssh_key_ids/0`);
 * - the cost: items checked through a `$ref` (as `ssh_key_ids` and `OnStartDeepHealthChecks` are) are compared
 *   pairwise: 20,000 such items took about 20 s, where the refinement is one pass.
 */
const NOT_COMPILED = new Set(['description', 'title', '$comment', 'examples', 'default', 'uniqueItems']);

const compiledPart = (schema: unknown, parentKey = ''): unknown => {
  if (Array.isArray(schema)) return schema.map((item) => compiledPart(item));
  if (schema === null || typeof schema !== 'object') return schema;
  // Under `properties` and `$defs` the keys are names, not keywords: a member may well be called "description".
  const names = parentKey === 'properties' || parentKey === '$defs';
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => names || !NOT_COMPILED.has(key))
      .map(([key, value]) => [key, compiledPart(value, names ? '' : key)]),
  );
};

/**
 * ajv's standalone output `require`s its runtime helpers even as an ES module. The helpers it uses here are
 * self-contained functions, so their source is inlined; the date-time format is functions/contract/date-time.js, by import.
 */
const runtime = createRequire(import.meta.url);
const RUNTIME: Record<string, string> = {
  'require("ajv/dist/runtime/ucs2length").default': 'ajv/dist/runtime/ucs2length',
  'require("ajv/dist/runtime/equal").default': 'ajv/dist/runtime/equal',
};
const inlined = (module: string): string => {
  const fn = (runtime(module) as { default: unknown }).default;
  if (typeof fn !== 'function') throw new Error(`${module} exports no function to inline`);
  return String(fn);
};

const APPEND_ERRORS = `function appendErrors(into, more) {
  if (into === null) return more;
  for (let i = 0; i < more.length; i++) into.push(more[i]);
  return into;
}
`;

/**
 * The two helpers the compact form calls (see compact()): an error object of ajv's shape, and the append of one error
 * to a list that may not exist yet.
 */
const COMPACT_HELPERS = `function errorAt(instancePath, schemaPath, keyword, params) {
  return {instancePath, schemaPath, keyword, params};
}
function pushError(into, error) {
  if (into === null) return [error];
  into.push(error);
  return into;
}
`;

/**
 * A smaller text for the same validator. ajv writes each of its ~500 failure sites as an object literal that spells out
 * its four keys, then six lines that start or extend the error list; they were half of the minified validator, and a
 * cold start of every submit function parses all of it. Each becomes a call of a helper that builds the same object
 * and list (a submit function's init reads about a sixth fewer bytes). Every site must match, or generation stops.
 */
const compact = (code: string): string => {
  const sites = (code.match(/^const err\d+ = \{instancePath/gm) ?? []).length;
  let built = 0;
  code = code.replace(
    /^const (err\d+) = \{instancePath(?::(.*?))?,schemaPath:("(?:[^"\\]|\\.)*"),keyword:("[a-zA-Z$ ]+"),params:(.*)\};$/gm,
    (_, name: string, path: string | undefined, schemaPath: string, keyword: string, params: string) => {
      built++;
      return `const ${name} = errorAt(${path ?? 'instancePath'},${schemaPath},${keyword},${params});`;
    },
  );
  if (built !== sites)
    throw new Error(`the standalone validator builds ${sites - built} errors in a way generate-contract.ts does not know`);
  const lists = (code.match(/^if\(vErrors === null\)\{$/gm) ?? []).length;
  let appended = 0;
  code = code.replace(/^if\(vErrors === null\)\{\nvErrors = \[(err\d+)\];\n\}\nelse \{\nvErrors\.push\(\1\);\n\}$/gm, (_, name: string) => {
    appended++;
    return `vErrors = pushError(vErrors, ${name});`;
  });
  if (appended !== lists)
    throw new Error(`the standalone validator starts ${lists - appended} error lists in a way generate-contract.ts does not know`);
  return `${code}\n${COMPACT_HELPERS}`;
};

export const validatorModule = (schema: Schema): string => {
  const ajv = new Ajv2020({
    allErrors: true,
    // Inherited properties are not fields: a request is data, whatever prototype the caller's object has.
    ownProperties: true,
    strict: true,
    // The union branches ({"required": ["Eks"]}) name properties declared beside them, not inside them.
    strictRequired: false,
    messages: false,
    // The formats are functions/contract/date-time.js's: the generated code imports them (below).
    code: { source: true, esm: true, lines: true, formats: _`FORMATS` },
  });
  for (const [name, validate] of Object.entries(FORMATS)) ajv.addFormat(name, validate);
  const validate = ajv.compile(compiledPart(schema) as Schema);
  let code = standaloneCode(ajv, validate);
  const imports = code.includes('FORMATS[') ? ['import { FORMATS } from "./date-time.js";'] : [];
  for (const [call, module] of Object.entries(RUNTIME)) if (code.includes(call)) code = code.split(call).join(`(${inlined(module)})`);
  // ajv gathers a called definition's errors with `vErrors.concat(...)`, copying every error so far on each call:
  // quadratic in a long list of bad items. Appending in place gives the same list in linear time.
  code = code.replace(
    /vErrors = vErrors === null \? (validate\d+)\.errors : vErrors\.concat\(\1\.errors\);/g,
    'vErrors = appendErrors(vErrors, $1.errors);',
  );
  if (code.includes('.concat(')) throw new Error('the standalone validator gathers errors in a way generate-contract.ts does not know');
  code = compact(`${code}\n${APPEND_ERRORS}`);
  const left = /require\([^)]*\)/.exec(code);
  if (left) throw new Error(`the standalone validator still requires ${left[0]}: inline or import it in generate-contract.ts`);
  return [
    '// Generated by scripts/generate-contract.ts from functions/contract/request.schema.json (npm run generate): do not edit.',
    ...imports,
    code,
  ].join('\n');
};

const VALIDATOR_TYPES = `// Generated by scripts/generate-contract.ts (npm run generate): do not edit.
import type { ErrorObject } from 'ajv';

export interface RequestSchemaValidator {
  /** True when the value satisfies functions/contract/request.schema.json; otherwise \`errors\` lists every failure. */
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export declare const validate: RequestSchemaValidator;
export default validate;
`;

// ---------------------------------------------------------------------------------------------------------------------
// The instance type list.

export const instanceTypesModule = (schema: Schema, version: string): string => {
  const def = (schema.$defs as Record<string, Schema>)[INSTANCE_TYPE_ENUM];
  const values = def?.enum;
  if (!Array.isArray(values)) throw new Error(`the schema has no ${INSTANCE_TYPE_ENUM} enum`);
  return `/**
 * The instance types HyperPod accepts for an instance group: the ${INSTANCE_TYPE_ENUM} enum of the SageMaker API model
 * (${SDK_PACKAGE} ${version}).
 * Generated by scripts/generate-contract.ts (npm run generate): do not edit; bump the SDK and regenerate.
 */
export const HYPERPOD_INSTANCE_TYPES = [
${values.map((value) => `  '${String(value)}',`).join('\n')}
] as const;

export type HyperPodInstanceType = (typeof HYPERPOD_INSTANCE_TYPES)[number];
`;
};

// ---------------------------------------------------------------------------------------------------------------------

/** Every generated file (path relative to the repository root) with the content the generator produces now. */
export const generate = (root = ROOT): Record<string, string> => {
  const model = readSdkModel(root);
  const current = JSON.parse(readFileSync(join(root, OUTPUTS.schema), 'utf8')) as Schema;
  const schema = buildSchema(current, hyperPodDefs(model), model.version);
  return {
    [OUTPUTS.schema]: `${JSON.stringify(schema, null, 2)}\n`,
    [OUTPUTS.validator]: validatorModule(schema),
    [OUTPUTS.validatorTypes]: VALIDATOR_TYPES,
    [OUTPUTS.instanceTypes]: instanceTypesModule(schema, model.version),
  };
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [path, content] of Object.entries(generate())) {
    writeFileSync(join(ROOT, path), content);
    console.log(`wrote ${path}`);
  }
}
