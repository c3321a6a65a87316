/** One command of a glyph outline, in opentype.js's shape: M, L, Q (x1, y1 control), C (x1, y1, x2, y2 controls) or Z. */
export interface PathCommand {
  type: string;
  x?: number;
  y?: number;
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
}

/**
 * Flattens path commands into closed polygons, each a flat array [x0, y0, x1, y1, ...] with the closing edge
 * implied. Every quadratic or cubic Bézier becomes n equal parameter steps, n chosen from the curve's second
 * difference so that no chord strays more than `tolerance` (same units as the path) from the curve:
 * a chord over a parameter step h is off by at most |B''| h^2 / 8, and |B''| <= 2 |P0 - 2 P1 + P2| (quadratic)
 * or 6 max(|P0 - 2 P1 + P2|, |P1 - 2 P2 + P3|) (cubic).
 */
export function flattenPath(commands: readonly PathCommand[], tolerance: number): number[][] {
  const polygons: number[][] = [];
  let poly: number[] = [];
  let x = 0,
    y = 0;
  const close = () => {
    if (poly.length >= 6) polygons.push(poly);
    poly = [];
  };
  for (const c of commands) {
    if (c.type === 'M') {
      close();
      [x, y] = [c.x!, c.y!];
      poly.push(x, y);
    } else if (c.type === 'L') {
      [x, y] = [c.x!, c.y!];
      poly.push(x, y);
    } else if (c.type === 'Q') {
      const n = steps(Math.hypot(x - 2 * c.x1! + c.x!, y - 2 * c.y1! + c.y!) / 4, tolerance);
      for (let k = 1; k <= n; k++) {
        const t = k / n,
          s = 1 - t;
        poly.push(s * s * x + 2 * s * t * c.x1! + t * t * c.x!, s * s * y + 2 * s * t * c.y1! + t * t * c.y!);
      }
      [x, y] = [c.x!, c.y!];
    } else if (c.type === 'C') {
      const d1 = Math.hypot(x - 2 * c.x1! + c.x2!, y - 2 * c.y1! + c.y2!);
      const d2 = Math.hypot(c.x1! - 2 * c.x2! + c.x!, c.y1! - 2 * c.y2! + c.y!);
      const n = steps((3 * Math.max(d1, d2)) / 4, tolerance);
      for (let k = 1; k <= n; k++) {
        const t = k / n,
          s = 1 - t;
        const [a, b, cc, d] = [s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t];
        poly.push(a * x + b * c.x1! + cc * c.x2! + d * c.x!, a * y + b * c.y1! + cc * c.y2! + d * c.y!);
      }
      [x, y] = [c.x!, c.y!];
    } else if (c.type === 'Z') close();
  }
  close();
  return polygons;
}

/** Segments needed for a chord error of at most `tolerance`, given the error bound `k / n^2` of n steps. */
function steps(k: number, tolerance: number): number {
  return Math.max(1, Math.min(64, Math.ceil(Math.sqrt(k / tolerance))));
}

/** Twice the signed area of a closed polygon (shoelace); positive for counter-clockwise with y up. */
export function signedArea2(poly: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0, n = poly.length; i < n; i += 2) {
    const j = (i + 2) % n;
    a += poly[i]! * poly[j + 1]! - poly[j]! * poly[i + 1]!;
  }
  return a;
}
