// The --s3-* settings (flags over TILELOG_S3_* variables) and the public URL
// a bucket's readers are told to use.
import { describe, expect, it } from 'vitest';
import { defaultPublicUrl, resolveS3Settings } from '../../src/cli/s3-options.js';
import { usageMessage } from './helpers.js';

describe('resolveS3Settings', () => {
  it('takes flags over the environment, and booleans from either', () => {
    expect(resolveS3Settings({}, {})).toEqual({});
    expect(resolveS3Settings({}, { TILELOG_S3_ENDPOINT: 'http://127.0.0.1:9000/', TILELOG_S3_FORCE_PATH_STYLE: 'yes', TILELOG_S3_REGION: 'auto' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'auto',
    });
    expect(resolveS3Settings({ 's3-endpoint': 'https://s3.example', 's3-unconditional': false }, { TILELOG_S3_ENDPOINT: 'http://x', TILELOG_S3_UNCONDITIONAL: '1' })).toEqual({
      endpoint: 'https://s3.example',
      unconditional: false,
    });
  });

  it('names the variable or flag in a usage error', () => {
    expect(usageMessage(() => resolveS3Settings({}, { TILELOG_S3_UNCONDITIONAL: 'maybe' }))).toMatch(/^TILELOG_S3_UNCONDITIONAL must be true or false/);
    expect(usageMessage(() => resolveS3Settings({}, { TILELOG_S3_ENDPOINT: '127.0.0.1:9000' }))).toMatch(/^TILELOG_S3_ENDPOINT must be/);
    expect(usageMessage(() => resolveS3Settings({ 's3-region': 'EU West' }, {}))).toMatch(/^--s3-region must be a region name/);
  });
});

describe('defaultPublicUrl', () => {
  const loc = { kind: 's3', bucket: 'logs', prefix: 'a/b' } as const;
  it('is <endpoint>/<bucket>/<prefix> with path style, <bucket>.<host> without', () => {
    expect(defaultPublicUrl(loc, { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })).toBe('http://127.0.0.1:9000/logs/a/b');
    expect(defaultPublicUrl(loc, { endpoint: 'https://r2.example.com' })).toBe('https://logs.r2.example.com/a/b');
    expect(defaultPublicUrl({ ...loc, prefix: '' }, { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })).toBe('http://127.0.0.1:9000/logs');
  });
  it("is AWS's virtual-hosted URL in the region otherwise, and null for a directory", () => {
    expect(defaultPublicUrl(loc, { region: 'eu-west-1' }, {})).toBe('https://logs.s3.eu-west-1.amazonaws.com/a/b');
    expect(defaultPublicUrl(loc, {}, { AWS_REGION: 'ap-south-1' })).toBe('https://logs.s3.ap-south-1.amazonaws.com/a/b');
    expect(defaultPublicUrl(loc, {}, {})).toBe('https://logs.s3.us-east-1.amazonaws.com/a/b');
    expect(defaultPublicUrl({ kind: 'dir', path: '/srv/tiles' }, {}, {})).toBeNull();
  });
});
