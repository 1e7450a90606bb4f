/**
 * A small AWS account on loopback, for the pre-flight plan's read calls, each on its own port and its own wire
 * protocol, answered from a fixture (local/account.json):
 * - Service Quotas: AWS JSON 1.1, `X-Amz-Target: ServiceQuotasV20190624.ListServiceQuotas | GetServiceQuota`.
 * - EC2: the query protocol (form-encoded POST, XML answer): DescribeSubnets, DescribeSecurityGroups.
 * - S3: REST, path-style (`HEAD /<bucket>/<key>`): HeadObject.
 * - IAM: the query protocol: GetRole (AssumeRolePolicyDocument URL-encoded, as IAM answers it).
 * - EKS: REST JSON, `GET /clusters/<name>`: DescribeCluster.
 * - Price List Query API: AWS JSON 1.1, `X-Amz-Target: AWSPriceListService.GetProducts` (./price-list.ts), from the
 *   fixture's `prices`.
 * Point the SDK at them with AWS_ENDPOINT_URL_SERVICE_QUOTAS, _EC2, _S3 (and forcePathStyle), _IAM, _EKS, _PRICING. Each call
 * needs a SigV4 Authorization header (not verified); the region is the one of its credential scope. SageMaker
 * DescribeTrainingPlan is served by the SageMaker simulator (./sagemaker.ts, option `trainingPlans`).
 *
 * Faults for tests: `setFault(operation, 'denied' | 'hang' | 'throttled' | undefined)`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, startServer, type LoggedRequest } from './common';
import { getProducts, type SimPrice } from './price-list';
import type { SimTrainingPlanOffering } from './training-plan-offerings';

/** An AWS JSON answer (`x-amzn-errortype` on errors) and its error shape `{__type, Message}`. */
const replies = (res: ServerResponse, contentType: string) => {
  const json = (status: number, body: unknown, type?: string) => {
    res.writeHead(status, { 'content-type': contentType, ...(type ? { 'x-amzn-errortype': type } : {}) });
    res.end(JSON.stringify(body));
  };
  const error = (status: number, type: string, message: string) => json(status, { __type: type, Message: message }, type);
  return { json, error };
};

export interface AccountRegion {
  /** Service Quotas values of SageMaker, by quota name ("ml.p5.48xlarge for cluster usage"). */
  quotas?: Record<string, number>;
  subnets?: Array<{ id: string; availableIps: number; availabilityZone?: string; vpcId?: string }>;
  /** `selfReferencing`: all traffic allowed from and to the group itself (inbound and outbound). */
  securityGroups?: Array<{ id: string; name?: string; selfReferencing?: boolean }>;
  /** EKS clusters by name: their status (ACTIVE, CREATING, ...). */
  eksClusters?: Record<string, string>;
}

export interface AccountFixture {
  accountId?: string;
  regions: Record<string, AccountRegion>;
  /** S3: bucket -> the keys it holds. */
  buckets?: Record<string, string[]>;
  /** IAM: role name -> the service principals its trust policy lets assume it. */
  roles?: Record<string, { trustedServices: string[] }>;
  /** On-demand prices GetProducts answers (AmazonSageMaker). */
  prices?: SimPrice[];
  /** Reserved capacity SearchTrainingPlanOfferings answers (handed to the SageMaker simulator). */
  trainingPlanOfferings?: SimTrainingPlanOffering[];
  /** SageMaker training plans (handed to the SageMaker simulator). */
  trainingPlans?: Array<{
    name: string;
    region: string;
    status: string;
    instanceType: string;
    totalInstances: number;
    availableInstances: number;
  }>;
}

export type AccountOperation =
  | 'ListServiceQuotas'
  | 'GetServiceQuota'
  | 'DescribeSubnets'
  | 'DescribeSecurityGroups'
  | 'HeadObject'
  | 'GetRole'
  | 'DescribeCluster'
  | 'GetProducts';

export type AccountFault = 'denied' | 'hang' | 'throttled';

export interface AccountSimulator {
  endpoints: { serviceQuotas: string; ec2: string; s3: string; iam: string; eks: string; pricing: string };
  /** The environment that points the SDK at the simulator. */
  environment: Record<string, string>;
  readonly requests: LoggedRequest[];
  setFault(operation: AccountOperation, fault: AccountFault | undefined): void;
  close(): Promise<void>;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const regionOf = (req: IncomingMessage): string | undefined =>
  /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];

const quotaCode = (name: string): string => `L-${createHash('sha256').update(name).digest('hex').slice(0, 8).toUpperCase()}`;

export const startAccountSimulator = async (options: { fixture: AccountFixture; defaultRegion?: string }): Promise<AccountSimulator> => {
  const fixture = options.fixture;
  const account = fixture.accountId ?? '123456789012';
  const defaultRegion = options.defaultRegion ?? 'us-east-1';
  const requests: LoggedRequest[] = [];
  const faults = new Map<AccountOperation, AccountFault>();
  const regionData = (region: string): AccountRegion => (Object.hasOwn(fixture.regions, region) ? fixture.regions[region]! : {});

  /** Logs the call and applies its fault; true when the fault answered (or will never answer). */
  const begin = (req: IncomingMessage, res: ServerResponse, operation: string, deny: () => void, throttle: () => void): boolean => {
    const region = regionOf(req) ?? defaultRegion;
    requests.push({ operation, at: new Date().toISOString(), method: req.method ?? 'GET', path: req.url ?? '/', region });
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Missing Authentication Token');
      return true;
    }
    const fault = faults.get(operation as AccountOperation);
    if (fault === 'hang') return true;
    if (fault === 'denied') {
      deny();
      return true;
    }
    if (fault === 'throttled') {
      throttle();
      return true;
    }
    return false;
  };

  // ---- Service Quotas (AWS JSON 1.1)
  const quotaOf = (region: string, name: string, value: number) => ({
    ServiceCode: 'sagemaker',
    ServiceName: 'Amazon SageMaker',
    QuotaArn: `arn:aws:servicequotas:${region}:${account}:sagemaker/${quotaCode(name)}`,
    QuotaCode: quotaCode(name),
    QuotaName: name,
    Value: value,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  });
  const serviceQuotas = await startServer(async (req, res) => {
    const raw = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^ServiceQuotasV20190624\./, '');
    const { json, error } = replies(res, 'application/x-amz-json-1.1');
    if (
      begin(
        req,
        res,
        operation,
        () => error(400, 'AccessDeniedException', 'You do not have sufficient access to perform this action.'),
        () => error(400, 'TooManyRequestsException', 'Rate exceeded'),
      )
    )
      return;
    const region = regionOf(req) ?? defaultRegion;
    let body: Record<string, unknown>;
    try {
      body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    } catch {
      return error(400, 'SerializationException', 'Malformed JSON');
    }
    const quotas = Object.entries(regionData(region).quotas ?? {});
    if (operation === 'ListServiceQuotas') {
      if (body.ServiceCode !== 'sagemaker') return json(200, { Quotas: [] });
      const offset = typeof body.NextToken === 'string' ? Number(body.NextToken) || 0 : 0;
      const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
      const page = quotas.slice(offset, offset + max).map(([name, value]) => quotaOf(region, name, value));
      return json(200, { Quotas: page, ...(offset + max < quotas.length ? { NextToken: String(offset + max) } : {}) });
    }
    if (operation === 'GetServiceQuota') {
      const found = quotas.find(([name]) => quotaCode(name) === body.QuotaCode);
      if (body.ServiceCode !== 'sagemaker' || !found)
        return error(400, 'NoSuchResourceException', 'The request failed because the specified quota does not exist.');
      return json(200, { Quota: quotaOf(region, found[0], found[1]) });
    }
    return error(400, 'UnknownOperationException', `Unknown operation ${operation}`);
  });

  // ---- EC2 (query protocol, XML)
  const ec2 = await startServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const operation = params.get('Action') ?? '';
    const xml = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
    };
    const error = (status: number, code: string, message: string) =>
      xml(
        status,
        `<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
      );
    if (
      begin(
        req,
        res,
        operation,
        () => error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'),
        () => error(503, 'RequestLimitExceeded', 'Request limit exceeded.'),
      )
    )
      return;
    const region = regionOf(req) ?? defaultRegion;
    const list = (prefix: string): string[] =>
      [...params.entries()].filter(([k]) => new RegExp(`^${prefix}\\.\\d+$`).test(k)).map(([, v]) => v);
    const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
    if (operation === 'DescribeSubnets') {
      const ids = list('SubnetId');
      const all = regionData(region).subnets ?? [];
      const missing = ids.filter((id) => !all.some((s) => s.id === id));
      if (missing.length > 0) return error(400, 'InvalidSubnetID.NotFound', `The subnet ID '${missing.join("', '")}' does not exist`);
      const chosen = ids.length ? all.filter((s) => ids.includes(s.id)) : all;
      const items = chosen
        .map(
          (s) =>
            `<item><subnetId>${xmlEscape(s.id)}</subnetId><state>available</state><vpcId>${xmlEscape(s.vpcId ?? 'vpc-0123456789abcdef0')}</vpcId>` +
            `<availableIpAddressCount>${s.availableIps}</availableIpAddressCount><availabilityZone>${xmlEscape(s.availabilityZone ?? `${region}a`)}</availabilityZone>` +
            `<ownerId>${account}</ownerId></item>`,
        )
        .join('');
      return xml(
        200,
        `<DescribeSubnetsResponse ${ns}><requestId>${randomUUID()}</requestId><subnetSet>${items}</subnetSet></DescribeSubnetsResponse>`,
      );
    }
    if (operation === 'DescribeSecurityGroups') {
      const ids = list('GroupId');
      const all = regionData(region).securityGroups ?? [];
      const missing = ids.filter((id) => !all.some((g) => g.id === id));
      if (missing.length > 0) return error(400, 'InvalidGroup.NotFound', `The security group '${missing.join("', '")}' does not exist`);
      const chosen = ids.length ? all.filter((g) => ids.includes(g.id)) : all;
      const rules = (g: { id: string; selfReferencing?: boolean }) =>
        g.selfReferencing
          ? `<item><ipProtocol>-1</ipProtocol><groups><item><userId>${account}</userId><groupId>${xmlEscape(g.id)}</groupId></item></groups><ipRanges/><ipv6Ranges/><prefixListIds/></item>`
          : '<item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><groups/><ipRanges><item><cidrIp>10.0.0.0/16</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>';
      const egress = (g: { id: string; selfReferencing?: boolean }) =>
        g.selfReferencing
          ? rules(g)
          : '<item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>';
      const items = chosen
        .map(
          (g) =>
            `<item><ownerId>${account}</ownerId><groupId>${xmlEscape(g.id)}</groupId><groupName>${xmlEscape(g.name ?? g.id)}</groupName>` +
            `<groupDescription>fixture</groupDescription><vpcId>vpc-0123456789abcdef0</vpcId>` +
            `<ipPermissions>${rules(g)}</ipPermissions><ipPermissionsEgress>${egress(g)}</ipPermissionsEgress></item>`,
        )
        .join('');
      return xml(
        200,
        `<DescribeSecurityGroupsResponse ${ns}><requestId>${randomUUID()}</requestId><securityGroupInfo>${items}</securityGroupInfo></DescribeSecurityGroupsResponse>`,
      );
    }
    return error(400, 'InvalidAction', `The action ${operation} is not valid for this web service.`);
  });

  // ---- S3 (REST, path-style)
  const s3 = await startServer(async (req, res) => {
    await readBody(req);
    const url = new URL(req.url ?? '/', 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const operation = req.method === 'HEAD' ? 'HeadObject' : `${req.method} ${url.pathname}`;
    const status = (code: number) => {
      res.writeHead(code, { 'x-amz-request-id': randomUUID().slice(0, 16) });
      res.end();
    };
    if (
      begin(
        req,
        res,
        operation,
        () => status(403),
        () => status(503),
      )
    )
      return;
    if (req.method !== 'HEAD') return status(405);
    const buckets = fixture.buckets ?? {};
    if (!Object.hasOwn(buckets, decodeURIComponent(bucket)) || !buckets[decodeURIComponent(bucket)]!.includes(key)) return status(404);
    res.writeHead(200, {
      'content-length': '512',
      'content-type': 'text/x-sh',
      etag: `"${createHash('md5').update(key).digest('hex')}"`,
      'last-modified': new Date('2026-11-01T00:00:00Z').toUTCString(),
    });
    res.end();
  });

  // ---- IAM (query protocol, XML)
  const iam = await startServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const operation = params.get('Action') ?? '';
    const ns = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"';
    const xml = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(text);
    };
    const error = (status: number, code: string, message: string) =>
      xml(
        status,
        `<ErrorResponse ${ns}><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    if (
      begin(
        req,
        res,
        operation,
        () => error(403, 'AccessDenied', 'User is not authorized to perform: iam:GetRole'),
        () => error(400, 'Throttling', 'Rate exceeded'),
      )
    )
      return;
    if (operation !== 'GetRole') return error(400, 'InvalidAction', `Could not find operation ${operation}`);
    const name = params.get('RoleName') ?? '';
    const roles = fixture.roles ?? {};
    if (!Object.hasOwn(roles, name)) return error(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: roles[name]!.trustedServices }, Action: 'sts:AssumeRole' }],
    };
    xml(
      200,
      `<GetRoleResponse ${ns}><GetRoleResult><Role><Path>/</Path><RoleName>${xmlEscape(name)}</RoleName>` +
        `<RoleId>AROA${createHash('sha256').update(name).digest('hex').slice(0, 17).toUpperCase()}</RoleId>` +
        `<Arn>arn:aws:iam::${account}:role/${xmlEscape(name)}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>` +
        `<AssumeRolePolicyDocument>${encodeURIComponent(JSON.stringify(policy))}</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>` +
        `</Role></GetRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetRoleResponse>`,
    );
  });

  // ---- EKS (REST JSON)
  const eks = await startServer(async (req, res) => {
    await readBody(req);
    const url = new URL(req.url ?? '/', 'http://eks');
    const match = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    const operation = req.method === 'GET' && match ? 'DescribeCluster' : `${req.method} ${url.pathname}`;
    const { json } = replies(res, 'application/json');
    if (
      begin(
        req,
        res,
        operation,
        () => json(403, { message: 'User is not authorized to perform: eks:DescribeCluster' }, 'AccessDeniedException'),
        () => json(429, { message: 'Rate exceeded' }, 'ThrottlingException'),
      )
    )
      return;
    if (!match) return json(404, { message: 'Not found' }, 'NotFoundException');
    const region = regionOf(req) ?? defaultRegion;
    const name = decodeURIComponent(match[1]!);
    const clusters = regionData(region).eksClusters ?? {};
    if (!Object.hasOwn(clusters, name)) return json(404, { message: `No cluster found for name: ${name}.` }, 'ResourceNotFoundException');
    json(200, {
      cluster: {
        name,
        arn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
        status: clusters[name],
        version: '1.31',
        createdAt: 1767225600,
      },
    });
  });

  // ---- Price List Query API (AWS JSON 1.1)
  const pricing = await startServer(async (req, res) => {
    const raw = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AWSPriceListService\./, '');
    const { json, error } = replies(res, 'application/x-amz-json-1.1');
    if (
      begin(
        req,
        res,
        operation,
        () => error(400, 'AccessDeniedException', 'User is not authorized to perform: pricing:GetProducts'),
        () => error(400, 'ThrottlingException', 'Rate exceeded'),
      )
    )
      return;
    if (operation !== 'GetProducts') return error(400, 'UnknownOperationException', `Unknown operation ${operation}`);
    let body: Record<string, unknown>;
    try {
      body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    } catch {
      return error(400, 'SerializationException', 'Malformed JSON');
    }
    const answer = getProducts(fixture.prices ?? [], body);
    if ('error' in answer) return error(400, answer.error.type, answer.error.message);
    json(200, answer.ok);
  });

  const endpoints = {
    serviceQuotas: serviceQuotas.endpoint,
    ec2: ec2.endpoint,
    s3: s3.endpoint,
    iam: iam.endpoint,
    eks: eks.endpoint,
    pricing: pricing.endpoint,
  };
  return {
    endpoints,
    environment: {
      AWS_ENDPOINT_URL_SERVICE_QUOTAS: endpoints.serviceQuotas,
      AWS_ENDPOINT_URL_EC2: endpoints.ec2,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_IAM: endpoints.iam,
      AWS_ENDPOINT_URL_EKS: endpoints.eks,
      AWS_ENDPOINT_URL_PRICING: endpoints.pricing,
    },
    requests,
    setFault: (operation, fault) => {
      if (fault === undefined) faults.delete(operation);
      else faults.set(operation, fault);
    },
    close: async () => {
      await Promise.all([serviceQuotas.close(), ec2.close(), s3.close(), iam.close(), eks.close(), pricing.close()]);
    },
  };
};
