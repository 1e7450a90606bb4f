/**
 * The request schema against the installed SageMaker SDK, read with the TypeScript type checker (not the generator's
 * own reading of the declarations): every member of CreateClusterRequest, recursively, must be in the schema, every
 * member the SDK requires must be required, and every enum value must be allowed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/generate-contract';

type JsonSchema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
};
interface Contract {
  $defs: Record<string, JsonSchema>;
}

const MODELS = join(ROOT, 'node_modules/@aws-sdk/client-sagemaker/dist-types/models');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'functions/contract/request.schema.json'), 'utf8')) as Contract;

const program = ts.createProgram(
  readdirSync(MODELS)
    .filter((file) => file.endsWith('.d.ts'))
    .map((file) => join(MODELS, file)),
  {
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    module: ts.ModuleKind.ESNext,
  },
);
const checker = program.getTypeChecker();

const rootType = (): ts.Type => {
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(MODELS)) continue;
    for (const statement of file.statements)
      if (ts.isInterfaceDeclaration(statement) && statement.name.text === 'CreateClusterRequest')
        return checker.getTypeAtLocation(statement.name);
  }
  throw new Error('CreateClusterRequest is not in the SDK model');
};

/** What the SDK has that the schema lacks, each as `where: what`. */
const gaps = (contract: Contract): string[] => {
  const out: string[] = [];
  const done = new Set<string>();
  const deref = (schema: JsonSchema | undefined): JsonSchema | undefined =>
    schema?.$ref ? contract.$defs[schema.$ref.replace('#/$defs/', '')] : schema;

  const walk = (type: ts.Type, written: JsonSchema | undefined, where: string): void => {
    const schema = deref(written);
    if (!schema) return void out.push(`${where}: not in the schema`);
    const t = checker.getNonNullableType(type);
    const key = `${checker.typeToString(t)} ${JSON.stringify(written)}`;
    if (done.has(key)) return;
    done.add(key);

    const parts = t.isUnion() ? t.types : [t];
    if (parts.every((part) => part.isStringLiteral())) {
      for (const part of parts as ts.StringLiteralType[])
        if (!schema.enum?.includes(part.value)) out.push(`${where}: enum value "${part.value}" is not allowed`);
      return;
    }
    if (t.flags & ts.TypeFlags.String)
      return void (schema.type === 'string' || out.push(`${where}: string in the SDK, ${schema.type} here`));
    if (t.flags & ts.TypeFlags.Number)
      return void (schema.type === 'number' || schema.type === 'integer' || out.push(`${where}: number in the SDK, ${schema.type} here`));
    if (t.flags & ts.TypeFlags.BooleanLike)
      return void (schema.type === 'boolean' || out.push(`${where}: boolean in the SDK, ${schema.type} here`));
    if (checker.typeToString(t) === 'Date')
      return void (schema.type === 'string' || out.push(`${where}: a timestamp in the SDK, ${schema.type} here`));
    if (checker.isArrayType(t)) {
      if (schema.type !== 'array') return void out.push(`${where}: a list in the SDK, ${schema.type} here`);
      return walk(checker.getTypeArguments(t as ts.TypeReference)[0] as ts.Type, schema.items, `${where}[]`);
    }
    const map = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (map) {
      if (typeof schema.additionalProperties !== 'object') return void out.push(`${where}: a map in the SDK, not here`);
      return walk(map.type, schema.additionalProperties, `${where}{}`);
    }
    // A structure, or a Smithy union (one constituent per member, the others typed never).
    const union = t.isUnion();
    for (const part of parts)
      for (const member of checker.getPropertiesOfType(part)) {
        const name = member.getName();
        const memberType = checker.getTypeOfSymbol(member);
        if (name.startsWith('$') || memberType.flags & ts.TypeFlags.Never) continue;
        const memberSchema = schema.properties?.[name];
        if (!memberSchema) {
          out.push(`${where}.${name}: not in the schema`);
          continue;
        }
        const optional = (member.flags & ts.SymbolFlags.Optional) !== 0;
        if (!union && !optional && !schema.required?.includes(name)) out.push(`${where}.${name}: required in the SDK, optional here`);
        walk(memberType, memberSchema, `${where}.${name}`);
      }
  };

  walk(rootType(), { $ref: '#/$defs/CreateClusterRequest' }, 'CreateClusterRequest');
  return [...new Set(out)];
};

describe('the request schema against the installed @aws-sdk/client-sagemaker', () => {
  it('has every member of CreateClusterRequest, recursively, its required members required and every enum value', () => {
    expect(gaps(SCHEMA)).toEqual([]);
  });

  it('would notice a member, a requirement or an enum value the schema lacks', () => {
    const doctored = structuredClone(SCHEMA);
    const defs = doctored.$defs;
    delete defs.ClusterInstanceGroupSpecification?.properties?.CapacityRequirements;
    defs.ClusterInstanceType?.enum?.splice(defs.ClusterInstanceType.enum.indexOf('ml.g7.48xlarge'), 1);
    defs.ClusterOrchestratorEksConfig!.required = [];
    delete defs.ClusterKubernetesConfig?.properties?.Labels?.additionalProperties;
    expect(gaps(doctored)).toEqual(
      expect.arrayContaining([
        'CreateClusterRequest.InstanceGroups[].CapacityRequirements: not in the schema',
        'CreateClusterRequest.InstanceGroups[].InstanceType: enum value "ml.g7.48xlarge" is not allowed',
        'CreateClusterRequest.Orchestrator.Eks.ClusterArn: required in the SDK, optional here',
        'CreateClusterRequest.InstanceGroups[].KubernetesConfig.Labels: a map in the SDK, not here',
      ]),
    );
  });
});
