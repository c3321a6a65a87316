/// <reference lib="dom" />
import type { LineImage } from '@scriptorium/data/browser';
import type { Recognition } from '@scriptorium/models/browser';

/** A confidence as a colour: red at 0.5 and below (a guess among two), through yellow, to green at 1. */
export function confidenceColour(p: number): string {
  const hue = Math.round(120 * Math.min(1, Math.max(0, 2 * p - 1)));
  return `hsl(${hue} 75% ${hue > 60 ? 30 : 40}%)`;
}

/** The text, one <span> per character coloured by its confidence (its title gives the number). */
export function renderText(el: HTMLElement, r: Recognition): void {
  el.replaceChildren();
  if (r.text === '') {
    el.textContent = '(no text)';
    return;
  }
  [...r.text].forEach((ch, k) => {
    const span = document.createElement('span');
    const p = r.charConfidences[k] ?? r.confidence;
    span.textContent = ch;
    span.style.color = confidenceColour(p);
    span.title = `'${ch}': ${(100 * p).toFixed(1)}%`;
    el.append(span);
  });
  el.title = `line confidence ${(100 * r.confidence).toFixed(1)}%`;
}

/** The normalised line (what the model read), scaled `zoom` times, with each character's CTC span boxed. */
export function renderLine(canvas: HTMLCanvasElement, line: LineImage, r: Recognition, zoom = 2): void {
  canvas.width = line.width * zoom;
  canvas.height = line.height * zoom + 18;
  const c = canvas.getContext('2d')!;
  const img = c.createImageData(line.width, line.height);
  for (let p = 0; p < line.data.length; p++) {
    const v = 255 - Math.round(255 * Math.min(1, Math.max(0, line.data[p]!)));
    img.data.set([v, v, v, 255], 4 * p);
  }
  c.fillStyle = '#fff';
  c.fillRect(0, 0, canvas.width, canvas.height);
  c.imageSmoothingEnabled = false;
  const tmp = new OffscreenCanvas(line.width, line.height);
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  c.drawImage(tmp, 0, 0, line.width * zoom, line.height * zoom);
  const chars = [...r.text];
  c.font = '14px system-ui, sans-serif';
  c.textAlign = 'center';
  r.pixelSpans.forEach(([a, b], k) => {
    const colour = confidenceColour(r.charConfidences[k] ?? r.confidence);
    c.strokeStyle = colour;
    c.lineWidth = 1.5;
    c.strokeRect(a * zoom + 0.5, 0.5, Math.max(1, (b - a) * zoom - 1), line.height * zoom - 1);
    c.fillStyle = colour;
    c.fillText(chars[k] ?? '', ((a + b) / 2) * zoom, line.height * zoom + 14);
  });
}
