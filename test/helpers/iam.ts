/**
 * The packaged template's IAM, made concrete for a simulator: every intrinsic of a policy (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub`, `Fn::Split`, `Fn::Join`, `Fn::If`) resolved to the names and ARNs CloudFormation would give the resources in
 * one account and region, and a request run through @cloud-copilot/iam-simulate. Used by test/deploy/iam.test.ts.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { asArray, type CfnResource, type CfnTemplate, type Statement } from './package';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';
export const STACK = 'gpu-cluster-provisioner-dev';

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': PARTITION,
  'AWS::StackName': STACK,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The name CloudFormation generates for a resource without one: `<stack>-<logicalId>-<suffix>`. */
const generated = (logicalId: string) => `${STACK}-${logicalId}-ABCDEF123456`;

const arn = (service: string, resource: string, region = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;

/** What `Ref` and each `Fn::GetAtt` attribute of a resource resolve to, by resource type. */
const ATTRIBUTES: Record<string, (id: string, props: Record<string, any>) => Record<string, string>> = {
  'AWS::DynamoDB::Table': (id, p) => {
    const name = p.TableName ?? generated(id);
    return { Ref: name, Arn: arn('dynamodb', `table/${name}`) };
  },
  'AWS::SQS::Queue': (id, p) => {
    const name = p.QueueName ?? generated(id);
    return { Ref: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`, Arn: arn('sqs', name), QueueName: name };
  },
  'AWS::Events::EventBus': (_id, p) => ({ Ref: p.Name, Name: p.Name, Arn: arn('events', `event-bus/${p.Name}`) }),
  'AWS::Scheduler::ScheduleGroup': (_id, p) => ({ Ref: p.Name, Arn: arn('scheduler', `schedule-group/${p.Name}`) }),
  'AWS::StepFunctions::StateMachine': (_id, p) => {
    const machine = arn('states', `stateMachine:${p.StateMachineName}`);
    return { Ref: machine, Arn: machine, Name: p.StateMachineName };
  },
  'AWS::SecretsManager::Secret': (id) => {
    const secret = arn('secretsmanager', `secret:${generated(id)}-AbCdEf`);
    return { Ref: secret, Id: secret };
  },
  'AWS::Logs::LogGroup': (_id, p) => ({ Ref: p.LogGroupName, Arn: `${arn('logs', `log-group:${p.LogGroupName}`)}:*` }),
  'AWS::IAM::Role': (id, p) => {
    const name = p.RoleName ?? generated(id);
    return { Ref: name, Arn: `arn:${PARTITION}:iam::${ACCOUNT}:role${p.Path ?? '/'}${name}` };
  },
  'AWS::Lambda::Function': (_id, p) => ({ Ref: p.FunctionName, Arn: arn('lambda', `function:${p.FunctionName}`) }),
};

/** The concrete value of `Ref` / `Fn::GetAtt` of a logical id; throws for anything it cannot resolve (so a test fails loudly). */
export const attributeOf = (template: CfnTemplate, logicalId: string, attribute = 'Ref'): string => {
  if (attribute === 'Ref' && logicalId in PSEUDO) return PSEUDO[logicalId]!;
  const resource: CfnResource | undefined = template.Resources[logicalId];
  if (!resource) throw new Error(`No resource ${logicalId} in the template`);
  const of = ATTRIBUTES[resource.Type];
  const value = of?.(logicalId, resource.Properties ?? {})[attribute];
  if (typeof value !== 'string') throw new Error(`Cannot resolve ${attribute} of ${logicalId} (${resource.Type})`);
  return value;
};

const NO_VALUE = Symbol('AWS::NoValue');

/** A template value with every intrinsic resolved (conditions are taken as false unless listed in `conditions`). */
export const resolveIntrinsics = (template: CfnTemplate, value: unknown, conditions: Record<string, boolean> = {}): unknown => {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk).filter((item) => item !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref') return arg === 'AWS::NoValue' ? NO_VALUE : attributeOf(template, arg as string);
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? (arg as [string, string]) : (String(arg).split('.') as [string, string]);
        return attributeOf(template, id, attribute);
      }
      if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_whole, name: string) => {
          if (variables && name in variables) return String(walk(variables[name]));
          const [id, attribute] = name.split('.') as [string, string | undefined];
          return attributeOf(template, id, attribute ?? 'Ref');
        });
      }
      if (key === 'Fn::Split') {
        const [separator, source] = arg as [string, unknown];
        return String(walk(source)).split(separator);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = arg as [string, unknown[]];
        return (walk(parts) as unknown[]).join(separator);
      }
      if (key === 'Fn::If') {
        const [condition, then, otherwise] = arg as [string, unknown, unknown];
        return walk(conditions[condition] ? then : otherwise);
      }
    }
    return Object.fromEntries(entries.map(([k, inner]) => [k, walk(inner)]).filter(([, inner]) => inner !== NO_VALUE));
  };
  return walk(value);
};

/** A role's inline policies, every intrinsic resolved, as identity policies for the simulator. */
export const concreteRolePolicies = (template: CfnTemplate, roleId: string): Array<{ name: string; policy: unknown }> => {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role of the template`);
  return asArray(role.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: { Statement: Statement[] } }>).map((p) => ({
    name: p.PolicyName,
    policy: resolveIntrinsics(template, p.PolicyDocument),
  }));
};

/** One API call as IAM authorizes it: the action, the resource ARN and the request's condition keys. */
export interface Call {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  /** Why the code makes it (or why it must be refused). */
  why: string;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/**
 * The simulator's decision for `call` made by `principal` holding `policies` (same account: no resource policy is
 * needed for any call the functions make; `resourcePolicy` judges a call by one that denies, such as the bus's). A request the simulator refuses to evaluate (an
 * unknown action, a resource ARN of the wrong type for the action, a condition key the action does not have, a
 * malformed policy) throws, naming the call.
 */
export const decide = async (
  principal: string,
  policies: Array<{ name: string; policy: unknown }>,
  call: Call,
  /** The resource's own policy (the event bus's), when the call is judged by one too. */
  resourcePolicy?: unknown,
): Promise<Decision> => {
  const result = await runSimulation(
    {
      request: {
        principal,
        action: call.action,
        resource: { resource: call.resource, accountId: ACCOUNT },
        contextVariables: call.context ?? {},
      },
      identityPolicies: policies,
      ...(resourcePolicy ? { resourcePolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`The simulator cannot evaluate ${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
};
