// The --s3-* flags every command that reads or writes a tree takes, with
// their environment variables (TILELOG_S3_ENDPOINT, ...), and the CLI's view
// of a tree location: a directory, s3://<bucket>[/<prefix>] (opened with the
// AWS SDK's default credential chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, instance roles), or, for readers, an http(s):// URL.
//
//   flag                    env                          default
//   --s3-endpoint <url>     TILELOG_S3_ENDPOINT          AWS (an S3-compatible store: its URL)
//   --s3-region <region>    TILELOG_S3_REGION            us-east-1 with an endpoint, else the SDK's chain
//   --s3-force-path-style   TILELOG_S3_FORCE_PATH_STYLE  virtual-hosted (<bucket>.<host>)
//   --s3-unconditional      TILELOG_S3_UNCONDITIONAL     refuse a store that ignores conditional writes

import { TilelogError } from '../errors.js';
import { parseTileLocation, type S3Settings, type TileLocation } from '../storage/tile-location.js';
import { parseBaseUrl, UsageError } from './common.js';
import { envNameFor } from './config-file.js';

export const S3_FLAGS = {
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
  's3-unconditional': { type: 'boolean' },
} as const;

/** The --help lines for S3_FLAGS, shared by serve, audit, monitor and tiles copy. */
export const S3_USAGE = `  --s3-endpoint <url>       an S3-compatible store (MinIO, R2, ...), e.g. http://127.0.0.1:9000
                            [$TILELOG_S3_ENDPOINT, AWS]
  --s3-region <region>      [$TILELOG_S3_REGION, us-east-1 with --s3-endpoint, else AWS_REGION]
  --s3-force-path-style     <endpoint>/<bucket>/<key> addressing (most non-AWS stores)
                            [$TILELOG_S3_FORCE_PATH_STYLE=1, <bucket>.<host>]
  --s3-unconditional        accept a store that ignores conditional writes (loses the
                            protection against a stale or second writer; see README)
                            [$TILELOG_S3_UNCONDITIONAL=1, refuse such a store]
  Credentials come from the AWS SDK's chain: AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role.
`;

type S3Values = { [K in keyof typeof S3_FLAGS]?: (typeof S3_FLAGS)[K]['type'] extends 'string' ? string : boolean };

/** The S3 settings from flags, then TILELOG_S3_* variables; UsageError naming the flag or variable on a bad value. */
export function resolveS3Settings(values: S3Values, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const str = (flag: 's3-endpoint' | 's3-region'): [string, string] | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return [`--${flag}`, v];
    const e = env[envNameFor(flag)];
    return e !== undefined && e !== '' ? [envNameFor(flag), e] : undefined;
  };
  const bool = (flag: 's3-force-path-style' | 's3-unconditional'): boolean | undefined => {
    const v = values[flag];
    if (typeof v === 'boolean') return v;
    const name = envNameFor(flag);
    const e = env[name];
    if (e === undefined || e === '') return undefined;
    if (/^(1|true|yes|on)$/i.test(e)) return true;
    if (/^(0|false|no|off)$/i.test(e)) return false;
    throw new UsageError(`${name} must be true or false, got ${JSON.stringify(e)}`);
  };
  const endpoint = str('s3-endpoint');
  const region = str('s3-region');
  if (region !== undefined && !/^[a-z0-9-]{1,64}$/.test(region[1])) {
    throw new UsageError(`${region[0]} must be a region name such as us-east-1 or auto, got ${JSON.stringify(region[1])}`);
  }
  const forcePathStyle = bool('s3-force-path-style');
  const unconditional = bool('s3-unconditional');
  return {
    ...(endpoint !== undefined && { endpoint: parseBaseUrl(endpoint[0], endpoint[1]) }),
    ...(region !== undefined && { region: region[1] }),
    ...(forcePathStyle !== undefined && { forcePathStyle }),
    ...(unconditional !== undefined && { unconditional }),
  };
}

/** True when any S3 setting was given (so a directory location can say they are unused). */
export function hasS3Settings(s: S3Settings): boolean {
  return s.endpoint !== undefined || s.region !== undefined || s.forcePathStyle !== undefined || s.unconditional !== undefined;
}

/** A tree location from a flag or argument, as a UsageError naming it when malformed. */
export function parseTreeLocation(source: string, value: string): TileLocation {
  try {
    return parseTileLocation(value);
  } catch (err) {
    if (err instanceof TilelogError && err.code === 'LOG_CONFIG') {
      throw new UsageError(`${source}: ${err.message.replace(/^--tiles\s*/, '').replace(/^s3: /, '')}`);
    }
    throw err;
  }
}

// defaultPublicUrl(loc, s3): the URL readers fetch a bucket's tree from when
// no --public-url is given: <endpoint>/<bucket>/<prefix> for a path-style
// endpoint, <scheme>://<bucket>.<host>/<prefix> for a virtual-hosted one, and
// AWS's virtual-hosted https://<bucket>.s3.<region>.amazonaws.com/<prefix>
// otherwise (us-east-1 when no region is known). null for a directory: its
// tree is served by the server itself.
export function defaultPublicUrl(loc: TileLocation, s3: S3Settings, env: NodeJS.ProcessEnv = process.env): string | null {
  if (loc.kind === 'dir') return null;
  const tail = loc.prefix === '' ? '' : `/${loc.prefix}`;
  if (s3.endpoint !== undefined) {
    const url = new URL(s3.endpoint);
    const base = url.href.replace(/\/+$/, '');
    if (s3.forcePathStyle === true) return `${base}/${loc.bucket}${tail}`;
    return `${url.protocol}//${loc.bucket}.${url.host}${url.pathname.replace(/\/+$/, '')}${tail}`;
  }
  const region = s3.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return `https://${loc.bucket}.s3.${region}.amazonaws.com${tail}`;
}

/** The loud warning serve prints when a store that ignores conditional writes is accepted. */
export function unconditionalWarning(where: string): string {
  const bar = '!'.repeat(78);
  return (
    `${bar}\n` +
    `WARNING: --s3-unconditional: ${where} ignores conditional writes, and tilelog\n` +
    `is writing to it anyway. What is lost:\n` +
    `  - a stale or second writer (an old process, a restored backup, a copy of the\n` +
    `    state) can move the public checkpoint BACKWARDS or replace it with its own;\n` +
    `  - such a writer can overwrite published tiles and bundles with other bytes;\n` +
    `  - nothing detects it: fencing is by timing only. Run exactly one writer on\n` +
    `    this bucket, stop the old one before starting a new one, and move to a store\n` +
    `    that enforces If-None-Match / If-Match (AWS S3, Cloudflare R2, MinIO) soon.\n` +
    `${bar}\n`
  );
}
