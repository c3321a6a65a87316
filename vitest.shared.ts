// Tests run against the TypeScript sources of sibling packages, not their dist:
// each package's `exports` has a "@scriptorium/source" condition pointing at src/index.ts.
const conditions = ['@scriptorium/source', 'node', 'import', 'module', 'default'];

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
};
