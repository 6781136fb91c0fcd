// The peer workload for promptfoo: a provider that waits like a remote model and answers with the prompt.
// Responses go through promptfoo's own cache (as its built-in API providers do), so a second
// `promptfoo eval` with the same PROMPTFOO_CACHE_PATH is the cached re-run. NODE_PATH must reach
// the promptfoo install (benchmarks/bench_peers.py sets it).
let cache = null;
try {
  cache = require('promptfoo').cache;
} catch (error) {
  cache = null; // promptfoo not resolvable from here: no caching, every call sleeps
}

module.exports = class SleepProvider {
  constructor(options) {
    this.label = options.id || 'sleep';
    this.latencyMs = (options.config && options.config.latency_ms) || 100;
  }

  id() {
    return this.label;
  }

  async callApi(prompt) {
    const key = `sleep:${this.label}:${prompt}`;
    const store = cache && cache.isCacheEnabled() ? await cache.getCache() : null;
    if (store) {
      const hit = await store.get(key);
      if (hit) {
        return { output: hit, cached: true };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (store) {
      await store.set(key, prompt);
    }
    return { output: prompt };
  }
};
