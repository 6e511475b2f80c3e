// tilelog monitor: watch a log and raise the alarm when it lies (src/monitor).

import { Monitor, logSource, witnessSource, type CompareSource, type PollResult } from '../monitor/index.js';
import { EXIT_FAILURE, EXIT_OK, parseBaseUrl, parseCount, parseFlags, plural, runVerb, UsageError } from './common.js';
import { Progress } from './progress.js';
import { parseVerifierKey } from '../note/index.js';
import { parseLogKeyFlag } from './trust.js';
import { openS3TileStore, type S3TileStore } from '../storage/s3-tile-store.js';
import { formatTileLocation } from '../storage/tile-location.js';
import { parseTreeLocation, resolveS3Settings, S3_FLAGS, S3_USAGE } from './s3-options.js';
import { storeFetch } from './store-fetch.js';
import type { FetchLike } from '../client/index.js';

/** --once exit status when the log was caught lying (1 means it could not be checked). */
export const EXIT_ALERT = 3;

const USAGE = `Usage: tilelog monitor --url <url> --log-key <vkey> --state <dir> [flags]

Watches a C2SP tlog-tiles log. Each poll verifies the checkpoint (log
signature, witness cosignature quorum), proves it consistent with the last
checkpoint trusted, compares it with other sources, then downloads every new
entry bundle and checks each entry against tiles authenticated by the signed
root. State (trusted checkpoint, audited size, right edge) lives in --state,
so a restart downloads nothing twice. Any lie is an alert: a MONITOR_* code,
evidence under <state>/evidence/<time>-<code>/, and an optional webhook POST.

  --url <url>            the log's URL prefix (holding checkpoint and tile/), or
                         s3://<bucket>[/<prefix>] to read a bucket with the S3 API
  --log-key <vkey>       the log's verifier key (required)
  --origin <origin>      expected origin (default: the key's name)
  --witness <vkey>       a witness cosignature key (repeatable)
  --quorum <k>           cosignatures required (default: all --witness keys)
  --state <dir>          state directory (created if needed; required)
  --interval <s>         seconds between polls (default 60)
  --once                 poll once and exit with its status
  --webhook <url>        POST each alert as JSON to this URL
  --compare <url>        another URL of the same log, or any URL ending in
                         /checkpoint (repeatable)
  --compare-witness <url>  a witness whose monitoring endpoint
                         <url>/<hex sha256(origin)>/checkpoint to compare with (repeatable)
  --registry             also follow the registry's submitter keys through their
                         key.added / key.revoked entries and report (FINDING, evidence,
                         webhook) each registry entry signed by a key that was not
                         active there, e.g. a retired key; the audit goes on
  --registry-key <b64>   a submitter public key to trust from the start (repeatable;
                         default: the log's first key.added, signed by itself)
  --json                 one JSON object per poll on stdout
  -h, --help             show this help

Reading --url s3://... (GetObject only; nothing is written):
${S3_USAGE.replace(/^  --s3-unconditional[\s\S]*?refuse such a store\]\n/m, '')}
Exit status (--once): 0 the log checks out, 1 it could not be checked (unreachable,
bad state), 2 usage, 3 alert. Without --once, SIGINT or SIGTERM saves the
state and exits 0.
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('monitor', USAGE, argv, async (args) => {
    const { values } = parseFlags(args, {
      url: { type: 'string' },
      'log-key': { type: 'string' },
      origin: { type: 'string' },
      witness: { type: 'string', multiple: true },
      quorum: { type: 'string' },
      state: { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean', default: false },
      webhook: { type: 'string' },
      compare: { type: 'string', multiple: true },
      'compare-witness': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      registry: { type: 'boolean', default: false },
      'registry-key': { type: 'string', multiple: true },
      's3-endpoint': S3_FLAGS['s3-endpoint'],
      's3-region': S3_FLAGS['s3-region'],
      's3-force-path-style': S3_FLAGS['s3-force-path-style'],
    });
    if (values.url === undefined) throw new UsageError('--url is required');
    if (values['log-key'] === undefined) throw new UsageError('--log-key is required: the monitor checks every checkpoint with it');
    if (values.state === undefined) throw new UsageError('--state <dir> is required: it holds what the monitor trusts');
    const bucket = /^s3:\/\//i.test(values.url) ? parseTreeLocation('--url', values.url) : null;
    const url = bucket === null ? parseBaseUrl('--url', values.url) : formatTileLocation(bucket);
    const s3 = resolveS3Settings(values);
    const logKey = parseLogKeyFlag(values['log-key']);
    const witnesses = values.witness ?? [];
    const quorum = values.quorum === undefined ? undefined : parseCount('--quorum', values.quorum);
    if (quorum !== undefined && quorum > witnesses.length) throw new UsageError(`--quorum ${quorum} needs at least ${quorum} --witness keys, got ${witnesses.length}`);
    const intervalS = values.interval === undefined ? 60 : parseCount('--interval', values.interval, 1);
    const webhook = values.webhook === undefined ? undefined : parseBaseUrl('--webhook', values.webhook);
    const json = values.json === true;
    const pinned = values['registry-key'] ?? [];
    if (pinned.length > 0 && values.registry !== true) throw new UsageError('--registry-key needs --registry');
    for (const k of pinned) if (!/^[A-Za-z0-9+/]{43}=$/.test(k)) throw new UsageError(`--registry-key ${JSON.stringify(k)} must be a 32-byte public key in base64`);

    const origin = values.origin ?? parseVerifierKey(logKey).name;
    const compare: CompareSource[] = [
      ...(values.compare ?? []).map((u) => logSource(parseBaseUrl('--compare', u))),
      ...(values['compare-witness'] ?? []).map((u) => witnessSource(parseBaseUrl('--compare-witness', u), origin)),
    ];
    // A bucket is read through the S3 API, behind the fetch the monitor's client uses.
    let store: S3TileStore | null = null;
    let fetchLike: FetchLike | undefined;
    if (bucket !== null && bucket.kind === 's3') {
      store = await openS3TileStore({ ...s3, bucket: bucket.bucket, prefix: bucket.prefix, selfTest: false });
      fetchLike = storeFetch(url, store);
    }
    let monitor: Monitor;
    try {
      monitor = Monitor.open({
        ...(fetchLike !== undefined && { fetch: fetchLike }),
        url,
        logKey,
        origin,
        witnesses,
        quorum,
        stateDir: values.state,
        webhook,
        compare,
        ...(values.registry === true && { registry: { pinnedKeys: pinned } }),
        progress: (total) => new Progress({ total, unit: 'entries', silent: json && process.stderr.isTTY !== true }),
        warn: (line) => process.stderr.write(`${line}\n`),
      });
    } catch (err) {
      store?.close();
      const code = (err as { code?: string }).code;
      if (code === 'CLIENT_BAD_POLICY') throw new UsageError((err as Error).message);
      throw err;
    }
    const stop = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(130); // a second signal: give up now
      if (!json) process.stderr.write(`\ntilelog monitor: ${sig}, saving state and stopping\n`);
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (values.once) {
        const r = await monitor.poll(stop.signal);
        report(r, json);
        return exitFor(r);
      }
      let lastAlert: PollResult['alert'] = null;
      while (!stop.signal.aborted) {
        const r = await monitor.poll(stop.signal);
        // An alert that repeats unchanged comes back as the same report: print it once.
        if (r.alert === null || r.alert !== lastAlert) report(r, json);
        lastAlert = r.alert;
        await sleep(intervalS * 1000, stop.signal);
      }
      return EXIT_OK;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      monitor.close();
      store?.close();
    }
  });
}

function exitFor(r: PollResult): number {
  switch (r.status) {
    case 'ok':
    case 'interrupted':
      return EXIT_OK;
    case 'alert':
      return EXIT_ALERT;
    case 'unreachable':
      return EXIT_FAILURE;
  }
}

/** One line per poll: stdout, or JSON with --json. */
function report(r: PollResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const time = new Date().toISOString();
  for (const f of r.findings) process.stdout.write(`${time} FINDING ${f.code} entry ${f.index} (${f.type} ${f.subject}): ${f.message}\n`);
  if (r.status === 'alert' && r.alert !== null) {
    process.stdout.write(`${time} ALERT ${r.alert.code}: ${r.alert.message}\n  evidence: ${r.alert.evidencePath ?? '(not saved)'}\n`);
    return;
  }
  if (r.status === 'unreachable') {
    process.stdout.write(`${time} UNCHECKED ${r.origin}: ${r.error}\n`);
    return;
  }
  const grew = r.previousSize === null ? 'first checkpoint' : r.size === r.previousSize ? 'unchanged' : `+${(r.size ?? 0) - r.previousSize}`;
  const rate = r.auditedNow > 0 && r.seconds > 0 ? `, ${formatRate(r.auditedNow / r.seconds)} entries/s` : '';
  const cmp = r.compare.length === 0 ? '' : `; compare: ${r.compare.map((c) => `${c.source} ${c.status}${c.size === null ? '' : ` ${c.size}`}`).join(', ')}`;
  const state = r.status === 'interrupted' ? 'INTERRUPTED' : 'OK';
  process.stdout.write(
    `${time} ${state} ${r.origin} size ${r.size} (${grew}) root ${r.root}; audited ${r.audited} (+${r.auditedNow} in ${r.seconds.toFixed(1)} s${rate}), ${plural(r.requests, 'request')}${cmp}\n`,
  );
}

function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)}k`;
  return rate.toFixed(0);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
