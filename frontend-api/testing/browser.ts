/**
 * Test support for driving the customer page in a real browser: where Chromium is, and a free port to serve
 * the page on (the events socket checks the page's Origin, so the port must be known before the app is built).
 *
 * @example
 * const executablePath = findChromium();
 * const browser = executablePath ? await chromium.launch({ executablePath }) : undefined;
 */
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';

/** Where Debian, Ubuntu and Chrome put it; `CHROMIUM_PATH` comes first. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** The path of an executable Chromium, or undefined when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH, ...CANDIDATES] : CANDIDATES;
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A port nothing listens on right now. Another process could take it before the caller listens; on a test
 * machine that is rare enough, and the caller fails loudly (EADDRINUSE) if it happens.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port was assigned');
  return address.port;
}
