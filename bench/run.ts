// npm run bench: every benchmark in sequence. Set BENCH_ENTRIES,
// BENCH_HASHES or BENCH_SECONDS to shorten a run (each bench's header
// names its own knobs; pg-http.bench.ts prints a skip line without PostgreSQL).
import { main as hashes } from './hash.bench.js';
import { main as engine } from './engine.bench.js';
import { main as log } from './log.bench.js';
import { main as http } from './http.bench.js';
import { main as registry } from './registry.bench.js';
import { main as tileReads } from './tile-read.bench.js';
import { main as tileHttp } from './tile-http.bench.js';
import { main as disk } from './disk.bench.js';
import { main as s3 } from './s3.bench.js';
import { main as scale } from './scale.bench.js';
import { main as signer } from './signer.bench.js';
import { main as pgHttp } from './pg-http.bench.js';

hashes();
engine();
await log();
await http();
await registry();
await tileReads();
await tileHttp();
await disk();
await s3();
await signer();
await scale();
await pgHttp();
