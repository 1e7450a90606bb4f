/**
 * A loopback proxy in front of an AWS JSON endpoint (dynalite, the Step Functions simulator) that answers chosen calls
 * with the service's own throttling error, on the wire, so the SDK parses and retries it as it would in AWS. Every
 * other call is forwarded as it is.
 *
 * A rule names the operation (from `X-Amz-Target`) and, for DynamoDB, the table; it answers the next `count` matching
 * calls with the error. Calls the rule throttled are counted so a test can show the fault was met.
 */
import { request as httpRequest } from 'node:http';
import { readBody, startServer, type RunningServer } from '../../local/simulators/common';

export interface ThrottleRule {
  /** The operation, e.g. `GetItem` or `SendTaskSuccess` (the part of X-Amz-Target after the dot). */
  operation: string;
  /** Only calls on this table (DynamoDB `TableName`). */
  table?: string;
  /** How many matching calls to throttle. */
  count: number;
  /** The error's type (`__type`); default DynamoDB's ProvisionedThroughputExceededException. */
  type?: string;
}

export interface ThrottlingProxy extends RunningServer {
  arm(rule: ThrottleRule): void;
  /** How many calls were answered with a throttling error since the last `arm`. */
  throttled(): number;
}

export const startThrottlingProxy = async (target: string): Promise<ThrottlingProxy> => {
  const upstream = new URL(target);
  let rule: ThrottleRule | undefined;
  let left = 0;
  let throttled = 0;
  const server = await startServer(async (req, res) => {
    const body = await readBody(req);
    const operation =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    let table: string | undefined;
    try {
      table = (JSON.parse(body || '{}') as { TableName?: string }).TableName;
    } catch {
      table = undefined;
    }
    if (rule && left > 0 && operation === rule.operation && (rule.table === undefined || rule.table === table)) {
      left--;
      throttled++;
      const type = rule.type ?? 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException';
      const payload = JSON.stringify({ __type: type, message: 'Rate of requests exceeds the allowed throughput.' });
      res.writeHead(400, {
        'content-type': String(req.headers['content-type'] ?? 'application/x-amz-json-1.0'),
        'x-amzn-errortype': type.split('#').pop() ?? type,
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    forwarded.end(body);
  });
  return {
    ...server,
    arm(next) {
      rule = next;
      left = next.count;
      throttled = 0;
    },
    throttled: () => throttled,
  };
};
