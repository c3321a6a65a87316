/**
 * Loading a bundle in a browser: from the URL of its directory (the page's default, served next to it) or from
 * the `File`s a user picks. Both go through loadBundleFrom, so the checks are the ones `Recognizer.load` runs on
 * a directory. Uses only fetch, URL and Blob, which Node 20 has too (tested there).
 */
import { BundleError } from './bundle-meta.js';
import { loadBundleFrom, type BundleFileName, type LoadedBundle } from './bundle-load.js';

const FILES: readonly BundleFileName[] = ['bundle.json', 'model.json', 'weights.bin', 'alphabet.json'];

/** Loads the bundle whose four files are at `base` + name (`base`: a directory URL; a missing trailing '/' is added). */
export async function loadBundleFromUrl(base: string | URL, fetchFn: typeof fetch = fetch): Promise<LoadedBundle> {
  const dir = new URL(
    String(base).endsWith('/') ? String(base) : `${String(base)}/`,
    (globalThis as { location?: { href: string } }).location?.href,
  );
  const where = (name: BundleFileName) => new URL(name, dir).href;
  return loadBundleFrom({
    where,
    label: dir.href,
    async read(name) {
      let res: Response;
      try {
        res = await fetchFn(where(name));
      } catch (err) {
        throw new BundleError(
          `${where(name)}: cannot be fetched (${(err as Error).message}); is the bundle served there?`,
        );
      }
      if (!res.ok)
        throw new BundleError(
          `${where(name)}: HTTP ${res.status} ${res.statusText}; is this a Scriptorium model bundle?`,
        );
      return new Uint8Array(await res.arrayBuffer());
    },
  });
}

/** Loads a bundle from the files a user picked (an <input type=file multiple> or a drop): the four files, by name. */
export async function loadBundleFromFiles(files: Iterable<Blob & { name: string }>): Promise<LoadedBundle> {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const missing = FILES.filter((n) => !byName.has(n));
  if (missing.length) {
    throw new BundleError(
      `the chosen files lack ${missing.join(', ')} (a Scriptorium model bundle is ${FILES.join(', ')}; pick all four)`,
    );
  }
  return loadBundleFrom({
    where: (name) => name,
    label: 'the chosen files',
    read: async (name) => new Uint8Array(await byName.get(name)!.arrayBuffer()),
  });
}
