import { AUGMENT_PRESETS, DEFAULT_AUGMENT, type AugmentConfig } from './augment.js';
import { DataError } from './errors.js';

/**
 * Validates an augmentation config read from JSON or flags: an object of AugmentConfig fields, or a
 * preset name. Errors name `where`, the field, the value and what was expected.
 */
export function parseAugmentConfig(obj: unknown, where = 'augment'): AugmentConfig {
  if (typeof obj === 'string') {
    const preset = AUGMENT_PRESETS[obj];
    if (!preset)
      throw new DataError(
        `${where}: unknown preset '${obj}' (expected one of ${Object.keys(AUGMENT_PRESETS).join(', ')})`,
      );
    return { ...preset };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new DataError(
      `${where}: expected an object of augmentation fields or a preset name, got ${JSON.stringify(obj)}`,
    );
  }
  const fields = obj as Record<string, unknown>;
  const out: AugmentConfig = {};
  const num = (key: keyof AugmentConfig, ok: (v: number) => boolean, expected: string): number | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
      throw new DataError(`${where}: ${key} = ${JSON.stringify(v)} (expected ${expected})`);
    return v;
  };
  for (const key of Object.keys(fields)) {
    if (!(key in DEFAULT_AUGMENT))
      throw new DataError(`${where}: unknown field '${key}' (expected ${Object.keys(DEFAULT_AUGMENT).join(', ')})`);
  }
  const assign = <K extends keyof AugmentConfig>(key: K, value: AugmentConfig[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  assign(
    'shear',
    num('shear', (v) => v >= 0 && v < 60, 'degrees in [0, 60)'),
  );
  assign(
    'rotation',
    num('rotation', (v) => v >= 0 && v <= 45, 'degrees in [0, 45]'),
  );
  assign(
    'elasticAlpha',
    num('elasticAlpha', (v) => v >= 0, 'px >= 0'),
  );
  assign(
    'elasticSigma',
    num('elasticSigma', (v) => v > 0, 'px > 0'),
  );
  assign(
    'erodeP',
    num('erodeP', (v) => v >= 0 && v <= 1, 'a probability in [0, 1]'),
  );
  assign(
    'dilateP',
    num('dilateP', (v) => v >= 0 && v <= 1, 'a probability in [0, 1]'),
  );
  assign(
    'blurSigma',
    num('blurSigma', (v) => v >= 0, 'px >= 0'),
  );
  assign(
    'contrast',
    num('contrast', (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  );
  assign(
    'brightness',
    num('brightness', (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
  );
  assign(
    'noiseStd',
    num('noiseStd', (v) => v >= 0, 'a standard deviation >= 0'),
  );
  if (fields.scale !== undefined) {
    const s = fields.scale;
    if (
      !Array.isArray(s) ||
      s.length !== 2 ||
      !s.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      !(s[0] > 0 && s[0] <= s[1])
    ) {
      throw new DataError(`${where}: scale = ${JSON.stringify(s)} (expected [min, max] with 0 < min <= max)`);
    }
    out.scale = [s[0], s[1]];
  }
  if ((out.erodeP ?? 0) + (out.dilateP ?? 0) > 1) {
    throw new DataError(
      `${where}: erodeP + dilateP = ${(out.erodeP ?? 0) + (out.dilateP ?? 0)} (expected at most 1: they never apply together)`,
    );
  }
  return out;
}

/**
 * An augmentation from a command-line spec: a preset name, a preset with fields changed
 * ('default:shear=0,noiseStd=0.05'), or fields alone ('shear=10,scale=0.9..1.1'); `scale` takes MIN..MAX.
 * Errors name the spec and the field.
 */
export function parseAugmentSpec(spec: string): AugmentConfig {
  const where = `augment '${spec}'`;
  const colon = spec.indexOf(':');
  const [head, tail] = colon < 0 ? [spec, ''] : [spec.slice(0, colon), spec.slice(colon + 1)];
  const isPreset = !head.includes('=');
  const base = isPreset ? parseAugmentConfig(head, where) : {};
  const fields: Record<string, unknown> = { ...base };
  const overrides = isPreset ? tail : spec;
  for (const item of overrides ? overrides.split(',') : []) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new DataError(`${where}: '${item}' (expected FIELD=NUMBER, or scale=MIN..MAX)`);
    const key = item.slice(0, eq).trim(),
      raw = item.slice(eq + 1).trim();
    const numbers = raw.split('..').map((v) => (v.trim() === '' ? NaN : Number(v)));
    if (key === 'scale' ? numbers.length !== 2 : numbers.length !== 1) {
      throw new DataError(
        `${where}: ${key}=${raw} (expected ${key === 'scale' ? 'scale=MIN..MAX, e.g. 0.9..1.1' : `${key}=NUMBER`})`,
      );
    }
    if (!numbers.every(Number.isFinite))
      throw new DataError(`${where}: ${key}=${raw} (expected ${key === 'scale' ? 'two numbers' : 'a number'})`);
    fields[key] = key === 'scale' ? numbers : numbers[0];
  }
  return parseAugmentConfig(fields, where);
}
