import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { BACKEND_NAMES, initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';

/** Where `npm run build -w apps/web` puts the page, from src/commands or dist/commands. */
const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/** Content types POST /recognize takes: what the decoder (JS PNG, then sharp) reads, or untyped bytes. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/tiff', 'application/octet-stream'];
const BUNDLE_FILES = ['bundle.json', 'model.json', 'weights.bin', 'alphabet.json'];
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
};

export interface ServeOptions {
  /** The model bundle directory, loaded once. */
  model: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** The built page (apps/web/dist by default). */
  webDir?: string;
  /** Largest request body, bytes. Default 8 MiB. */
  maxBytes?: number;
  /** Recognitions running at once. Default 1: one tfjs backend does one forward pass at a time anyway. */
  concurrency?: number;
  /** Requests waiting for a slot beyond `concurrency`; more get 503. Default 16. */
  queue?: number;
  backend?: string;
}

export const SERVE_DEFAULTS = { port: 8080, host: '127.0.0.1', maxBytes: 8 << 20, concurrency: 1, queue: 16 } as const;

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Serve the recogniser page and an HTTP API (POST /recognize, GET /health) for a model bundle.',
  synopsis: '--model DIR [--port 8080] [--host 127.0.0.1]',
  flags: [
    {
      name: 'model',
      type: 'string',
      metavar: 'DIR',
      help: 'model bundle directory (loaded once; the page loads it too, from /bundle/)',
    },
    { name: 'port', type: 'int', min: 0, default: SERVE_DEFAULTS.port, help: 'TCP port (0: any free one, printed)' },
    {
      name: 'host',
      type: 'string',
      default: SERVE_DEFAULTS.host,
      help: 'address to listen on (0.0.0.0 for every interface)',
    },
    {
      name: 'web',
      type: 'string',
      metavar: 'DIR',
      help: 'the built page (default: apps/web/dist; build it with `npm run build -w apps/web`)',
    },
    {
      name: 'max-bytes',
      type: 'int',
      min: 1,
      default: SERVE_DEFAULTS.maxBytes,
      help: 'largest image accepted, bytes (413 above)',
    },
    {
      name: 'concurrency',
      type: 'int',
      min: 1,
      default: SERVE_DEFAULTS.concurrency,
      help: 'recognitions running at once',
    },
    {
      name: 'queue',
      type: 'int',
      min: 0,
      default: SERVE_DEFAULTS.queue,
      help: 'requests waiting beyond --concurrency (503 above)',
    },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
  ],
};

/** An answer with a status and a message: 4xx for the client's mistakes, 503 when the queue is full. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** At most `limit` tasks at once, at most `queue` waiting; beyond that `run` refuses with 503. */
export class Slots {
  running = 0;
  waiting: Array<() => void> = [];
  constructor(
    readonly limit: number,
    readonly queue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.queue)
        throw new HttpError(
          503,
          `busy: ${this.running} recognition(s) running and ${this.waiting.length} waiting (the server's --concurrency and --queue); retry shortly`,
        );
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on
      else this.running--;
    }
  }
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, type = 'application/json'): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value));

/** The request body, refused with 413 past `max` bytes (by Content-Length before reading, else while reading). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `image too large: more than ${max} bytes (the server's --max-bytes)`);
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes: Buffer = chunk; // no encoding set: the request yields Buffers
    size += bytes.length;
    if (size > max) throw tooLarge();
    parts.push(bytes);
  }
  return Buffer.concat(parts);
}

/** A file under `root` for a URL path, or undefined when the path leaves it. */
function fileUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined; // a malformed %-escape names no file
  }
  const file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

export interface RunningServer {
  server: Server;
  /** http://host:port/ */
  url: string;
  backend: string;
  close(): Promise<void>;
}

/** The options with their defaults. */
function resolveServeOptions(options: ServeOptions): Required<ServeOptions> {
  return {
    model: options.model,
    port: options.port ?? SERVE_DEFAULTS.port,
    host: options.host ?? SERVE_DEFAULTS.host,
    webDir: options.webDir ?? DEFAULT_WEB_DIR,
    maxBytes: options.maxBytes ?? SERVE_DEFAULTS.maxBytes,
    concurrency: options.concurrency ?? SERVE_DEFAULTS.concurrency,
    queue: options.queue ?? SERVE_DEFAULTS.queue,
    backend: options.backend ?? 'auto',
  };
}

/** Answers a failed request: its HttpError's status and message as JSON, or 500 (logged). */
function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const status = err instanceof HttpError ? err.status : 500;
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  if (status === 500) console.error(`scriptorium serve: ${req.method} ${req.url}: ${message}`);
  if (res.headersSent) return void res.destroy();
  res.setHeader('connection', 'close'); // a refused request's body may be unread
  if (status === 503) res.setHeader('retry-after', '1');
  sendJson(res, status, { error: message });
}

/** Listens on host:port; resolves with the port bound (port 0: any free one). A port in use is a UsageError. */
async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new UsageError(
              `serve: cannot listen on ${host}:${port} (${err.code}); pick another --port (0: any free one) or --host`,
              false,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address(); // an AddressInfo once listening on TCP
  return address !== null && typeof address === 'object' ? address.port : port;
}

/** Sends a file, or 404 with `missing` when there is none (or it cannot be read). */
async function serveFile(res: ServerResponse, file: string | undefined, missing: string): Promise<void> {
  let bytes: Buffer;
  try {
    if (!file) throw new Error('outside');
    bytes = await readFile(file);
  } catch {
    throw new HttpError(404, missing);
  }
  send(res, 200, bytes, STATIC_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
}

/** Loads the model once and serves the page, the bundle and the API until `close`. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const o = resolveServeOptions(options);
  const report = await initBackend({ backend: o.backend, log: null });
  const recognizer = await Recognizer.load(o.model);
  const slots = new Slots(o.concurrency, o.queue);
  const modelInfo = {
    arch: recognizer.meta.arch,
    height: recognizer.meta.preprocess.height,
    characters: recognizer.alphabet.chars.length,
    trainedSteps: recognizer.meta.training.steps,
  };

  async function recognize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!IMAGE_TYPES.includes(type)) {
      throw new HttpError(
        415,
        `wrong content type '${type || 'none'}': send the image bytes as the body with Content-Type ${IMAGE_TYPES.join(', ')}`,
      );
    }
    const body = await readBody(req, o.maxBytes);
    if (body.length === 0) throw new HttpError(400, 'empty body: send the image bytes as the body');
    const r = await slots.run(async () => {
      try {
        return await recognizer.recognize(body);
      } catch (err) {
        if (err instanceof DataError)
          throw new HttpError(400, `not an image the server can read (${err.message.replace(/^image: /, '')})`);
        throw err;
      }
    });
    // As `recognize --json` prints it (spans in input pixels of the normalised line).
    sendJson(res, 200, {
      text: r.text,
      confidence: r.confidence,
      charConfidences: r.charConfidences,
      spans: r.pixelSpans,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://server');
    const route = `${req.method} ${url.pathname}`;
    if (url.pathname === '/recognize') {
      if (req.method !== 'POST') throw new HttpError(405, 'POST an image to /recognize');
      return recognize(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, `${route}: only GET here (POST /recognize)`);
    if (url.pathname === '/health') {
      return sendJson(res, 200, {
        status: 'ok',
        backend: report.backend,
        model: modelInfo,
        running: slots.running,
        waiting: slots.waiting.length,
      });
    }
    if (url.pathname.startsWith('/bundle/')) {
      const name = url.pathname.slice('/bundle/'.length);
      return serveFile(
        res,
        BUNDLE_FILES.includes(name) ? path.join(o.model, name) : undefined,
        `${url.pathname}: not a bundle file (${BUNDLE_FILES.join(', ')})`,
      );
    }
    const page = url.pathname === '/' ? '/index.html' : url.pathname;
    if (page === '/index.html') {
      await readFile(path.join(o.webDir, 'index.html')).catch(() => {
        throw new HttpError(
          503,
          `the page is not built (no ${path.join(o.webDir, 'index.html')}): run \`npm run build -w apps/web\`; the API works meanwhile`,
        );
      });
    }
    return serveFile(res, fileUnder(path.resolve(o.webDir), page), `${url.pathname}: not found`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(req, res, err));
  });
  const port = await listen(server, o.host, o.port);
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    backend: report.backend,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function runServe(flags: ParsedFlags): Promise<void> {
  const model = flagValue(flags, 'model', 'string');
  if (!model) throw new UsageError('serve: --model DIR is required (a bundle, e.g. runs/demo/best after `npm start`)');
  const s = await startServer({
    model,
    port: flagValue(flags, 'port', 'number'),
    host: flagValue(flags, 'host', 'string'),
    webDir: flagValue(flags, 'web', 'string'),
    maxBytes: flagValue(flags, 'max-bytes', 'number'),
    concurrency: flagValue(flags, 'concurrency', 'number'),
    queue: flagValue(flags, 'queue', 'number'),
    backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? 'auto',
  });
  console.log(
    `scriptorium serve: ${s.url} (model ${model}, backend ${s.backend}); POST /recognize, GET /health; Ctrl-C stops`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => void s.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
