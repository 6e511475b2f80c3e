// serve --registry flags and env for DNS-first resolve.
import { describe, expect, it } from 'vitest';
import { resolveRegistryConfig } from '../../src/cli/registry.js';

describe('registry config: DNS-first resolve', () => {
  it('off unless asked; flags and env set the cache bounds', () => {
    expect(resolveRegistryConfig({ registry: true }, {})!.resolveDns).toBeNull();
    expect(resolveRegistryConfig({ registry: true, 'registry-resolve-dns': true }, {})!.resolveDns).toEqual({ cacheEntries: 10000, negativeTtlSeconds: 30 });
    expect(
      resolveRegistryConfig({ registry: true, 'registry-resolve-cache-entries': '5' }, { TILELOG_REGISTRY_RESOLVE_DNS: '1', TILELOG_REGISTRY_RESOLVE_NEGATIVE_TTL_SECONDS: '10' })!.resolveDns,
    ).toEqual({ cacheEntries: 5, negativeTtlSeconds: 10 });
    expect(() => resolveRegistryConfig({ registry: true, 'registry-resolve-dns': true, 'registry-resolve-cache-entries': '0' }, {})).toThrow(/registry-resolve-cache-entries/);
  });
});
