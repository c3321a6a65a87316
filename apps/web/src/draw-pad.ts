/// <reference lib="dom" />
import type { RawPixels } from '@scriptorium/data/browser';

/**
 * A canvas to write on with a mouse, pen or finger (pointer events): black ink on white. `onChange` is called
 * after each stroke segment; `pixels()` gives the canvas as raw RGBA pixels (alpha opaque: the canvas is filled white).
 */
export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | undefined;
  private strokes = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.last = this.point(e);
      this.segment(this.last, this.last);
      this.strokes++;
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.last) return;
      const p = this.point(e);
      this.segment(this.last, p);
      this.last = p;
    });
    const end = () => (this.last = undefined);
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Whether anything was drawn since the last clear. */
  get empty(): boolean {
    return this.strokes === 0;
  }

  clear(): void {
    this.ctx.fillStyle = '#fff';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.strokes = 0;
  }

  pixels(): RawPixels {
    const { data, width, height } = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    return { data, width, height, channels: 4 };
  }

  /** The pointer in canvas pixels (the canvas may be displayed scaled). */
  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * this.canvas.width) / r.width,
      y: ((e.clientY - r.top) * this.canvas.height) / r.height,
    };
  }

  private segment(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#000';
    c.lineWidth = Math.max(2, this.canvas.height / 11); // about MNIST's stroke for a line-high digit
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x, b.y);
    c.stroke();
    this.onChange();
  }
}
