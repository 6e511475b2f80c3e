// Public API of tilelog's pure Merkle-tree module (no I/O, no node: imports).
export * from './hash.js';
export * from './encoding.js';
export * from './math.js';
export * from './stored.js';
export * from './layout.js';
export * from './bundle.js';
export * from './edge.js';
export * from './tree.js';
export * from './proof.js';
export * from './verify.js';
export * from './tilehash.js';
