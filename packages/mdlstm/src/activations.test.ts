import { describe, expect, it } from 'vitest';
import { scalarActivation } from './activations.js';
import { ACTIVATIONS } from './config.js';

describe('scalar activations', () => {
  // The fast op keeps only gate outputs and takes derivatives from them (dfy); the reference uses df(a, y).
  for (const name of ACTIVATIONS) {
    it(`${name}: the derivative from the output equals the derivative at the input, and both match central differences`, () => {
      const { f, df, dfy } = scalarActivation[name];
      // A grid that crosses every kink (hardSigmoid at +-2.5, relu at 0) without landing on one.
      for (let a = -6.05; a < 6; a += 0.1) {
        const y = f(a);
        expect(dfy(y)).toBe(df(a, y));
        const h = 1e-6;
        expect(dfy(y)).toBeCloseTo((f(a + h) - f(a - h)) / (2 * h), 6);
      }
    });
  }
});
