/**
 * An SNS simulator on loopback speaking the AWS query protocol (form-encoded `Action=...` POSTs, XML answers), enough
 * for the notify function and for trying it: CreateTopic (idempotent by name), Publish (to a topic that exists:
 * NotFound otherwise; a FIFO topic needs MessageGroupId), ListTopics. Every published message is kept in `messages`
 * and handed to `onPublish`. Point the SDK at it with AWS_ENDPOINT_URL_SNS.
 */
import { randomUUID } from 'node:crypto';
import { readBody, startServer, type RunningServer } from './common';

export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  message: string;
  subject?: string;
  attributes: Record<string, string>;
  messageGroupId?: string;
  deduplicationId?: string;
  at: string;
}

export interface SnsSimulator extends RunningServer {
  readonly topics: Set<string>;
  readonly messages: PublishedMessage[];
  /** Makes a topic (as CreateTopic does) and returns its ARN. */
  createTopic(name: string): string;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export const startSnsSimulator = async (
  options: { port?: number; region?: string; account?: string; onPublish?: (message: PublishedMessage) => void } = {},
): Promise<SnsSimulator> => {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const topics = new Set<string>();
  const messages: PublishedMessage[] = [];
  const createTopic = (name: string): string => {
    const arn = `arn:aws:sns:${region}:${account}:${name}`;
    topics.add(arn);
    return arn;
  };
  const server = await startServer(async (req, res) => {
    const body = await readBody(req);
    const requestId = randomUUID();
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(`<?xml version="1.0"?>\n${xml}`);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(
        status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'))
      return fail(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
    if (req.method !== 'POST') return fail(400, 'InvalidAction', 'Only POST is supported');
    const form = new URLSearchParams(body);
    const action = form.get('Action');
    const ok = (name: string, result: string) =>
      reply(
        200,
        `<${name}Response xmlns="${XMLNS}"><${name}Result>${result}</${name}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${name}Response>`,
      );
    switch (action) {
      case 'CreateTopic': {
        const name = form.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) return fail(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
        return ok('CreateTopic', `<TopicArn>${escapeXml(createTopic(name))}</TopicArn>`);
      }
      case 'ListTopics':
        return ok(
          'ListTopics',
          `<Topics>${[...topics].map((arn) => `<member><TopicArn>${escapeXml(arn)}</TopicArn></member>`).join('')}</Topics>`,
        );
      case 'Publish': {
        const topicArn = form.get('TopicArn') ?? '';
        const message = form.get('Message');
        if (!message) return fail(400, 'InvalidParameter', 'Invalid parameter: Empty message');
        if (Buffer.byteLength(message) > 256 * 1024) return fail(400, 'InvalidParameter', 'Invalid parameter: Message too long');
        if (!topics.has(topicArn)) return fail(404, 'NotFound', 'Topic does not exist');
        const fifo = topicArn.endsWith('.fifo');
        const groupId = form.get('MessageGroupId') ?? undefined;
        if (fifo && !groupId)
          return fail(400, 'InvalidParameter', 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
        const subject = form.get('Subject') ?? undefined;
        if (subject !== undefined && (subject.length > 100 || !/^[\x20-\x7e]*$/.test(subject)))
          return fail(400, 'InvalidParameter', 'Invalid parameter: Subject');
        const attributes: Record<string, string> = {};
        for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++)
          attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
        const published: PublishedMessage = {
          messageId: randomUUID(),
          topicArn,
          message,
          ...(subject !== undefined ? { subject } : {}),
          attributes,
          ...(groupId ? { messageGroupId: groupId } : {}),
          ...(form.get('MessageDeduplicationId') ? { deduplicationId: form.get('MessageDeduplicationId')! } : {}),
          at: new Date().toISOString(),
        };
        messages.push(published);
        options.onPublish?.(published);
        return ok('Publish', `<MessageId>${published.messageId}</MessageId>`);
      }
      default:
        return fail(400, 'InvalidAction', `The action ${action ?? '(none)'} is not valid for this endpoint.`);
    }
  }, options.port ?? 0);
  return { ...server, topics, messages, createTopic };
};
