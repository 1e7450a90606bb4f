import { describe, expect, it } from 'vitest';
import { signRequest } from '../../cli/sigv4';

describe('signRequest', () => {
  it('reproduces the signature of the AWS Signature Version 4 documentation example (IAM ListUsers)', () => {
    const headers = signRequest({
      method: 'GET',
      url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      region: 'us-east-1',
      service: 'iam',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      now: new Date('2015-08-30T12:36:00Z'),
    });
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });

  it('signs the session token of temporary credentials and changes with the body', () => {
    const base = {
      method: 'POST',
      url: new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/clusters'),
      headers: { 'content-type': 'application/json' },
      region: 'eu-west-1',
      service: 'execute-api',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' },
      now: new Date('2026-11-23T10:00:00Z'),
    };
    const a = signRequest({ ...base, body: '{"a":1}' });
    const b = signRequest({ ...base, body: '{"a":2}' });
    expect(a['x-amz-security-token']).toBe('token');
    expect(a.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token');
    expect(a.authorization).not.toBe(b.authorization);
  });
});
