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

  it('at the kinks both forms give slope 0 (hardSigmoid at -2.5 and 2.5, relu at 0), and float32-stored outputs inside keep the slope', () => {
    const hs = scalarActivation.hardSigmoid,
      relu = scalarActivation.relu;
    for (const a of [-2.5, 2.5]) {
      expect(hs.dfy(hs.f(a))).toBe(0);
      expect(hs.df(a, hs.f(a))).toBe(0);
    }
    expect(relu.dfy(relu.f(0))).toBe(0);
    expect(relu.df(0, relu.f(0))).toBe(0);
    // The op stores gate outputs as float32: rounding must not move an output inside (0, 1) onto a kink.
    for (const a of [-2.49, -1, 0, 1, 2.49]) expect(hs.dfy(Math.fround(hs.f(a)))).toBe(0.2);
    expect(relu.dfy(Math.fround(relu.f(1e-30)))).toBe(1);
  });
});
