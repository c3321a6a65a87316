import { defineConfig } from 'vitest/config';

// `npx vitest run` at the root runs every project; `npm test` goes through nx instead.
export default defineConfig({
  test: { projects: ['packages/*', 'apps/*'] },
});
